#include "engine/rocks/rocks_store.h"

namespace refkv::kv {

Result<std::unique_ptr<Store>> OpenRocksStore(const Uri& uri, const OpenOptions&) {
  return Status::Unsupported("rocks driver not built yet: " + uri.raw);
}

}  // namespace refkv::kv
