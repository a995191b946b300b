#include "engine/mem/mem_store.h"
#include "tests/engine/conformance.h"

namespace refkv::kv::testing {
namespace {

struct MemEnv {
  Result<std::unique_ptr<Store>> Open() {
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse("mem://"));
    return OpenMemStore(uri, {});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Mem, StoreConformance, ::testing::Types<MemEnv>);

}  // namespace
}  // namespace refkv::kv::testing
