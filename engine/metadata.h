// Store metadata: the facts kept in kMetaPartition of every refkv store.
//
// Keys (values are ASCII): "store_id" (random 128-bit hex), "format_version",
// "schema_version", "writer_version" (code version that last opened it for writing),
// "created_at" (unix seconds). The migration runner adds its own keys under "migration/";
// an unfinished load (import, store copy, dump restore) is recorded in "load/pending".
//
// Thread-safety: the functions are safe to call concurrently; initialisation of a new
// store uses SetIf(absent) so racing openers (PostgreSQL nodes) agree on one store id.
#ifndef REFKV_ENGINE_METADATA_H_
#define REFKV_ENGINE_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "engine/open.h"
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
// The migration runner's state record (migrate/migrate.h); its first line is "ready" or
// "migrating <up|down> N->M step ID".
inline constexpr std::string_view kMetaMigrationState = "migration/state";

// An import, store copy or dump restore that started writing into the store and has not
// finished (format/dump.h, format/sst.h, format/copy.h, migrate/backup.h). The loader
// writes it (SetIf absent, then Store::Sync) before its first write and deletes it only
// after its last write is durable, so a load killed part way leaves it behind. While it
// exists, Open refuses the store (read-only opens too) unless
// OpenOptions::allow_pending_load (the loading and inspecting tools); `refkv check`
// reports it; a rerun of the same load (same identity) finishes the load and deletes it.
inline constexpr std::string_view kMetaPendingLoad = "load/pending";

struct PendingLoad {
  std::string what;        // for messages: "import of /x/a.dump", "copy from rocks:///x"
  std::string identity;    // what a rerun of the same load matches: "dump-import <checksum>"
  std::string mode;        // the load's conflict mode ("fail", "skip", "overwrite"; "" none)
  std::string resume;      // the command that finishes it: "refkv import /x/a.dump"
  int64_t started_at = 0;  // unix seconds
  std::string writer;      // the code version that started it
};

// The record's value: one "field value" line per field, '\\' and '\n' escaped.
std::string EncodePendingLoad(const PendingLoad& load);
// Corruption (naming the key) if `value` is malformed or lacks identity, what or resume.
Result<PendingLoad> DecodePendingLoad(std::string_view value);
// The store's pending load, std::nullopt if none; Corruption if the record is malformed.
Result<std::optional<PendingLoad>> ReadPendingLoad(Store& store);
// One line for errors and `check`: "store has an unfinished import of X (started
// 2026-12-02 08:52:45 UTC): run `refkv import X` again to finish it".
std::string DescribePendingLoad(const PendingLoad& load);

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
