// The RocksDB driver ("rocks://PATH"): the embedded default.
#ifndef REFKV_ENGINE_ROCKS_ROCKS_STORE_H_
#define REFKV_ENGINE_ROCKS_ROCKS_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

Result<std::unique_ptr<Store>> OpenRocksStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_ROCKS_ROCKS_STORE_H_
