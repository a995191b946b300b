// The shared conformance suite on the RocksDB driver, in both partition mappings.
#include <memory>

#include "engine/rocks/rocks_store.h"
#include "tests/engine/conformance.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::testing {
namespace {

template <const char* kQuery>
struct RocksEnv {
  refkv::testing::TempDir dir{"rocks-conf"};
  Result<std::unique_ptr<Store>> Open() {
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse("rocks://" + dir.Sub("db") + kQuery));
    return OpenRocksStore(uri, {});
  }
};

constexpr char kCf[] = "";
constexpr char kShared[] = "?partitions=shared";
using RocksCfEnv = RocksEnv<kCf>;
using RocksSharedEnv = RocksEnv<kShared>;

using RocksEnvs = ::testing::Types<RocksCfEnv, RocksSharedEnv>;
INSTANTIATE_TYPED_TEST_SUITE_P(Rocks, StoreConformance, RocksEnvs);

}  // namespace
}  // namespace refkv::kv::testing
