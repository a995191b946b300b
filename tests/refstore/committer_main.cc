// refstore_committer: one committer process of the cross-process test
// (multiprocess_test.cc). Usage:
//
//   refstore_committer URI REPO BRANCH TAG N
//
// Opens the ref store on URI (ranges in the store's "refkv.ranges" partition, as the test
// harness does) and N times stages the unique path "TAG/<i>" = "v<i>" on BRANCH and
// commits it. For every call it prints one line to stdout:
//
//   <path> <result> <commit id or -> <attempts>
//
// result: committed, concurrently (another call's commit took the write), nochanges,
// conflict (gave up after every retry: the write stays staged), or error:<code> (the
// put or commit failed otherwise; the message goes to stderr). Exit 0 once all N calls
// ran, 2 on bad arguments, 1 if the store could not be opened.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/open.h"
#include "refstore/committed/range_store.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"

namespace rs = refkv::refstore;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s URI REPO BRANCH TAG N\n", argv[0]);
    return 2;
  }
  const std::string uri = argv[1], repo = argv[2], branch = argv[3], tag = argv[4];
  const int n = std::atoi(argv[5]);
  refkv::kv::OpenOptions open;  // the schema the test harness creates stores at
  open.code_schema_version = refkv::refstore::kCodeSchema;
  auto store = refkv::kv::Open(uri, open);
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", uri.c_str(), store.status().ToString().c_str());
    return 1;
  }
  auto ranges = rs::OpenKvRangeStore(**store, "refkv.ranges");
  if (!ranges.ok()) {
    std::fprintf(stderr, "ranges: %s\n", ranges.status().ToString().c_str());
    return 1;
  }
  rs::Options options;
  options.max_commit_attempts = 50;
  options.backoff_base = std::chrono::milliseconds(1);
  options.backoff_max = std::chrono::milliseconds(16);
  options.metarange_flat_max_ranges = 0;  // two-level trees, as the harness
  auto refs = rs::RefStore::Open(**store, **ranges, options);
  if (!refs.ok()) {
    std::fprintf(stderr, "refstore: %s\n", refs.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < n; ++i) {
    const std::string path = tag + "/" + std::to_string(i);
    refkv::Status put = (*refs)->PutEntry(repo, branch, path, "v" + std::to_string(i));
    if (!put.ok()) {
      std::fprintf(stderr, "put %s: %s\n", path.c_str(), put.ToString().c_str());
      std::printf("%s error:put - 0\n", path.c_str());
      continue;
    }
    rs::CommitRequest req;
    req.committer = tag;
    req.message = path;
    auto r = (*refs)->Commit(repo, branch, req);
    if (!r.ok()) {
      if (r.status().IsConflict()) {
        std::printf("%s conflict - 0\n", path.c_str());
      } else {
        std::fprintf(stderr, "commit %s: %s\n", path.c_str(), r.status().ToString().c_str());
        std::printf("%s error:commit - 0\n", path.c_str());
      }
      continue;
    }
    const char* outcome = "nochanges";
    if (r->outcome == rs::CommitResult::Outcome::kCommitted) outcome = "committed";
    if (r->outcome == rs::CommitResult::Outcome::kCommittedConcurrently) outcome = "concurrently";
    std::printf("%s %s %s %d\n", path.c_str(), outcome, r->commit.id.c_str(), r->attempts);
  }
  std::fflush(stdout);
  refs->reset();
  (void)(*store)->Close();
  return 0;
}
