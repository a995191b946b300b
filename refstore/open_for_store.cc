#include "refstore/open_for_store.h"

#include "engine/uri.h"
#include "refstore/schema.h"

namespace refkv::refstore {

static_assert(kRangesPartition == kDefaultRangesPartition,
              "the schema steps must convert the partition the CLI keeps ranges in");

Result<std::string> DefaultRangeDir(std::string_view uri) {
  REFKV_ASSIGN_OR_RETURN(kv::Uri parsed, kv::Uri::Parse(uri));
  if (parsed.scheme != "rocks") return std::string();
  std::string dir = parsed.location;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/ranges";
}

Result<OpenedRefStore> OpenForStore(kv::Store& store, const OpenForStoreOptions& options) {
  const std::string& dir = options.range_dir;
  OpenedRefStore opened;
  if (dir.empty()) {
    REFKV_ASSIGN_OR_RETURN(opened.ranges, OpenKvRangeStore(store, std::string(kRangesPartition)));
  } else {
    REFKV_ASSIGN_OR_RETURN(opened.ranges, OpenDirRangeStore(dir));
  }
  REFKV_ASSIGN_OR_RETURN(opened.refs, RefStore::Open(store, *opened.ranges, options.refstore));
  return opened;
}

}  // namespace refkv::refstore
