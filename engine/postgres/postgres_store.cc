#include "engine/postgres/postgres_store.h"

namespace refkv::kv {

Result<std::unique_ptr<Store>> OpenPostgresStore(const Uri& uri, const OpenOptions&) {
  return Status::Unsupported("postgres driver not built yet: " + uri.raw);
}

}  // namespace refkv::kv
