// The PostgreSQL driver ("postgres://..."): the scale-out path.
#ifndef REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_
#define REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

Result<std::unique_ptr<Store>> OpenPostgresStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_
