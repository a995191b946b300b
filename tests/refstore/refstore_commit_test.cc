// The ref store's commits on every driver (same code): outcomes and log, content ids,
// staging (reset, release, sealed tokens), diff and races (fixture: refstore_fixture.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
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

TEST_P(RefStoreTest, CommitOutcomesAndLog) {
  ASSERT_OK(refs_->CreateRepository("r"));
  rs::CommitRequest req;
  req.committer = "alice";
  req.message = "nothing";
  auto empty = refs_->Commit("r", "main", req);
  ASSERT_OK(empty);
  EXPECT_EQ(empty->outcome, Outcome::kNoChanges);
  EXPECT_EQ(empty->commit.generation, 1);

  // A staged write equal to the committed value is no change either.
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  req.message = "first";
  req.metadata = {{"k", "v"}, {"x", "y"}};
  auto first = refs_->Commit("r", "main", req);
  ASSERT_OK(first);
  ASSERT_EQ(first->outcome, Outcome::kCommitted);
  EXPECT_EQ(first->commit.committer, "alice");
  EXPECT_EQ(first->commit.message, "first");
  EXPECT_EQ(first->commit.metadata, req.metadata);
  EXPECT_EQ(first->commit.generation, 2);
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto same = refs_->Commit("r", "main", req);
  ASSERT_OK(same);
  EXPECT_EQ(same->outcome, Outcome::kNoChanges);
  EXPECT_EQ(same->commit.id, first->commit.id);
  EXPECT_EQ(refs_->GetBranch("r", "main")->sealed_tokens, 0u);

  // Expected parent.
  ASSERT_OK(refs_->PutEntry("r", "main", "b", "2"));
  req.expected_parent = "0123456789abcdef0123456789abcdef";
  EXPECT_TRUE(refs_->Commit("r", "main", req).status().IsPredicateFailed());
  req.expected_parent = first->commit.id;
  auto second = refs_->Commit("r", "main", req);
  ASSERT_OK(second);
  EXPECT_EQ(second->outcome, Outcome::kCommitted);
  EXPECT_EQ(second->commit.parents, std::vector<std::string>{first->commit.id});
  req.expected_parent.reset();

  std::vector<std::string> ids = {second->commit.id, first->commit.id, empty->commit.id};
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "n", std::to_string(i)));
    ids.insert(ids.begin(), CommitOk("r", "main").id);
  }
  auto show = refs_->GetCommit("r", ids[0]);
  ASSERT_OK(show);
  EXPECT_EQ(show->generation, 8);
  // Log, paginated by 3.
  std::vector<std::string> seen;
  rs::LogOptions lo;
  lo.limit = 3;
  while (true) {
    auto page = refs_->Log("r", "main", lo);
    ASSERT_OK(page);
    EXPECT_LE(page->commits.size(), 3u);
    for (auto& c : page->commits) seen.push_back(c.id);
    if (page->next_page_token.empty()) break;
    lo.page_token = page->next_page_token;
  }
  EXPECT_EQ(seen, ids);
  EXPECT_TRUE(refs_->Commit("r", "nobranch", req).status().IsNotFound());
}

TEST_P(RefStoreTest, CommitIdsAreContentHashes) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto c = CommitOk("r", "main");
  EXPECT_EQ(c.id.size(), 32u);
  // Resolving the id re-hashes the record; a record that does not hash to its key is
  // Corruption. Tamper with it through the base store.
  auto repo = refs_->GetRepository("r");
  std::string refs_partition = rs::internal::RefsPartition("r", repo->instance_id);
  std::string key = std::string(rs::internal::kCommitPrefix) + c.id;
  auto raw = env_.base->Get(refs_partition, key);
  ASSERT_OK(raw);
  std::string tampered = *raw;
  auto pos = tampered.find("tester");
  ASSERT_NE(pos, std::string::npos);
  tampered[pos] = 'T';
  ASSERT_OK(env_.base->Set(refs_partition, key, tampered));
  ASSERT_OK(env_.Reopen(TestOptions()));  // a fresh commit cache
  EXPECT_TRUE(env_.refs->GetCommit("r", c.id).status().IsCorruption());
}

TEST_P(RefStoreTest, ResetDiscardsStaged) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2"));
  ASSERT_OK(refs_->PutEntry("r", "main", "b", "2"));
  ASSERT_OK(refs_->ResetBranch("r", "main"));
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "1");
  EXPECT_TRUE(refs_->GetEntry("r", "main", "b").status().IsNotFound());
  auto diff = refs_->DiffUncommitted("r", "main");
  ASSERT_OK(diff);
  EXPECT_TRUE(diff->empty());
  rs::CommitRequest req;
  EXPECT_EQ(refs_->Commit("r", "main", req)->outcome, Outcome::kNoChanges);
}

// A commit releases what it committed from staging (a speed-up, but it keeps staging
// small): afterwards the staging partition holds only what was staged since.
TEST_P(RefStoreTest, CommitReleasesTheStagedEntriesItCommitted) {
  auto repo = refs_->CreateRepository("r");
  ASSERT_OK(repo);
  const std::string staging = rs::internal::StagingPartition("r", repo->instance_id);
  auto staged_keys = [&] {
    size_t n = 0;
    auto it = env_.base->Scan(staging, kv::ScanOptions{});
    EXPECT_TRUE(it.ok());
    for (; (*it)->Valid(); (*it)->Next()) ++n;
    return n;
  };
  for (int i = 0; i < 20; ++i)
    ASSERT_OK(refs_->PutEntry("r", "main", "p" + std::to_string(i), "v"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "p3"));
  EXPECT_EQ(staged_keys(), 20u);
  CommitOk("r", "main");
  EXPECT_EQ(staged_keys(), 0u);
  ASSERT_OK(refs_->PutEntry("r", "main", "later", "v"));
  EXPECT_EQ(staged_keys(), 1u);
  EXPECT_EQ(AllEntries(*refs_, "r", "main").size(), 20u);  // p0..p19 - p3 + later
}

TEST_P(RefStoreTest, DiffCommittedAndUncommitted) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "keep", "k"));
  ASSERT_OK(refs_->PutEntry("r", "main", "change", "old"));
  ASSERT_OK(refs_->PutEntry("r", "main", "remove", "gone"));
  auto c1 = CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "add", "new"));
  ASSERT_OK(refs_->PutEntry("r", "main", "change", "new"));
  ASSERT_OK(refs_->PutEntry("r", "main", "keep", "k"));  // staged but equal
  ASSERT_OK(refs_->DeleteEntry("r", "main", "remove"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "absent"));  // tombstone of nothing

  using K = rs::EntryDiff::Kind;
  auto check = [](const std::vector<rs::EntryDiff>& d) {
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].path, "add");
    EXPECT_EQ(d[0].kind, K::kAdded);
    EXPECT_EQ(d[0].right, "new");
    EXPECT_FALSE(d[0].left);
    EXPECT_EQ(d[1].path, "change");
    EXPECT_EQ(d[1].kind, K::kChanged);
    EXPECT_EQ(d[1].left, "old");
    EXPECT_EQ(d[1].right, "new");
    EXPECT_EQ(d[2].path, "remove");
    EXPECT_EQ(d[2].kind, K::kRemoved);
    EXPECT_EQ(d[2].left, "gone");
    EXPECT_FALSE(d[2].right);
  };
  auto uncommitted = refs_->DiffUncommitted("r", "main");
  ASSERT_OK(uncommitted);
  check(*uncommitted);
  auto c2 = CommitOk("r", "main");
  auto committed = refs_->Diff("r", c1.id, "main");
  ASSERT_OK(committed);
  check(*committed);
  auto limited = refs_->Diff("r", c1.id, c2.id, 2);
  ASSERT_OK(limited);
  EXPECT_EQ(limited->size(), 2u);
  auto none = refs_->Diff("r", "main", c2.id);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

// A commit whose final step fails leaves its token sealed; reads see through it with one
// MultiGet, and the next commit folds it.
TEST_P(RefStoreTest, SealedTokensAreReadInOneCallAndFoldedLater) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "base", "0"));
  CommitOk("r", "main");
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  const std::string staging = rs::internal::StagingPartition("r", repo.instance_id);
  // Fail the branch CaS of step (3) of four commits: each leaves one more sealed token.
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "p" + std::to_string(i), std::to_string(i)));
    ASSERT_OK(refs_->PutEntry("r", "main", "shadow", std::to_string(i)));
    int branch_setifs = 0;
    env_.store->SetHook([&](const Call& c) {
      if (c.verb == "setif" && c.partition == refs_partition && c.key == "b/main" &&
          ++branch_setifs == 2) {
        return Fault::kFailBefore;
      }
      return Fault::kNone;
    });
    rs::CommitRequest req;
    auto r = refs_->Commit("r", "main", req);
    env_.store->SetHook(nullptr);
    EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
    EXPECT_EQ(refs_->GetBranch("r", "main")->sealed_tokens, static_cast<size_t>(i + 1));
  }
  ASSERT_OK(refs_->PutEntry("r", "main", "current", "c"));
  std::map<std::string, int> calls;
  env_.store->SetHook([&](const Call& c) {
    if (c.partition == staging) ++calls[std::string(c.verb)];
    return Fault::kNone;
  });
  EXPECT_EQ(*refs_->GetEntry("r", "main", "p0"), "0");
  EXPECT_EQ(*refs_->GetEntry("r", "main", "shadow"), "3");  // the newest sealed token wins
  EXPECT_EQ(*refs_->GetEntry("r", "main", "current"), "c");
  env_.store->SetHook(nullptr);
  EXPECT_EQ(calls["multiget"], 3);
  EXPECT_EQ(calls["get"], 0);

  auto folded = CommitOk("r", "main");
  EXPECT_EQ(refs_->GetBranch("r", "main")->sealed_tokens, 0u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(*refs_->GetEntry("r", folded.id, "p" + std::to_string(i)), std::to_string(i));
  }
  EXPECT_EQ(*refs_->GetEntry("r", folded.id, "shadow"), "3");
  EXPECT_EQ(*refs_->GetEntry("r", folded.id, "current"), "c");
  ASSERT_OK(refs_->CollectGarbage());
  ExpectNoLeftovers(*env_.base, *env_.ranges);
}

// Two commits race: the one that loses finds its staged writes in the winner's commit and
// says so (never "no changes").
TEST_P(RefStoreTest, LoserOfARaceLearnsWhoCommittedItsWrites) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  // Just before A's final CaS, B commits (B seals the next token and folds A's too).
  int setifs = 0;
  bool fired = false;
  Result<rs::CommitResult> b = Status::Internal("B did not run");
  env_.store->SetHook([&](const Call& c) {
    if (!fired && c.verb == "setif" && c.partition == refs_partition && c.key == "b/main" &&
        ++setifs == 2) {
      fired = true;
      rs::CommitRequest req;
      req.message = "B";
      b = refs_->Commit("r", "main", req);
    }
    return Fault::kNone;
  });
  rs::CommitRequest req;
  req.message = "A";
  auto a = refs_->Commit("r", "main", req);
  env_.store->SetHook(nullptr);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(b->outcome, Outcome::kCommitted);
  EXPECT_EQ(a->outcome, Outcome::kCommittedConcurrently);
  EXPECT_EQ(a->commit.id, b->commit.id);
  EXPECT_EQ(*refs_->GetEntry("r", b->commit.id, "a"), "1");
  auto log = refs_->Log("r", "main", {});
  ASSERT_OK(log);
  EXPECT_EQ(log->commits.size(), 2u);
}

// Runs `during` once, just before the first compare-and-set of branch `main` of `repo` -
// the rotation of the commit that is then running - and returns the commit's result.
Result<rs::CommitResult> CommitWithRaceAtRotation(TestEnv& env, rs::RefStore* refs,
                                                  const std::string& refs_partition,
                                                  const std::function<void()>& during) {
  bool fired = false;
  env.store->SetHook([&](const Call& c) {
    if (!fired && c.verb == "setif" && c.partition == refs_partition && c.key == "b/main") {
      fired = true;
      during();
    }
    return Fault::kNone;
  });
  rs::CommitRequest req;
  req.message = "A";
  auto a = refs->Commit("r", "main", req);
  env.store->SetHook(nullptr);
  return a;
}

// Seen on PostgreSQL: A's writes were committed by B before A began, so A targets only
// the (empty) current token; D commits first, finds nothing in it and releases it without
// a commit record. A used to exit 5 with "discarded by a concurrent reset or delete";
// what is true is that there was nothing left to commit - as A would have found alone.
TEST_P(RefStoreTest, CommitWhoseTokensAConcurrentNoOpCommitReleasedHasNoChanges) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  const rs::CommitInfo b = CommitOk("r", "main");  // B: takes A's write
  for (bool no_op_write : {false, true}) {
    SCOPED_TRACE(no_op_write ? "A's token holds a write of the value committed" : "empty");
    if (no_op_write) ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
    Result<rs::CommitResult> d = Status::Internal("D did not run");
    auto a = CommitWithRaceAtRotation(env_, refs_, refs_partition, [&] {
      rs::CommitRequest req;
      req.message = "D";
      d = refs_->Commit("r", "main", req);
    });
    ASSERT_OK(d);
    EXPECT_EQ(d->outcome, Outcome::kNoChanges);
    ASSERT_OK(a);
    EXPECT_EQ(a->outcome, Outcome::kNoChanges);
    EXPECT_EQ(a->commit.id, b.id);
  }
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "1");
  auto log = refs_->Log("r", "main", {});
  ASSERT_OK(log);
  EXPECT_EQ(log->commits.size(), 2u);
}

// A reset that discards the writes of a commit in progress is still reported as such.
TEST_P(RefStoreTest, CommitWhoseWritesAConcurrentResetDiscardedIsAConflict) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const auto repo = *refs_->GetRepository("r");
  const std::string refs_partition = rs::internal::RefsPartition("r", repo.instance_id);
  // A no-op commit first, so that the branch remembers released tokens: the reset's
  // tokens are not among them.
  rs::CommitRequest noop;
  ASSERT_EQ(refs_->Commit("r", "main", noop)->outcome, Outcome::kNoChanges);
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto a = CommitWithRaceAtRotation(env_, refs_, refs_partition,
                                    [&] { ASSERT_OK(refs_->ResetBranch("r", "main")); });
  ASSERT_TRUE(a.status().IsConflict()) << a.status().ToString();
  EXPECT_NE(a.status().message().find("discarded by a concurrent reset of the branch"),
            std::string::npos)
      << a.status().message();
  EXPECT_TRUE(refs_->GetEntry("r", "main", "a").status().IsNotFound());
}

}  // namespace
}  // namespace refkv::testing
