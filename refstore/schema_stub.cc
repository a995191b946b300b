// Stub of the ref store's schema steps (see refstore/schema.h); replaced on merge with
// branch `steps`.
#include "refstore/schema.h"

namespace refkv::refstore {

Status RegisterSchemaSteps(kv::migrate::StepRegistry& /*registry*/) { return Status::OK(); }

kv::migrate::StepRegistry SchemaSteps() {
  kv::migrate::StepRegistry registry(kSchemaOriginal);
  (void)RegisterSchemaSteps(registry);
  return registry;
}

}  // namespace refkv::refstore
