#include "engine/mem/mem_store.h"
#include "engine/store_wrapper.h"
#include "tests/engine/conformance.h"

namespace refkv::kv::testing {
namespace {

struct MemEnv : ConformanceEnv {
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse("mem://"));
    return OpenMemStore(uri, {});
  }
};

// The suite through a kv::StoreWrapper that owns a mem store: a verb the wrapper does
// not forward fails here (tests/engine/store_wrapper_test.cc checks each verb alone).
struct WrappedMemEnv : ConformanceEnv {
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(std::unique_ptr<Store> mem, MemEnv().Open());
    return std::unique_ptr<Store>(std::make_unique<StoreWrapper>(std::move(mem)));
  }
};

INSTANTIATE_TEST_SUITE_P(Mem, StoreConformance,
                         ::testing::Values(EnvCase<MemEnv>("Default"),
                                           EnvCase<WrappedMemEnv>("Wrapped")),
                         ConformanceCaseName);

}  // namespace
}  // namespace refkv::kv::testing
