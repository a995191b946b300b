// Store URIs: "<driver>://<location>[?name=value&...]".
//
//   mem://                       a fresh in-memory store
//   mem://NAME                   (the name is informational only)
//   rocks://PATH                 RocksDB at PATH, relative ("rocks://./data", "rocks://data")
//                                or absolute ("rocks:///var/lib/refkv")
//   rocks://PATH?partitions=shared&sync=true
//   postgres://user@host/db?... / postgresql://...   handed to libpq as written
//   dynamodb://TABLE?endpoint=URL&region=R&...        engine/dynamodb/dynamodb_store.h
//
// Thread-safety: a value type.
#ifndef REFKV_ENGINE_URI_H_
#define REFKV_ENGINE_URI_H_

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace refkv::kv {

struct Uri {
  std::string raw;                            // the URI as given
  std::string scheme;                         // lower-case driver name, "rocks"
  std::string location;                       // between "://" and "?", percent-decoded
  std::map<std::string, std::string> params;  // the query, percent-decoded

  // The value of parameter `name`, or `fallback`.
  std::string Param(std::string_view name, std::string_view fallback = {}) const;
  // A boolean parameter: "1", "true", "yes", "on" / "0", "false", "no", "off".
  // InvalidArgument naming the parameter for anything else.
  Result<bool> BoolParam(std::string_view name, bool fallback) const;

  // Parses `uri`. InvalidArgument (naming the offending part and its byte offset) if it
  // has no "<scheme>://", an empty or non-alphanumeric scheme, a malformed query, a bad
  // percent escape, or a NUL byte anywhere - literal or percent-encoded (%00), in the
  // location or the query, for every driver (C APIs would cut the string there).
  // For rocks://, whose location is a file-system path, also: a percent-encoded '/'
  // (%2F), a percent-encoded "." or ".." segment (%2e, %2e%2e), and a ".." after a
  // directory name ("rocks:///a/../b" would create /a). A path relative to the working
  // directory or its parents stays valid: "rocks://./data", "rocks://../data",
  // "rocks://../../x/data", as do "." segments inside a path.
  static Result<Uri> Parse(std::string_view uri);
};

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_URI_H_
