// The shared conformance suite on the RocksDB driver, in both partition mappings, with
// the io_uring file system on and forced off.
#include <memory>

#include "engine/rocks/rocks_store.h"
#include "tests/engine/conformance.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::testing {
namespace {

template <const char* kQuery>
struct RocksEnv : ConformanceEnv {
  refkv::testing::TempDir dir{"rocks-conf"};
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse("rocks://" + dir.Sub("db") + kQuery));
    return OpenRocksStore(uri, {});
  }
};

constexpr char kCf[] = "";
constexpr char kShared[] = "?partitions=shared";
// Direct reads and a tiny block cache: reads go to the files through the io_uring
// file system (io/rocks_fs.h), and through RocksDB's own pread path when forced off.
constexpr char kCfUringDirect[] = "?direct_reads=true&block_cache_mb=1&io_uring=true";
constexpr char kSharedPreadDirect[] =
    "?partitions=shared&direct_reads=true&block_cache_mb=1&io_uring=false";
INSTANTIATE_TEST_SUITE_P(
    Rocks, StoreConformance,
    ::testing::Values(EnvCase<RocksEnv<kCf>>("Cf"), EnvCase<RocksEnv<kShared>>("Shared"),
                      EnvCase<RocksEnv<kCfUringDirect>>("CfUringDirect"),
                      EnvCase<RocksEnv<kSharedPreadDirect>>("SharedPreadDirect")),
    ConformanceCaseName);

}  // namespace
}  // namespace refkv::kv::testing
