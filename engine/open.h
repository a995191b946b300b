// Opening stores by URI, and the driver registry.
//
//   REFKV_ASSIGN_OR_RETURN(auto store, kv::Open("rocks://./data"));
//
// Open parses the URI (engine/uri.h), finds the driver registered for its scheme,
// opens the store and checks its metadata (format and schema version, store id) in
// kMetaPartition, creating it for a new store.
//
// The mem driver is always registered. The rocks and postgres drivers live in their own
// libraries (refkv::rocks, refkv::postgres): linking one registers its schemes before
// main() (its target adds -Wl,--undefined for the registering object, so a static link
// keeps it). Embedders add their own with RegisterDriver at run time.
//
// Thread-safety: Open and RegisterDriver may be called from any thread.
#ifndef REFKV_ENGINE_OPEN_H_
#define REFKV_ENGINE_OPEN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "engine/uri.h"

namespace refkv::kv {

// The on-disk layout version of the KV layer itself (metadata keys, mappings).
inline constexpr int64_t kFormatVersion = 1;
// The schema version a store starts at when it is created by this code, unless the
// caller says otherwise (the migration runner raises it).
inline constexpr int64_t kInitialSchemaVersion = 1;
// The version of this code, recorded as the last writer of a store.
std::string_view CodeVersion();

struct OpenOptions {
  // Create the store if it does not exist. Otherwise NotFound.
  bool create_if_missing = true;
  // Open without writing anything (no writer-version update). Drivers that support it
  // open read-only.
  bool read_only = false;
  // The schema version this code works with. A store with a newer schema is refused
  // (VersionMismatch); an older one too, unless allow_older_schema.
  int64_t code_schema_version = kInitialSchemaVersion;
  // Let the migration tooling open an older store to upgrade it.
  bool allow_older_schema = false;
  // Let the migration tooling open a store whose migration state is "migrating" (a
  // step running or interrupted) to finish it. Otherwise such a store is refused for
  // writing (VersionMismatch naming the versions and 'refkv migrate up'); read-only
  // opens are always allowed.
  bool allow_migrating = false;
  // Let the loading tools (import, `kv migrate`'s target, `migrate restore`) and the
  // inspecting ones (check, store info, migrate version/status) open a store holding an
  // unfinished load (engine/metadata.h, kMetaPendingLoad). Otherwise every open of such a
  // store, read-only too, is refused (VersionMismatch naming the load and the command
  // that finishes it): its data is half-loaded.
  bool allow_pending_load = false;
  // Skip the metadata check entirely (recovery tools, tests of the drivers alone).
  bool skip_metadata = false;
};

// Opens a store of the driver named by the URI's scheme. Only called by Open.
// The factory must not touch kMetaPartition semantics; Open does that.
using DriverFactory =
    std::function<Result<std::unique_ptr<Store>>(const Uri& uri, const OpenOptions& options)>;

// Registers `factory` for URIs with `scheme`. AlreadyExists if the scheme is taken.
Status RegisterDriver(std::string_view scheme, DriverFactory factory);

// The registered schemes, sorted.
std::vector<std::string> RegisteredDrivers();

// Opens the store named by `uri` (see engine/uri.h).
// InvalidArgument: malformed URI or parameter. NotFound: unknown driver (or one whose
// library is not linked: the message names it), or a missing
// store with !create_if_missing. Busy: held by another process (the message names the
// holder's pid when known). VersionMismatch: format or schema newer than this code, or
// an older schema without allow_older_schema (the message names both versions), a store
// mid-migration (writing) or holding an unfinished load (unless allowed; the message
// names the command that finishes it).
// Corruption: metadata unreadable.
Result<std::unique_ptr<Store>> Open(std::string_view uri, const OpenOptions& options = {});

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_OPEN_H_
