// The log of one path over a long history, beside the diff-per-commit baseline:
//   refstore/rocks/log_path/commits:N            Log(main, paths={P}), all pages
//   refstore/rocks/log_path_diff_baseline/commits:N
//                                                baseline: the whole log, then a Diff of
//                                                every commit against its parent, keeping
//                                                the commits whose diff names P (what a
//                                                store without a path filter must do)
// History: 1M committed entries (10 commits of 100k), then N 1-entry commits on main,
// every 100th of them writing P (~1% of commits touch P). Both cases run warm on the same
// store (filled once; the first iteration warms the caches) and must find the same
// commits. rocks with sync=false, ranges in the store (as the CLI).
//
//   build/bin/refkv_bench --benchmark_filter='refstore/rocks/log_path' \
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// The fill takes about a minute on a shared 2-core machine.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "engine/open.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"

namespace refkv::refstore {
namespace {

constexpr int64_t kHistoryEntries = 1'000'000;
constexpr int64_t kTouchEvery = 100;
const std::string kWatchedPath = "data/0500/watched";

struct HistoryEnv {
  std::string dir;
  std::unique_ptr<kv::Store> kv;
  OpenedRefStore opened;
  int64_t commits = 0;
  size_t touching = 0;  // commits that wrote kWatchedPath
  ~HistoryEnv() {
    opened = {};
    kv.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::string EntryPath(int64_t i) {
  char buf[48];
  snprintf(buf, sizeof(buf), "data/%04d/obj-%08lld", static_cast<int>(i % 1000),
           static_cast<long long>(i));
  return buf;
}

Status Fill(HistoryEnv& env, int64_t commits) {
  RefStore& refs = *env.opened.refs;
  REFKV_RETURN_IF_ERROR(refs.CreateRepository("bench").status());
  for (int64_t i = 0; i < kHistoryEntries; ++i) {
    REFKV_RETURN_IF_ERROR(refs.PutEntry("bench", "main", EntryPath(i), "v"));
    if ((i + 1) % 100000 == 0) REFKV_RETURN_IF_ERROR(refs.Commit("bench", "main", {}).status());
  }
  for (int64_t c = 0; c < commits; ++c) {
    const bool touch = c % kTouchEvery == kTouchEvery / 2;
    const std::string path = touch ? kWatchedPath : EntryPath((c * 7919) % kHistoryEntries);
    REFKV_RETURN_IF_ERROR(refs.PutEntry("bench", "main", path, "c" + std::to_string(c)));
    REFKV_RETURN_IF_ERROR(refs.Commit("bench", "main", {}).status());
    env.touching += touch;
  }
  env.commits = commits;
  return Status::OK();
}

// One filled store for both cases (the fill dominates the run); released at exit,
// before RocksDB's static destructors.
std::mutex history_mu;
std::unique_ptr<HistoryEnv>* history_env = new std::unique_ptr<HistoryEnv>;

void ReleaseHistoryEnv() {
  std::lock_guard lock(history_mu);
  history_env->reset();
}

Result<HistoryEnv*> FilledEnv(int64_t commits) {
  std::lock_guard lock(history_mu);
  if (*history_env != nullptr && (*history_env)->commits == commits) return history_env->get();
  history_env->reset();
  auto env = std::make_unique<HistoryEnv>();
  const char* base = getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/refkv-histbench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp");
  env->dir = pattern;
  REFKV_ASSIGN_OR_RETURN(env->kv, kv::Open("rocks://" + env->dir + "/db?sync=false"));
  REFKV_ASSIGN_OR_RETURN(env->opened, OpenForStore(*env->kv));
  Status s = Fill(*env, commits);
  if (!s.ok()) return s;
  *history_env = std::move(env);
  // Registered after the store opened, so it runs before the destructors of the function
  // statics RocksDB created while opening it (closing a store after them crashes).
  static const bool registered = (atexit(ReleaseHistoryEnv), true);
  (void)registered;
  return history_env->get();
}

Result<size_t> LogByPath(RefStore& refs) {
  LogOptions options;
  options.limit = 0;
  options.paths = {kWatchedPath};
  REFKV_ASSIGN_OR_RETURN(LogPage page, refs.Log("bench", "main", options));
  return page.commits.size();
}

Result<size_t> LogByDiffPerCommit(RefStore& refs) {
  LogOptions options;
  options.limit = 0;
  REFKV_ASSIGN_OR_RETURN(LogPage page, refs.Log("bench", "main", options));
  size_t found = 0;
  for (const CommitInfo& c : page.commits) {
    if (c.parents.empty()) continue;
    REFKV_ASSIGN_OR_RETURN(auto diff, refs.Diff("bench", c.parents[0], c.id));
    for (const EntryDiff& d : diff) {
      if (d.path == kWatchedPath) {
        ++found;
        break;
      }
    }
  }
  return found;
}

void LogPath(benchmark::State& state, bool baseline) {
  auto env = FilledEnv(state.range(0));
  if (!env.ok()) {
    state.SkipWithError(env.status().ToString().c_str());
    return;
  }
  RefStore& refs = *(*env)->opened.refs;
  size_t found = 0;
  for (auto _ : state) {
    auto n = baseline ? LogByDiffPerCommit(refs) : LogByPath(refs);
    if (!n.ok()) {
      state.SkipWithError(n.status().ToString().c_str());
      return;
    }
    found = *n;
  }
  if (found != (*env)->touching) {
    state.SkipWithError(("found " + std::to_string(found) + " commits, expected " +
                         std::to_string((*env)->touching))
                            .c_str());
    return;
  }
  state.counters["commits_found"] = static_cast<double>(found);
}

const bool kRegistered = [] {
  for (bool baseline : {false, true}) {
    benchmark::RegisterBenchmark(
        baseline ? "refstore/rocks/log_path_diff_baseline" : "refstore/rocks/log_path",
        [baseline](benchmark::State& state) { LogPath(state, baseline); })
        ->ArgName("commits")
        ->Arg(10000)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace
}  // namespace refkv::refstore
