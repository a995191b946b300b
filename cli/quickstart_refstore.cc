// The ref store part of `refkv quickstart`: create a repository, stage entries, commit,
// branch, change the branch, diff, log, delete the repository, each step timed.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/quickstart_util.h"
#include "refstore/open_for_store.h"

namespace refkv::cli {
namespace {

using quickstart::Clock;
using quickstart::Expect;
using quickstart::Since;

void Step(std::ostream& out, const char* what, const std::string& detail, double seconds,
          size_t ops = 0) {
  char buf[256];
  std::string rate =
      ops > 0 && seconds > 0 ? std::to_string(static_cast<uint64_t>(ops / seconds)) + " ops/s" : "";
  std::snprintf(buf, sizeof(buf), "  %-14s %-42s %8.1f ms  %s\n", what, detail.c_str(),
                seconds * 1e3, rate.c_str());
  out << buf;
}

std::string Path(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "docs/%06zu", i);
  return buf;
}

}  // namespace

Status RefStoreTour(std::ostream& out, kv::Store& store, std::string_view run_id, size_t entries,
                    bool scratch) {
  const std::string repo = "quickstart-" + std::string(run_id);
  out << "\nref store: repository " << repo << ", " << entries
      << " entries; the repository is deleted at the end\n\n";
  auto start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(refstore::OpenedRefStore opened, refstore::OpenForStore(store));
  refstore::RefStore& refs = *opened.refs;
  REFKV_RETURN_IF_ERROR(refs.CreateRepository(repo).status());
  Step(out, "repo create", repo + " (initial commit on main)", Since(start));

  start = Clock::now();
  for (size_t i = 0; i < entries; ++i) {
    REFKV_RETURN_IF_ERROR(refs.PutEntry(repo, "main", Path(i), "v1-" + std::to_string(i)));
  }
  Step(out, "entry put", std::to_string(entries) + " staged on main", Since(start), entries);

  start = Clock::now();
  refstore::CommitRequest request;
  request.committer = "quickstart";
  request.message = "first load";
  REFKV_ASSIGN_OR_RETURN(refstore::CommitResult first, refs.Commit(repo, "main", request));
  REFKV_RETURN_IF_ERROR(Expect(first.outcome == refstore::CommitResult::Outcome::kCommitted,
                               "the first commit made no commit"));
  Step(out, "commit", first.commit.id.substr(0, 12) + " (" + std::to_string(entries) + " entries)",
       Since(start));

  start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(std::string v, refs.GetEntry(repo, first.commit.id, Path(0)));
  REFKV_RETURN_IF_ERROR(Expect(v == "v1-0", "read back a different committed value"));
  Step(out, "entry get", Path(0) + " at the commit", Since(start));

  start = Clock::now();
  REFKV_RETURN_IF_ERROR(refs.CreateBranch(repo, "feature", "main").status());
  const size_t changes = std::min<size_t>(10, entries);
  for (size_t i = 0; i < changes; ++i) {
    REFKV_RETURN_IF_ERROR(refs.PutEntry(repo, "feature", Path(i), "v2-" + std::to_string(i)));
  }
  REFKV_RETURN_IF_ERROR(refs.PutEntry(repo, "feature", "docs/new", "added"));
  request.message = "change on feature";
  REFKV_ASSIGN_OR_RETURN(refstore::CommitResult second, refs.Commit(repo, "feature", request));
  Step(out, "branch+commit",
       "feature: " + std::to_string(changes + 1) + " changes, " + second.commit.id.substr(0, 12),
       Since(start));

  start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(auto diff, refs.Diff(repo, "main", "feature"));
  REFKV_RETURN_IF_ERROR(
      Expect(diff.size() == changes + 1, "diff main..feature has " + std::to_string(diff.size()) +
                                             " changes, expected " + std::to_string(changes + 1)));
  Step(out, "diff", "main..feature: " + std::to_string(diff.size()) + " changes", Since(start));

  start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(refstore::LogPage log, refs.Log(repo, "feature"));
  REFKV_RETURN_IF_ERROR(Expect(log.commits.size() == 3, "log of feature is not 3 commits"));
  Step(out, "log", "feature: " + std::to_string(log.commits.size()) + " commits", Since(start));

  start = Clock::now();
  REFKV_RETURN_IF_ERROR(refs.DeleteRepository(repo));
  if (!scratch) {
    Step(out, "repo delete", repo + " (ranges go with 'refkv gc')", Since(start));
    return Status::OK();
  }
  Step(out, "repo delete", repo, Since(start));
  // The scratch store is the quickstart's own: collect its ranges at once and drop the
  // ref store's global partitions, so the store is left as the tour found it.
  start = Clock::now();
  opened = {};
  refstore::OpenForStoreOptions gc_options;
  gc_options.refstore.gc_grace = std::chrono::milliseconds(0);
  REFKV_ASSIGN_OR_RETURN(opened, refstore::OpenForStore(store, gc_options));
  REFKV_ASSIGN_OR_RETURN(refstore::GcStats gc, opened.refs->CollectGarbage());
  opened = {};
  for (const char* p : {"refkv.repos", "refkv.gc", "refstore.ranges"}) {
    REFKV_RETURN_IF_ERROR(store.DropPartition(p));
  }
  Step(out, "gc", std::to_string(gc.ranges_deleted) + " ranges, scratch store cleaned",
       Since(start));
  return Status::OK();
}

}  // namespace refkv::cli
