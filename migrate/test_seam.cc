#include "migrate/test_seam.h"

#include <mutex>
#include <set>

namespace refkv::kv::migrate::test_seam {
namespace {

std::mutex& Mu() {
  static auto* mu = new std::mutex;
  return *mu;
}

std::set<const Store*>& Stalled() {
  static auto* stalled = new std::set<const Store*>;
  return *stalled;
}

}  // namespace

StalledLease::StalledLease(const Store& store) : store_(&store) {
  std::lock_guard lock(Mu());
  Stalled().insert(store_);
}

StalledLease::~StalledLease() {
  std::lock_guard lock(Mu());
  Stalled().erase(store_);
}

bool RenewsLease(const Store& store) {
  std::lock_guard lock(Mu());
  return Stalled().count(&store) == 0;
}

}  // namespace refkv::kv::migrate::test_seam
