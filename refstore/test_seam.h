// refstore/test_seam.h: what tests of the ref store may do that an embedder never should.
// Not part of the public API (refstore/refstore.h), so that Options holds only what a
// caller may set.
#ifndef REFKV_REFSTORE_TEST_SEAM_H_
#define REFKV_REFSTORE_TEST_SEAM_H_

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "refstore/refstore.h"

namespace refkv::refstore::test_seam {

// RefStore::Open as an older refkv would: the node reports `code_schema` (instead of
// kCodeSchema, refstore/schema.h), fences against it and checks it at each commit.
Result<std::unique_ptr<RefStore>> OpenAsCodeSchema(kv::Store& store, RangeStore& ranges,
                                                   const Options& options, int64_t code_schema);

}  // namespace refkv::refstore::test_seam

#endif  // REFKV_REFSTORE_TEST_SEAM_H_
