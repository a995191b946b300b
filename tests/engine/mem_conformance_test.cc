#include "engine/mem/mem_store.h"
#include "tests/engine/conformance.h"

namespace refkv::kv::testing {
namespace {

struct MemEnv : ConformanceEnv {
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse("mem://"));
    return OpenMemStore(uri, {});
  }
};

INSTANTIATE_TEST_SUITE_P(Mem, StoreConformance, ::testing::Values(EnvCase<MemEnv>("Default")),
                         ConformanceCaseName);

}  // namespace
}  // namespace refkv::kv::testing
