// The range store the committed-data tests run on, by test parameter: "dir" (files under
// a directory) or "kv" (a fresh mem:// kv::Store, owned here beside the range store).
#ifndef REFKV_TESTS_REFSTORE_COMMITTED_TEST_RANGE_STORE_H_
#define REFKV_TESTS_REFSTORE_COMMITTED_TEST_RANGE_STORE_H_

#include <memory>
#include <string>

#include "base/result.h"
#include "engine/open.h"
#include "refstore/committed/range_store.h"

namespace refkv::refstore {

struct TestRangeStore {
  std::unique_ptr<kv::Store> kv;  // null for "dir"; outlives `ranges` in the fixtures
  std::unique_ptr<RangeStore> ranges;
};

// `kind` "dir": a directory range store at `dir`; otherwise a KV range store in the
// partition "refstore.ranges" of the store at `mem_uri`.
inline Result<TestRangeStore> OpenTestRangeStore(const std::string& kind, const std::string& dir,
                                                 const std::string& mem_uri) {
  TestRangeStore out;
  if (kind == "dir") {
    REFKV_ASSIGN_OR_RETURN(out.ranges, OpenDirRangeStore(dir));
    return out;
  }
  REFKV_ASSIGN_OR_RETURN(out.kv, kv::Open(mem_uri));
  REFKV_ASSIGN_OR_RETURN(out.ranges, OpenKvRangeStore(*out.kv, "refstore.ranges"));
  return out;
}

}  // namespace refkv::refstore

#endif  // REFKV_TESTS_REFSTORE_COMMITTED_TEST_RANGE_STORE_H_
