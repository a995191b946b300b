#include "engine/metadata.h"

#include <charconv>
#include <chrono>
#include <ctime>
#include <random>
#include <utility>
#include <vector>

#include "base/hex.h"
#include "base/random.h"

namespace refkv::kv {
namespace {

Result<int64_t> ParseInt(std::string_view key, const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::Corruption("store metadata: key '" + std::string(key) + "' in partition '" +
                              std::string(kMetaPartition) + "' is not an integer: '" +
                              Printable(text) + "'");
  }
  return value;
}

Result<std::string> GetRequired(Store& store, std::string_view key) {
  auto value = store.Get(kMetaPartition, key);
  if (value.status().IsNotFound()) {
    return Status::Corruption("store metadata: key '" + std::string(key) + "' missing in '" +
                              std::string(kMetaPartition) + "'");
  }
  return value;
}

std::string NewStoreId() {
  std::mt19937_64& gen = ThreadRng();
  uint64_t a = gen(), b = gen();
  return HexUint64(a) + HexUint64(b);
}

// Writes `key` if absent; a racing opener that wrote first wins and that is fine.
Status SetIfAbsent(Store& store, std::string_view key, std::string_view value) {
  Status s = store.SetIf(kMetaPartition, key, value, Predicate::Absent());
  return s.IsPredicateFailed() ? Status::OK() : s;
}

// The pending-load record's fields, in the order they are written.
constexpr std::string_view kLoadFields[] = {"what",   "identity",   "mode",
                                            "resume", "started_at", "writer"};

std::string* LoadField(PendingLoad& load, std::string_view name) {
  if (name == "what") return &load.what;
  if (name == "identity") return &load.identity;
  if (name == "mode") return &load.mode;
  if (name == "resume") return &load.resume;
  if (name == "writer") return &load.writer;
  return nullptr;
}

Status BadLoadRecord(const std::string& what) {
  return Status::Corruption("store metadata: key '" + std::string(kMetaPendingLoad) +
                            "' in partition '" + std::string(kMetaPartition) + "' " + what);
}

}  // namespace

std::string EncodePendingLoad(const PendingLoad& load) {
  PendingLoad copy = load;
  std::string started = std::to_string(load.started_at);
  std::string out;
  for (std::string_view name : kLoadFields) {
    const std::string* value = name == "started_at" ? &started : LoadField(copy, name);
    out += name;
    out += ' ';
    for (char c : *value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '\n';
  }
  return out;
}

Result<PendingLoad> DecodePendingLoad(std::string_view value) {
  PendingLoad load;
  size_t at = 0;
  while (at < value.size()) {
    size_t end = value.find('\n', at);
    if (end == std::string_view::npos) return BadLoadRecord("has an unterminated line");
    std::string_view line = value.substr(at, end - at);
    at = end + 1;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return BadLoadRecord("has a line without a value");
    std::string text;
    for (size_t i = space + 1; i < line.size(); ++i) {
      if (line[i] != '\\') {
        text += line[i];
      } else if (i + 1 < line.size() && (line[i + 1] == '\\' || line[i + 1] == 'n')) {
        text += line[++i] == 'n' ? '\n' : '\\';
      } else {
        return BadLoadRecord("has a bad escape");
      }
    }
    std::string_view name = line.substr(0, space);
    if (name == "started_at") {
      REFKV_ASSIGN_OR_RETURN(load.started_at, ParseInt(kMetaPendingLoad, text));
    } else if (std::string* field = LoadField(load, name)) {
      *field = std::move(text);
    }  // unknown fields: written by a newer release, not needed to finish or describe it
  }
  if (load.identity.empty() || load.what.empty() || load.resume.empty()) {
    return BadLoadRecord("lacks identity, what or resume");
  }
  return load;
}

Result<std::optional<PendingLoad>> ReadPendingLoad(Store& store) {
  auto value = store.Get(kMetaPartition, kMetaPendingLoad);
  if (value.status().IsNotFound()) return std::optional<PendingLoad>();
  if (!value.ok()) return value.status();
  REFKV_ASSIGN_OR_RETURN(PendingLoad load, DecodePendingLoad(*value));
  return std::optional<PendingLoad>(std::move(load));
}

std::string DescribePendingLoad(const PendingLoad& load) {
  std::time_t t = static_cast<std::time_t>(load.started_at);
  std::tm tm{};
  char when[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return "store has an unfinished " + load.what + " (started " + when + "): run `" + load.resume +
         "` again to finish it";
}

Result<StoreMetadata> ReadMetadata(Store& store) {
  auto id = store.Get(kMetaPartition, kMetaStoreId);
  if (!id.ok()) {
    if (id.status().IsNotFound()) return Status::NotFound("store has no refkv metadata");
    return id.status();
  }
  StoreMetadata md;
  md.store_id = *id;
  REFKV_ASSIGN_OR_RETURN(std::string format, GetRequired(store, kMetaFormatVersion));
  REFKV_ASSIGN_OR_RETURN(md.format_version, ParseInt(kMetaFormatVersion, format));
  REFKV_ASSIGN_OR_RETURN(std::string schema, GetRequired(store, kMetaSchemaVersion));
  REFKV_ASSIGN_OR_RETURN(md.schema_version, ParseInt(kMetaSchemaVersion, schema));
  auto writer = store.Get(kMetaPartition, kMetaWriterVersion);
  if (writer.ok()) md.writer_version = *writer;
  auto created = store.Get(kMetaPartition, kMetaCreatedAt);
  if (created.ok()) {
    REFKV_ASSIGN_OR_RETURN(md.created_at, ParseInt(kMetaCreatedAt, *created));
  }
  return md;
}

Result<StoreMetadata> InitOrCheckMetadata(Store& store, const OpenOptions& options) {
  auto existing = ReadMetadata(store);
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  if (!existing.ok()) {
    if (options.read_only) return Status::NotFound("store has no refkv metadata (read-only open)");
    // Order matters: store_id goes last, so a reader that sees an id sees the rest.
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    REFKV_RETURN_IF_ERROR(SetIfAbsent(store, kMetaFormatVersion, std::to_string(kFormatVersion)));
    REFKV_RETURN_IF_ERROR(
        SetIfAbsent(store, kMetaSchemaVersion, std::to_string(options.code_schema_version)));
    REFKV_RETURN_IF_ERROR(SetIfAbsent(store, kMetaCreatedAt, std::to_string(now)));
    REFKV_RETURN_IF_ERROR(store.Set(kMetaPartition, kMetaWriterVersion, CodeVersion()));
    REFKV_RETURN_IF_ERROR(SetIfAbsent(store, kMetaStoreId, NewStoreId()));
    return ReadMetadata(store);
  }
  StoreMetadata md = std::move(existing).value();
  if (md.format_version > kFormatVersion) {
    return Status::VersionMismatch("store format version " + std::to_string(md.format_version) +
                                   " is newer than this refkv (" + std::string(CodeVersion()) +
                                   ") supports (" + std::to_string(kFormatVersion) +
                                   "); last written by refkv " + md.writer_version +
                                   ": use that version or newer");
  }
  if (md.schema_version > options.code_schema_version) {
    return Status::VersionMismatch("store schema version " + std::to_string(md.schema_version) +
                                   " is newer than this refkv (" + std::string(CodeVersion()) +
                                   ") supports (" + std::to_string(options.code_schema_version) +
                                   "); last written by refkv " + md.writer_version +
                                   ": use that version or newer");
  }
  if (!options.read_only && !options.allow_migrating) {
    auto state = store.Get(kMetaPartition, kMetaMigrationState);
    if (!state.ok() && !state.status().IsNotFound()) return state.status();
    if (state.ok() && state->rfind("migrating", 0) == 0) {
      std::string line = state->substr(0, state->find('\n'));
      return Status::VersionMismatch("store is mid-migration (" + line + ", schema_version " +
                                     std::to_string(md.schema_version) +
                                     "): run 'refkv migrate up' to finish it (or 'refkv migrate "
                                     "down --to N' to go back)");
    }
  }
  if (!options.allow_pending_load) {
    // Every open, read-only too: the store's data is half-loaded.
    REFKV_ASSIGN_OR_RETURN(std::optional<PendingLoad> load, ReadPendingLoad(store));
    if (load) return Status::VersionMismatch(DescribePendingLoad(*load));
  }
  if (md.schema_version < options.code_schema_version && !options.allow_older_schema) {
    return Status::VersionMismatch("store schema version " + std::to_string(md.schema_version) +
                                   " is older than this refkv's schema " +
                                   std::to_string(options.code_schema_version) +
                                   ": run 'refkv migrate up' first");
  }
  if (!options.read_only && md.writer_version != CodeVersion()) {
    REFKV_RETURN_IF_ERROR(store.Set(kMetaPartition, kMetaWriterVersion, CodeVersion()));
    md.writer_version = std::string(CodeVersion());
  }
  return md;
}

Status SetSchemaVersion(Store& store, int64_t expected, int64_t next) {
  return store.SetIf(kMetaPartition, kMetaSchemaVersion, std::to_string(next),
                     Predicate::Equals(std::to_string(expected)));
}

}  // namespace refkv::kv
