// Shared set-up and invariant checks for the ref store tests.
//
// A TestEnv is one kv::Store of a driver ("mem", "rocks" or "postgres"), an FaultStore
// in front of it (the ref store and the range store see only that), a range store and a
// RefStore. On "postgres" each env is a fresh schema in the test binary's shared throwaway
// server (tests/support/pg_server.h; $REFKV_TEST_POSTGRES to use another), so tests never
// see each other's data; the server stops when the binary ends.
#ifndef REFKV_TESTS_REFSTORE_HARNESS_H_
#define REFKV_TESTS_REFSTORE_HARNESS_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "engine/store.h"
#include "refstore/committed/range_store.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"
#include "tests/support/fault_store.h"
#include "tests/support/status_assert.h"
#include "tests/support/temp_dir.h"

namespace refkv::testing {

struct TestEnv {
  std::string driver;
  std::string uri;  // of `base` (another process may open the same store with it)
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<kv::Store> base;
  std::unique_ptr<FaultStore> store;
  std::unique_ptr<refstore::RangeStore> ranges;
  std::unique_ptr<refstore::RefStore> refs;

  // Replaces `refs` by a new RefStore on the same stores (a restarted process).
  Status Reopen(const refstore::Options& options);
};

// Opens a fresh env. Unsupported if the driver is not available in this build (the test
// then skips). The range store lives in the KV store behind the interposer, so injected
// faults reach it too.
// A new store starts at `schema` (default: this code's, every index and two-level trees).
Status OpenEnv(const std::string& driver, const refstore::Options& options, TestEnv* env,
               int64_t schema = refstore::kCodeSchema);

// Options for tests: no grace (nothing runs concurrently with the cleaner), short backoff.
refstore::Options TestOptions();

// Every active repository resolves completely: each branch and tag names a commit, the
// whole log of each resolves, every entry at each branch and tag can be listed.
void ExpectConsistent(refstore::RefStore& refs);

// No leftovers (call after CollectGarbage with gc_grace 0 and nothing running): only
// partitions of active repositories, only staging tokens some branch references, only
// metaranges some commit record names and only ranges those reach; every commit index key
// ("a/", "k/") has its record and every record its index keys (at the store's schema).
void ExpectNoLeftovers(kv::Store& base, refstore::RangeStore& ranges);

// Every entry at `ref`, read page by page.
std::map<std::string, std::string> AllEntries(refstore::RefStore& refs, const std::string& repo,
                                              const std::string& ref, size_t page = 1000);

// The drivers to run on (gtest parameter values): mem, rocks, postgres.
std::vector<std::string> Drivers();

// A store URI for `driver`: mem://, a rocks directory under `dir`, or a fresh schema in
// the shared PostgreSQL server.
Result<std::string> DriverUri(const std::string& driver, const TempDir& dir);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_REFSTORE_HARNESS_H_
