// The migration records in kMetaPartition and their text encoding (internal).
//
// Every record is ASCII text: a first line a person can read ("ready",
// "migrating up 1->2", "lease"), then "name=value" lines. Values are percent-escaped
// ('%', '\n', '=' and non-printable bytes as %XX), so cursors may hold any byte.
//
// Thread-safety: pure functions.
#ifndef REFKV_MIGRATE_RECORDS_H_
#define REFKV_MIGRATE_RECORDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "migrate/migrate.h"
#include "migrate/nodes.h"

namespace refkv::kv::migrate {

inline constexpr std::string_view kStateKey = "migration/state";
inline constexpr std::string_view kLeaseKey = "migration/lease";
inline constexpr std::string_view kHistoryPrefix = "migration/history/";
inline constexpr std::string_view kKeptPrefix = "migration/kept/";

std::string HistoryKey(int64_t seq);  // kHistoryPrefix + 12-digit seq
std::string KeptKey(std::string_view step_id);

std::string EncodeState(const MigrationState& state);
Result<MigrationState> DecodeState(std::string_view text);

std::string EncodeLease(const LeaseInfo& lease);
Result<LeaseInfo> DecodeLease(std::string_view text);

std::string EncodeHistory(const HistoryEntry& entry);
Result<HistoryEntry> DecodeHistory(std::string_view text);

std::string NodeKey(std::string_view node_id);  // kNodePrefix + id
std::string EncodeNode(const NodeInfo& node);
Result<NodeInfo> DecodeNode(std::string_view key, std::string_view text);

Result<Direction> ParseDirection(std::string_view name);

std::string HostName();     // gethostname, or "unknown"
std::string NewRandomId();  // 16 random hex digits (lease holders, nodes)
int64_t NowMs();            // unix milliseconds (system clock: comparable across processes)

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_RECORDS_H_
