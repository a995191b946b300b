#include "engine/open.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "engine/mem/mem_store.h"
#include "engine/metadata.h"

#ifndef REFKV_VERSION
#define REFKV_VERSION "0.0.0-dev"
#endif

namespace refkv::kv {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, DriverFactory, std::less<>> factories;
};

Registry& GlobalRegistry() {
  // Never destroyed: drivers register from static initialisers and opens run until exit.
  static Registry* registry = [] {
    auto* r = new Registry();
    r->factories.emplace("mem", OpenMemStore);
    return r;
  }();
  return *registry;
}

// The drivers that live in their own libraries, for the hint when one is not linked in.
std::string_view LibraryOf(std::string_view scheme) {
  if (scheme == "rocks" || scheme == "rocksdb") return "refkv::rocks (refkv_rocks)";
  if (scheme == "postgres" || scheme == "postgresql") return "refkv::postgres (refkv_postgres)";
  return {};
}

}  // namespace

std::string_view CodeVersion() { return REFKV_VERSION; }

Status RegisterDriver(std::string_view scheme, DriverFactory factory) {
  if (scheme.empty()) return Status::InvalidArgument("RegisterDriver: empty scheme");
  Registry& registry = GlobalRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto [it, inserted] = registry.factories.emplace(std::string(scheme), std::move(factory));
  if (!inserted) {
    return Status::AlreadyExists("a driver is already registered for '" + std::string(scheme) +
                                 "://'");
  }
  return Status::OK();
}

std::vector<std::string> RegisteredDrivers() {
  Registry& registry = GlobalRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  std::vector<std::string> out;
  for (const auto& [scheme, factory] : registry.factories) out.push_back(scheme);
  return out;
}

Result<std::unique_ptr<Store>> Open(std::string_view uri, const OpenOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(uri));
  DriverFactory factory;
  {
    Registry& registry = GlobalRegistry();
    std::lock_guard<std::mutex> lock(registry.mu);
    auto it = registry.factories.find(parsed.scheme);
    if (it == registry.factories.end()) {
      std::string known;
      for (const auto& [scheme, f] : registry.factories)
        known += (known.empty() ? "" : ", ") + scheme;
      std::string hint;
      if (auto library = LibraryOf(parsed.scheme); !library.empty())
        hint = "; link " + std::string(library) + " to use it";
      return Status::NotFound("unknown store driver '" + parsed.scheme + "' in '" +
                              std::string(uri) + "' (known: " + known + ")" + hint);
    }
    factory = it->second;
  }
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, factory(parsed, options));
  if (!options.skip_metadata) {
    auto metadata = InitOrCheckMetadata(*store, options);
    if (!metadata.ok()) {
      (void)store->Close();
      return metadata.status();
    }
  }
  return store;
}

}  // namespace refkv::kv
