// Synthetic migration steps and helpers for the runner's tests.
//
// Schema 1: partition "data": key -> "A:" + payload.
// Step "format-b" (1->2): writes "data_b": key -> "B:" + reversed payload, beside "data"
//   (kept until cleanup, which drops "data" after up and "data_b" after down).
// Step "index" (2->3): writes "index": payload + "\0" + key -> key; down drops it.
// Step "seal" (3->4, optional): irreversible; writes "sealed".
#ifndef REFKV_TESTS_ENGINE_MIGRATE_SYNTHETIC_H_
#define REFKV_TESTS_ENGINE_MIGRATE_SYNTHETIC_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/store.h"
#include "migrate/migrate.h"

namespace refkv::kv::migrate::testing {

using Content = std::map<std::string, std::string>;                      // key -> payload
using Dump = std::map<std::string, std::map<std::string, std::string>>;  // every partition

struct SyntheticOptions {
  int batch = 20;
  int sleep_us_per_batch = 0;
  // Called before each batch with the step id and batch number (of this call); a
  // non-OK status makes the step fail with it.
  std::function<Status(const std::string& step, int batch)> on_batch;
  bool with_seal = false;            // add step 3->4 (irreversible)
  int64_t seal_min_start = 0;        // its min_start_version
  std::string format_b_fingerprint;  // "" default
};

StepRegistry MakeRegistry(const SyntheticOptions& options = {});

// Writes `rows` entries of schema 1 into "data". Deterministic.
Status Populate(Store& store, int rows);
Content Expected(int rows);

// The logical content at the store's schema (1: "data", 2+: "data_b"); at 3+ it also
// checks that "index" matches exactly (a failure is a non-OK Status).
Result<Content> LogicalContent(Store& store);
// Every partition, kMetaPartition included (or excluded).
Result<Dump> DumpAll(Store& store, bool include_meta = true);

}  // namespace refkv::kv::migrate::testing

#endif  // REFKV_TESTS_ENGINE_MIGRATE_SYNTHETIC_H_
