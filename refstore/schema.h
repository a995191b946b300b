// The ref store's schema versions and the migration steps between them.
//
// STUB on branch `wire`: the steps are written on branch `steps`, whose refstore/schema.h
// replaces this file (and refstore/schema_stub.cc goes away). Until then the ref store
// registers no steps: its schema is the base schema 1.
//
// Thread-safety: RegisterSchemaSteps is a pure function of its argument.
#ifndef REFKV_REFSTORE_SCHEMA_H_
#define REFKV_REFSTORE_SCHEMA_H_

#include <cstdint>

#include "engine/migrate.h"
#include "engine/status.h"

namespace refkv::refstore {

inline constexpr int64_t kSchemaOriginal = 1;

// Adds the ref store's steps to `registry` (none in this stub). The errors of
// StepRegistry::Add.
Status RegisterSchemaSteps(kv::migrate::StepRegistry& registry);
// A registry holding exactly the ref store's steps (base schema 1).
kv::migrate::StepRegistry SchemaSteps();

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_SCHEMA_H_
