// migrate/test_seam.h: what tests of the migration runner may change that an embedder
// never should. Not part of the public API (migrate/migrate.h): the knobs live here so
// that RunOptions holds only what a caller may set.
#ifndef REFKV_MIGRATE_TEST_SEAM_H_
#define REFKV_MIGRATE_TEST_SEAM_H_

#include "engine/store.h"

namespace refkv::kv::migrate::test_seam {

// While alive, every run (Up, Down, Cleanup, RunUnderLease) called on the Store object
// `store` holds its lease without renewing it, as a stalled holder (a SIGSTOP, a long
// pause) would. Runs on any other Store object renew as usual, including another
// kv::StoreWrapper around the same store: a test gives the stalled run its own wrapper.
// Guards must not overlap for one store.
class StalledLease {
 public:
  explicit StalledLease(const Store& store);
  ~StalledLease();
  StalledLease(const StalledLease&) = delete;
  StalledLease& operator=(const StalledLease&) = delete;

 private:
  const Store* store_;
};

// For the runner: false while a StalledLease guards `store`.
bool RenewsLease(const Store& store);

}  // namespace refkv::kv::migrate::test_seam

#endif  // REFKV_MIGRATE_TEST_SEAM_H_
