// The one place where refkv's built-in drivers are registered (not static
// initialisers: a static library's link would drop them).
#include <mutex>

#include "engine/mem/mem_store.h"
#include "engine/open.h"
#include "engine/postgres/postgres_store.h"
#include "engine/rocks/rocks_store.h"

namespace refkv::kv {

void RegisterBuiltinDrivers() {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)RegisterDriver("mem", OpenMemStore);
    (void)RegisterDriver("rocks", OpenRocksStore);
    (void)RegisterDriver("rocksdb", OpenRocksStore);
    (void)RegisterDriver("postgres", OpenPostgresStore);
    (void)RegisterDriver("postgresql", OpenPostgresStore);
  });
}

}  // namespace refkv::kv
