// Many committers at once: on one branch (every success is in the log exactly once, the
// history is linear, no staged write is lost), on separate branches (never a conflict),
// and with the cleaner running beside them.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "tests/refstore/harness.h"
#include "tests/support/require.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

constexpr int kThreads = 8;

// Commits per thread: 500, or 100 under sanitizers; REFKV_REFSTORE_COMMITS overrides.
int CommitsPerThread() {
  if (const char* env = std::getenv("REFKV_REFSTORE_COMMITS")) return std::atoi(env);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return 100;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return 100;
#endif
#endif
  return 500;
}

struct CallResult {
  Status status;
  std::string path;  // the write staged just before the commit
  Outcome outcome = Outcome::kNoChanges;
  std::string commit_id;
};

class ConcurrencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    rs::Options options = TestOptions();
    options.max_commit_attempts = 50;
    Status s = OpenEnv(GetParam(), options, &env_);
    if (s.IsUnsupported()) REFKV_SKIP_UNLESS_REQUIRED(s.ToString());
    ASSERT_OK(s);
    ASSERT_OK(env_.refs->CreateRepository("r"));
  }

  // `threads` committers on `branch_of(t)`, each staging one unique path then committing,
  // `n` times. Returns every call's result per thread.
  std::vector<std::vector<CallResult>> Run(int n,
                                           const std::function<std::string(int)>& branch_of) {
    std::vector<std::vector<CallResult>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string branch = branch_of(t);
        for (int i = 0; i < n; ++i) {
          const std::string path = "t" + std::to_string(t) + "/" + std::to_string(i);
          Status put = env_.refs->PutEntry("r", branch, path, "v" + std::to_string(i));
          if (!put.ok()) {
            results[t].push_back({put, path, Outcome::kNoChanges, {}});
            continue;
          }
          rs::CommitRequest req;
          req.committer = "t" + std::to_string(t);
          req.message = path;
          auto r = env_.refs->Commit("r", branch, req);
          if (!r.ok()) {
            results[t].push_back({r.status(), path, Outcome::kNoChanges, {}});
          } else {
            results[t].push_back({Status::OK(), path, r->outcome, r->commit.id});
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    return results;
  }

  // The whole log of `ref`, checked to be one linear chain.
  std::vector<std::string> LinearLog(const std::string& ref) {
    std::vector<rs::CommitInfo> all;
    rs::LogOptions options;
    options.limit = 500;
    while (true) {
      auto page = env_.refs->Log("r", ref, options);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      all.insert(all.end(), page->commits.begin(), page->commits.end());
      if (page->next_page_token.empty()) break;
      options.page_token = page->next_page_token;
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < all.size(); ++i) {
      ids.push_back(all[i].id);
      EXPECT_LE(all[i].parents.size(), 1u);
      if (i + 1 < all.size()) {
        EXPECT_EQ(all[i].parents.size(), 1u);
        if (!all[i].parents.empty()) {
          EXPECT_EQ(all[i].parents[0], all[i + 1].id);
        }
        EXPECT_EQ(all[i].generation, all[i + 1].generation + 1);
      } else {
        EXPECT_TRUE(all[i].parents.empty());
        EXPECT_EQ(all[i].generation, 1);
      }
    }
    return ids;
  }

  TestEnv env_;
};

TEST_P(ConcurrencyTest, OneBranchLosesNothing) {
  const int n = CommitsPerThread();
  auto results = Run(n, [](int) { return std::string("main"); });
  // Fold whatever a commit that gave up left behind.
  rs::CommitRequest final_req;
  final_req.message = "final";
  ASSERT_OK(env_.refs->Commit("r", "main", final_req));

  auto log = LinearLog("main");
  std::map<std::string, int> in_log;
  for (const auto& id : log) EXPECT_EQ(++in_log[id], 1) << "commit twice in the log: " << id;
  std::map<std::string, int> committed_by_calls;
  int committed = 0, concurrently = 0, no_changes = 0, conflicts = 0;
  for (const auto& per_thread : results) {
    for (const auto& r : per_thread) {
      if (!r.status.ok()) {
        EXPECT_TRUE(r.status.IsConflict()) << r.status.ToString();
        ++conflicts;
        continue;
      }
      EXPECT_TRUE(in_log.count(r.commit_id)) << "reported commit not in the log: " << r.commit_id;
      // The write staged just before the call is in the commit it reports.
      EXPECT_TRUE(env_.refs->GetEntry("r", r.commit_id, r.path).ok())
          << r.path << " is not in " << r.commit_id;
      switch (r.outcome) {
        case Outcome::kCommitted:
          ++committed;
          EXPECT_EQ(++committed_by_calls[r.commit_id], 1) << "two calls made " << r.commit_id;
          break;
        case Outcome::kCommittedConcurrently:
          ++concurrently;
          break;
        case Outcome::kNoChanges:
          // Only when another commit took the write before this call began.
          ++no_changes;
          break;
      }
    }
  }
  // Every commit in the log but the first was made by exactly one call (or the final one).
  EXPECT_GE(committed, static_cast<int>(log.size()) - 2);
  EXPECT_LE(committed, static_cast<int>(log.size()) - 1);
  auto entries = AllEntries(*env_.refs, "r", "main", 5000);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < n; ++i) {
      auto it = entries.find("t" + std::to_string(t) + "/" + std::to_string(i));
      ASSERT_NE(it, entries.end()) << "lost staged write t" << t << "/" << i;
      EXPECT_EQ(it->second, "v" + std::to_string(i));
    }
  }
  auto staged = env_.refs->DiffUncommitted("r", "main");
  ASSERT_OK(staged);
  EXPECT_TRUE(staged->empty());
  std::printf(
      "one branch: %d committed, %d committed concurrently, %d no changes, %d conflicts, %zu "
      "commits\n",
      committed, concurrently, no_changes, conflicts, log.size());
}

TEST_P(ConcurrencyTest, SeparateBranchesNeverConflict) {
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_OK(env_.refs->CreateBranch("r", "b" + std::to_string(t), "main"));
  }
  const int n = CommitsPerThread() / 2;
  auto results = Run(n, [](int t) { return "b" + std::to_string(t); });
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& r : results[t]) {
      ASSERT_OK(r.status);
      EXPECT_EQ(r.outcome, Outcome::kCommitted);
    }
    auto log = LinearLog("b" + std::to_string(t));
    EXPECT_EQ(log.size(), static_cast<size_t>(n) + 1);
    auto entries = AllEntries(*env_.refs, "r", "b" + std::to_string(t));
    EXPECT_EQ(entries.size(), static_cast<size_t>(n));
  }
}

TEST_P(ConcurrencyTest, CleanerRunsBesideCommitters) {
  rs::Options options = TestOptions();
  options.gc_grace = std::chrono::seconds(5);
  options.max_commit_attempts = 50;
  ASSERT_OK(env_.Reopen(options));
  ASSERT_OK(env_.refs->CreateBranch("r", "side", "main"));
  std::atomic<bool> done{false};
  std::atomic<int> sweeps{0};
  std::thread cleaner([&] {
    while (!done) {
      auto stats = env_.refs->CollectGarbage();
      EXPECT_TRUE(stats.ok() || stats.status().IsBusy()) << stats.status().ToString();
      ++sweeps;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  const int n = std::max(10, CommitsPerThread() / 5);
  auto results = Run(n, [](int t) { return t % 2 ? std::string("main") : std::string("side"); });
  done = true;
  cleaner.join();
  EXPECT_GT(sweeps.load(), 0);
  rs::CommitRequest req;
  ASSERT_OK(env_.refs->Commit("r", "main", req));
  ASSERT_OK(env_.refs->Commit("r", "side", req));
  ExpectConsistent(*env_.refs);
  for (int t = 0; t < kThreads; ++t) {
    auto entries = AllEntries(*env_.refs, "r", t % 2 ? "main" : "side");
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(entries.count("t" + std::to_string(t) + "/" + std::to_string(i)))
          << "lost t" << t << "/" << i;
    }
  }
  // Every commit's committed data is still whole.
  for (const std::string branch : {"main", "side"}) {
    for (const auto& id : LinearLog(branch)) {
      rs::ListEntriesOptions all;
      all.limit = 0;
      EXPECT_OK(env_.refs->ListEntries("r", id, all));
    }
  }
}

// The cleaner deletes unreachable commit records past a short grace while committers lose
// races, and branches and tags are created at heads: no published commit loses its record.
TEST_P(ConcurrencyTest, CommitSweepBesideCommittersKeepsReachableRecords) {
  rs::Options options = TestOptions();
  options.gc_grace = std::chrono::milliseconds(400);
  options.max_commit_attempts = 50;
  ASSERT_OK(env_.Reopen(options));
  std::atomic<bool> done{false};
  std::atomic<size_t> deleted{0};
  std::thread cleaner([&] {
    while (!done) {
      auto stats = env_.refs->CollectGarbage();
      EXPECT_TRUE(stats.ok() || stats.status().IsBusy()) << stats.status().ToString();
      if (stats.ok()) deleted += stats->commits_deleted;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::thread refs_maker([&] {
    for (int i = 0; !done; ++i) {
      const std::string name = "x" + std::to_string(i);
      auto head = env_.refs->GetBranch("r", "main");
      if (!head.ok()) continue;
      auto b = env_.refs->CreateBranch("r", name, head->commit_id);
      EXPECT_TRUE(b.ok() || b.status().IsNotFound()) << b.status().ToString();
      auto t = env_.refs->CreateTag("r", name, head->commit_id);
      EXPECT_TRUE(t.ok() || t.status().IsNotFound()) << t.status().ToString();
      if (b.ok()) EXPECT_OK(env_.refs->DeleteBranch("r", name));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const int n = std::max(10, CommitsPerThread() / 5);
  auto results = Run(n, [](int) { return std::string("main"); });
  done = true;
  cleaner.join();
  refs_maker.join();
  for (const auto& per_thread : results) {
    for (const auto& r : per_thread) {
      if (r.status.ok()) {
        EXPECT_OK(env_.refs->GetCommit("r", r.commit_id));
      } else {
        EXPECT_TRUE(r.status.IsConflict() || r.status.IsBusy()) << r.status.ToString();
      }
    }
  }
  rs::CommitRequest req;
  ASSERT_OK(env_.refs->Commit("r", "main", req));
  ExpectConsistent(*env_.refs);
  // Every commit's committed data is still whole.
  for (const auto& id : LinearLog("main")) {
    rs::ListEntriesOptions all;
    all.limit = 0;
    EXPECT_OK(env_.refs->ListEntries("r", id, all));
  }
  auto entries = AllEntries(*env_.refs, "r", "main");
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(entries.count("t" + std::to_string(t) + "/" + std::to_string(i)))
          << "lost t" << t << "/" << i;
    }
  }
  ASSERT_OK(env_.Reopen(TestOptions()));
  ASSERT_OK(env_.refs->CollectGarbage());
  ExpectNoLeftovers(*env_.base, *env_.ranges);
  std::printf("commit records deleted while committing: %zu\n", deleted.load());
}

INSTANTIATE_TEST_SUITE_P(Drivers, ConcurrencyTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
