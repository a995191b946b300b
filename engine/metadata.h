// Store metadata: the facts kept in kMetaPartition of every refkv store.
//
// Keys (values are ASCII): "store_id" (random 128-bit hex), "format_version",
// "schema_version", "writer_version" (code version that last opened it for writing),
// "created_at" (unix seconds). The migration runner adds its own keys under "migration/".
//
// Thread-safety: the functions are safe to call concurrently; initialisation of a new
// store uses SetIf(absent) so racing openers (PostgreSQL nodes) agree on one store id.
#ifndef REFKV_ENGINE_METADATA_H_
#define REFKV_ENGINE_METADATA_H_

#include <cstdint>
#include <string>

#include "engine/open.h"
#include "engine/result.h"
#include "engine/store.h"

namespace refkv::kv {

struct StoreMetadata {
  std::string store_id;
  int64_t format_version = 0;
  int64_t schema_version = 0;
  std::string writer_version;
  int64_t created_at = 0;
};

inline constexpr std::string_view kMetaStoreId = "store_id";
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
inline constexpr std::string_view kMetaWriterVersion = "writer_version";
inline constexpr std::string_view kMetaCreatedAt = "created_at";
// The migration runner's state record (engine/migrate.h); its first line is "ready" or
// "migrating <up|down> N->M step ID".
inline constexpr std::string_view kMetaMigrationState = "migration/state";

// Reads the metadata. NotFound if the store has none (new or not a refkv store);
// Corruption (naming the key) if a field is missing or malformed.
Result<StoreMetadata> ReadMetadata(Store& store);

// Initialises the metadata of a new store, or checks an existing one against
// `options` (see Open for the errors). Returns the metadata in force.
Result<StoreMetadata> InitOrCheckMetadata(Store& store, const OpenOptions& options);

// Sets the schema version (migration runner). `expected` must be the current value:
// a CaS, PredicateFailed if another process changed it.
Status SetSchemaVersion(Store& store, int64_t expected, int64_t next);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_METADATA_H_
