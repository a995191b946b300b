// The ref store's cleaner on every driver (same code): what it removes, what it keeps,
// and its fences against commits and ref creations (fixture: refstore_fixture.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "refstore/check.h"
#include "refstore/internal/keys.h"
#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

// The number of commit records of `repo` in the store.
size_t CountCommitRecords(kv::Store& base, const rs::RepositoryInfo& repo) {
  auto it = base.Scan(rs::internal::RefsPartition(repo.name, repo.instance_id),
                      kv::ScanOptions::Prefix(rs::internal::kCommitPrefix));
  EXPECT_TRUE(it.ok());
  if (!it.ok()) return 0;
  size_t n = 0;
  for (; (*it)->Valid(); (*it)->Next()) ++n;
  return n;
}

TEST_P(RefStoreTest, CleanerRemovesOnlyUnreachable) {
  ASSERT_OK(refs_->CreateRepository("live"));
  ASSERT_OK(refs_->PutEntry("live", "main", "a", "1"));
  CommitOk("live", "main");
  ASSERT_OK(refs_->PutEntry("live", "main", "staged", "s"));
  ASSERT_OK(refs_->CreateBranch("live", "b2", "main"));
  ASSERT_OK(refs_->PutEntry("live", "b2", "x", "y"));
  const auto repo = *refs_->GetRepository("live");
  const std::string staging = rs::internal::StagingPartition("live", repo.instance_id);
  // Leftovers: a stray token, a half-created repository, a repository stuck in DELETING,
  // a repository deleted with committed data.
  std::string stray = rs::internal::NewTimedId();
  ASSERT_OK(env_.base->Set(staging, rs::internal::StagingKey(stray, "p"), "junk"));
  std::string half = rs::internal::RefsPartition("half", rs::internal::NewTimedId());
  ASSERT_OK(env_.base->Set(half, "c/x", "junk"));
  ASSERT_OK(refs_->CreateRepository("gone"));
  ASSERT_OK(refs_->PutEntry("gone", "main", "g", "1"));
  CommitOk("gone", "main");
  ASSERT_OK(refs_->DeleteRepository("gone"));
  ASSERT_OK(refs_->CreateRepository("stuck"));
  {
    int n = 0;
    env_.store->SetHook([&](const Call& c) {
      return c.verb == "droppartition" && ++n == 2 ? Fault::kFailBefore : Fault::kNone;
    });
    EXPECT_FALSE(refs_->DeleteRepository("stuck").ok());
    env_.store->SetHook(nullptr);
    EXPECT_TRUE(refs_->GetRepository("stuck").status().IsNotFound());
  }

  auto stats = refs_->CollectGarbage();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->repositories_finished, 1u);
  EXPECT_GE(stats->partitions_dropped, 1u);
  EXPECT_EQ(stats->staging_tokens_released, 1u);
  ExpectNoLeftovers(*env_.base, *env_.ranges);
  ExpectConsistent(*refs_);
  EXPECT_EQ(*refs_->GetEntry("live", "main", "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("live", "main", "staged"), "s");
  EXPECT_EQ(*refs_->GetEntry("live", "b2", "x"), "y");
  // A second run finds nothing.
  auto again = refs_->CollectGarbage();
  ASSERT_OK(again);
  EXPECT_EQ(again->partitions_dropped + again->staging_tokens_released + again->ranges_deleted +
                again->metaranges_deleted,
            0u);
}

// A range sweep that runs between a commit's Apply and its publication may remove the
// commit's new (still unreachable) ranges; the fence makes the commit Apply again.
TEST_P(RefStoreTest, RangeSweepDuringCommitIsFenced) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  std::map<std::string, std::string> want;
  for (int i = 0; i < 3000; ++i) {
    std::string path = "p", value = "v";  // (not "p" + ...: GCC 12 -Wrestrict false positive)
    path += std::to_string(i);
    value += std::to_string(i);
    want[path] = value;
    ASSERT_OK(refs_->PutEntry("r", "main", path, value));
  }
  bool fired = false;
  Result<rs::GcStats> sweep = Status::Internal("no sweep ran");
  env_.store->SetHook([&](const Call& c) {
    if (!fired && c.verb == "setif" && c.partition == refs_partition &&
        c.key.substr(0, 2) == "c/") {
      fired = true;
      sweep = refs_->CollectGarbage();  // before the commit record exists
    }
    return Fault::kNone;
  });
  auto c = refs_->Commit("r", "main", {});
  env_.store->SetHook(nullptr);
  ASSERT_OK(c);
  ASSERT_OK(sweep);
  EXPECT_GT(sweep->metaranges_deleted, 0u);  // it did remove the commit's first metarange
  ASSERT_OK(env_.Reopen(TestOptions()));
  EXPECT_EQ(AllEntries(*env_.refs, "r", c->commit.id), want);
  ASSERT_OK(env_.refs->CollectGarbage());
  ExpectNoLeftovers(*env_.base, *env_.ranges);
}

TEST_P(RefStoreTest, CleanerKeepsYoungLeftovers) {
  rs::Options options = TestOptions();
  options.gc_grace = std::chrono::hours(1);
  ASSERT_OK(env_.Reopen(options));
  ASSERT_OK(env_.refs->CreateRepository("r"));
  const auto repo = *env_.refs->GetRepository("r");
  const std::string staging = rs::internal::StagingPartition("r", repo.instance_id);
  std::string young = rs::internal::NewTimedId();
  ASSERT_OK(env_.base->Set(staging, rs::internal::StagingKey(young, "p"), "v"));
  std::string half = rs::internal::RefsPartition("half", rs::internal::NewTimedId());
  ASSERT_OK(env_.base->Set(half, "c/x", "v"));
  auto stats = env_.refs->CollectGarbage();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->staging_tokens_released, 0u);
  EXPECT_EQ(stats->partitions_dropped, 0u);
  EXPECT_OK(env_.base->Get(half, "c/x"));
}

// A commit that loses its final compare-and-set leaves a record nobody references; the
// cleaner deletes such records (and a deleted branch's history) past gc_grace, and never
// one a branch, a tag or their parents reach.
TEST_P(RefStoreTest, CleanerDeletesRecordsOfLostCommitAttempts) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  // Five lost races: just before A's final CaS, B commits (and folds A's writes).
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "a" + std::to_string(i), "1"));
    int setifs = 0;
    bool fired = false;
    env_.store->SetHook([&](const Call& c) {
      if (!fired && c.verb == "setif" && c.partition == refs_partition && c.key == "b/main" &&
          ++setifs == 2) {
        fired = true;
        EXPECT_OK(refs_->PutEntry("r", "main", "b" + std::to_string(i), "2"));
        rs::CommitRequest req;
        req.message = "B";
        EXPECT_OK(refs_->Commit("r", "main", req));
      }
      return Fault::kNone;
    });
    auto a = refs_->Commit("r", "main", {});
    env_.store->SetHook(nullptr);
    ASSERT_OK(a);
    EXPECT_TRUE(fired);
    EXPECT_EQ(a->outcome, Outcome::kCommittedConcurrently);
  }
  // History only a tag reaches stays; history nothing reaches goes.
  ASSERT_OK(refs_->CreateBranch("r", "tagged", "main"));
  ASSERT_OK(refs_->PutEntry("r", "tagged", "t", "1"));
  auto tagged = CommitOk("r", "tagged");
  ASSERT_OK(refs_->PutEntry("r", "tagged", "t", "2"));
  CommitOk("r", "tagged");
  ASSERT_OK(refs_->CreateTag("r", "keep", tagged.id));
  ASSERT_OK(refs_->DeleteBranch("r", "tagged"));
  ASSERT_OK(refs_->CreateBranch("r", "gone", "main"));
  ASSERT_OK(refs_->PutEntry("r", "gone", "g", "1"));
  auto gone = CommitOk("r", "gone");
  ASSERT_OK(refs_->DeleteBranch("r", "gone"));

  // Reachable: the logs of every branch and tag.
  std::set<std::string> reachable;
  for (const std::string ref : {"main", "keep"}) {
    rs::LogOptions all;
    all.limit = 0;
    auto log = refs_->Log("r", ref, all);
    ASSERT_OK(log);
    for (const auto& c : log->commits) reachable.insert(c.id);
  }
  EXPECT_EQ(reachable.size(), 1u + 5 + 1);  // initial, 5 by B, tagged
  const size_t before = CountCommitRecords(*env_.base, repo);
  EXPECT_EQ(before, reachable.size() + 5 + 2);  // + 5 lost attempts, tagged's child, gone

  // Within the grace nothing goes.
  rs::Options patient = TestOptions();
  patient.gc_grace = std::chrono::hours(1);
  ASSERT_OK(env_.Reopen(patient));
  auto young = env_.refs->CollectGarbage();
  ASSERT_OK(young);
  EXPECT_EQ(young->commits_deleted, 0u);
  EXPECT_EQ(CountCommitRecords(*env_.base, repo), before);

  ASSERT_OK(env_.Reopen(TestOptions()));
  auto stats = env_.refs->CollectGarbage();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->commits_deleted, before - reachable.size());
  EXPECT_EQ(CountCommitRecords(*env_.base, repo), reachable.size());
  for (const auto& id : reachable) EXPECT_OK(env_.refs->GetCommit("r", id));
  EXPECT_TRUE(env_.refs->GetCommit("r", gone.id).status().IsNotFound());
  EXPECT_EQ(*env_.refs->GetEntry("r", "keep", "t"), "1");
  ExpectNoLeftovers(*env_.base, *env_.ranges);
  ExpectConsistent(*env_.refs);
  auto report = rs::Check(*env_.store, *env_.refs, *env_.ranges);
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok()) << report->violations.size() << " violations, first: "
                            << (report->violations.empty() ? ""
                                                           : report->violations[0].location + ": " +
                                                                 report->violations[0].problem);
  auto again = env_.refs->CollectGarbage();
  ASSERT_OK(again);
  EXPECT_EQ(again->commits_deleted, 0u);
}

// A branch created at a commit the cleaner deletes meanwhile (nothing reached it when the
// cleaner scanned the refs) is removed again and the creation fails NotFound.
TEST_P(RefStoreTest, RefCreatedAtACommitTheCleanerDeletesFails) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  for (const std::string kind : {"b/", "t/"}) {
    SCOPED_TRACE(kind);
    ASSERT_OK(refs_->CreateBranch("r", "old", "main"));
    ASSERT_OK(refs_->PutEntry("r", "old", "x", kind));
    auto orphan = CommitOk("r", "old");
    ASSERT_OK(refs_->DeleteBranch("r", "old"));
    bool fired = false;
    Result<rs::GcStats> sweep = Status::Internal("no sweep ran");
    env_.store->SetHook([&](const Call& c) {
      if (!fired && c.verb == "setif" && c.partition == refs_partition &&
          c.key.substr(0, 2) == kind) {
        fired = true;
        sweep = refs_->CollectGarbage();  // scans the refs before the new one is written
      }
      return Fault::kNone;
    });
    Status s = kind == "b/" ? refs_->CreateBranch("r", "revived", orphan.id).status()
                            : refs_->CreateTag("r", "revived", orphan.id).status();
    env_.store->SetHook(nullptr);
    ASSERT_OK(sweep);
    EXPECT_TRUE(s.IsNotFound()) << s.ToString();
    EXPECT_EQ(sweep->commits_deleted, 1u);
    EXPECT_TRUE(refs_->GetBranch("r", "revived").status().IsNotFound());
    EXPECT_TRUE(refs_->GetTag("r", "revived").status().IsNotFound());
    ExpectConsistent(*refs_);
  }
  // Without a sweep in between, a ref at a (still existing) unreachable commit is fine.
  ASSERT_OK(refs_->CreateBranch("r", "old2", "main"));
  ASSERT_OK(refs_->PutEntry("r", "old2", "y", "1"));
  auto kept = CommitOk("r", "old2");
  ASSERT_OK(refs_->DeleteBranch("r", "old2"));
  ASSERT_OK(refs_->CreateTag("r", "kept", kept.id));
  ASSERT_OK(refs_->CollectGarbage());
  EXPECT_EQ(*refs_->GetEntry("r", "kept", "y"), "1");
  ExpectNoLeftovers(*env_.base, *env_.ranges);
}

}  // namespace
}  // namespace refkv::testing
