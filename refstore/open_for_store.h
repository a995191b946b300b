// Opening a ref store on a kv::Store with the default place for its committed data, so
// the CLI and embedders agree on where ranges live:
//   rocks://PATH   a directory range store at PATH/ranges (RocksDB ignores a
//                  subdirectory it did not create; the ranges travel with the store
//                  directory when it is copied or moved);
//   anything else  (mem, postgres) a KV range store inside the store itself, partition
//                  kRangesPartition, so nodes sharing a database share committed data.
//
// Thread-safety: the functions are thread-safe; the returned OpenedRefStore is as
// thread-safe as RefStore (refstore/refstore.h).
#ifndef REFKV_REFSTORE_OPEN_FOR_STORE_H_
#define REFKV_REFSTORE_OPEN_FOR_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/store.h"
#include "refstore/committed/range_store.h"
#include "refstore/refstore.h"

namespace refkv::refstore {

// The partition of the KV range store used by default (mem, postgres).
inline constexpr std::string_view kRangesPartition = "refstore.ranges";

// A ref store with the range store it uses. `refs` is destroyed before `ranges`.
struct OpenedRefStore {
  std::unique_ptr<RangeStore> ranges;
  std::unique_ptr<RefStore> refs;
};

// The directory of the default range store for store URI `uri`: "PATH/ranges" for
// rocks://PATH, empty for drivers whose ranges live inside the store.
// InvalidArgument if `uri` does not parse.
Result<std::string> DefaultRangeDir(std::string_view uri);

// Opens the ref store on `store` (opened from `uri`), with the default range store.
// `store` is borrowed and must outlive the result. Writes nothing except creating the
// range directory (rocks) if it is missing. Errors: InvalidArgument (uri), IOError (the
// range directory cannot be created).
Result<OpenedRefStore> OpenForStore(kv::Store& store, std::string_view uri, Options options = {});

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_OPEN_FOR_STORE_H_
