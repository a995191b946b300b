// The ref store, operation by operation, on every driver (same code).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "refstore/check.h"
#include "refstore/internal/keys.h"
#include "tests/refstore/harness.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

class RefStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Status s = OpenEnv(GetParam(), TestOptions(), &env_);
    if (s.IsUnsupported()) GTEST_SKIP() << s.ToString();
    ASSERT_OK(s);
    refs_ = env_.refs.get();
  }

  rs::CommitInfo CommitOk(const std::string& repo, const std::string& branch,
                          const std::string& message = "m") {
    rs::CommitRequest req;
    req.committer = "tester";
    req.message = message;
    auto r = refs_->Commit(repo, branch, req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->outcome, Outcome::kCommitted);
    return r->commit;
  }

  TestEnv env_;
  rs::RefStore* refs_ = nullptr;
};

TEST_P(RefStoreTest, CreateGetListRepositories) {
  auto info = refs_->CreateRepository("repo1", "main", "s3://bucket/x");
  ASSERT_OK(info);
  EXPECT_EQ(info->name, "repo1");
  EXPECT_EQ(info->default_branch, "main");
  EXPECT_EQ(info->storage_namespace, "s3://bucket/x");
  EXPECT_GT(info->creation_time_ms, 0);
  ASSERT_OK(refs_->CreateRepository("repo0", "trunk"));

  auto got = refs_->GetRepository("repo1");
  ASSERT_OK(got);
  EXPECT_EQ(got->instance_id, info->instance_id);
  auto list = refs_->ListRepositories();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "repo0");
  EXPECT_EQ((*list)[1].name, "repo1");

  auto main = refs_->GetBranch("repo1", "main");
  ASSERT_OK(main);
  auto head = refs_->GetCommit("repo1", "main");
  ASSERT_OK(head);
  EXPECT_EQ(head->id, main->commit_id);
  EXPECT_EQ(head->generation, 1);
  EXPECT_TRUE(head->parents.empty());
  ASSERT_OK(refs_->GetBranch("repo0", "trunk"));

  EXPECT_TRUE(refs_->CreateRepository("repo1").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->GetRepository("nope").status().IsNotFound());
  EXPECT_TRUE(refs_->CreateRepository("bad/name").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->CreateRepository("").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->CreateRepository("x", "-bad").status().IsInvalidArgument());
}

TEST_P(RefStoreTest, DeleteRepositoryLeavesNothing) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "b", "2"));
  ASSERT_OK(refs_->CreateTag("r", "v1", "main"));
  ASSERT_OK(refs_->DeleteRepository("r"));
  EXPECT_TRUE(refs_->GetRepository("r").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteRepository("r").IsNotFound());
  auto list = refs_->ListRepositories();
  ASSERT_OK(list);
  EXPECT_TRUE(list->empty());
  ASSERT_OK(refs_->CollectGarbage());
  ExpectNoLeftovers(*env_.base, *env_.ranges);

  // Re-created under the same name, it starts empty.
  ASSERT_OK(refs_->CreateRepository("r"));
  EXPECT_TRUE(refs_->GetEntry("r", "main", "a").status().IsNotFound());
  EXPECT_TRUE(refs_->GetEntry("r", "main", "b").status().IsNotFound());
  EXPECT_TRUE(refs_->GetTag("r", "v1").status().IsNotFound());
}

TEST_P(RefStoreTest, Branches) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto c1 = CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2"));
  auto c2 = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateTag("r", "t1", c1.id));

  auto from_branch = refs_->CreateBranch("r", "feature/x", "main");
  ASSERT_OK(from_branch);
  EXPECT_EQ(from_branch->commit_id, c2.id);
  auto from_commit = refs_->CreateBranch("r", "old", c1.id);
  ASSERT_OK(from_commit);
  EXPECT_EQ(from_commit->commit_id, c1.id);
  auto from_tag = refs_->CreateBranch("r", "tagged", "t1");
  ASSERT_OK(from_tag);
  EXPECT_EQ(from_tag->commit_id, c1.id);
  EXPECT_EQ(*refs_->GetEntry("r", "old", "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "feature/x", "a"), "2");

  EXPECT_TRUE(refs_->CreateBranch("r", "old", "main").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->CreateBranch("r", "x", "nosuchref").status().IsNotFound());
  EXPECT_TRUE(refs_->CreateBranch("nosuchrepo", "x", "main").status().IsNotFound());

  auto list = refs_->ListBranches("r");
  ASSERT_OK(list);
  std::vector<std::string> names;
  for (auto& b : *list) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"feature/x", "main", "old", "tagged"}));

  EXPECT_TRUE(refs_->DeleteBranch("r", "main").IsInvalidArgument());
  ASSERT_OK(refs_->PutEntry("r", "old", "staged", "x"));
  ASSERT_OK(refs_->DeleteBranch("r", "old"));
  EXPECT_TRUE(refs_->GetBranch("r", "old").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteBranch("r", "old").IsNotFound());
  // Re-created, it does not see the staged writes of the deleted one.
  ASSERT_OK(refs_->CreateBranch("r", "old", c1.id));
  EXPECT_TRUE(refs_->GetEntry("r", "old", "staged").status().IsNotFound());
}

TEST_P(RefStoreTest, EntriesAtRefs) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  ASSERT_OK(refs_->PutEntry("r", "main", "b", ""));  // empty values are values
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "main", "b"), "");
  auto c1 = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateTag("r", "v1", "main"));

  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "b"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "never-existed"));
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "2");
  EXPECT_TRUE(refs_->GetEntry("r", "main", "b").status().IsNotFound());
  // Commit ids and tags see committed data only.
  EXPECT_EQ(*refs_->GetEntry("r", c1.id, "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "v1", "b"), "");

  auto c2 = CommitOk("r", "main");
  EXPECT_EQ(*refs_->GetEntry("r", c2.id, "a"), "2");
  EXPECT_TRUE(refs_->GetEntry("r", c2.id, "b").status().IsNotFound());
  EXPECT_EQ(*refs_->GetEntry("r", c1.id, "a"), "1");

  EXPECT_TRUE(refs_->PutEntry("r", "main", "", "x").IsInvalidArgument());
  EXPECT_TRUE(refs_->PutEntry("r", "nobranch", "a", "x").IsNotFound());
  EXPECT_TRUE(refs_->GetEntry("r", "nosuchref", "a").status().IsNotFound());
  // Paths are bytes.
  std::string odd("\x00\xff/x", 4);
  ASSERT_OK(refs_->PutEntry("r", "main", odd, "bin"));
  CommitOk("r", "main");
  EXPECT_EQ(*refs_->GetEntry("r", "main", odd), "bin");
}

TEST_P(RefStoreTest, ListMatchesModelWithPrefixAndPages) {
  ASSERT_OK(refs_->CreateRepository("r"));
  std::map<std::string, std::string> model;
  std::mt19937 rng(42);
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 60; ++i) {
      std::string path = std::string(1, "abc"[rng() % 3]) + "/" + std::to_string(rng() % 40);
      if (rng() % 4 == 0) {
        ASSERT_OK(refs_->DeleteEntry("r", "main", path));
        model.erase(path);
      } else {
        std::string value = std::to_string(rng());
        ASSERT_OK(refs_->PutEntry("r", "main", path, value));
        model[path] = value;
      }
    }
    if (round % 2 == 0) CommitOk("r", "main");
    for (size_t page : {1, 3, 7, 1000}) {
      auto got = AllEntries(*refs_, "r", "main", page);
      for (auto& [k, v] : model)
        if (!got.count(k) || got[k] != v) ADD_FAILURE() << "missing/wrong " << k;
      for (auto& [k, v] : got)
        if (!model.count(k)) ADD_FAILURE() << "extra " << k;
      EXPECT_EQ(got, model) << "round " << round << " page " << page;
    }
    for (std::string prefix : {"a/", "b/1", "zz"}) {
      rs::ListEntriesOptions options;
      options.prefix = prefix;
      options.limit = 4;
      std::map<std::string, std::string> got, want;
      for (auto& [k, v] : model) {
        if (k.rfind(prefix, 0) == 0) want[k] = v;
      }
      while (true) {
        auto page = refs_->ListEntries("r", "main", options);
        ASSERT_OK(page);
        for (auto& e : page->entries) got[e.path] = e.value;
        if (page->next_after.empty()) break;
        options.after = page->next_after;
      }
      EXPECT_EQ(got, want) << "prefix " << prefix;
    }
  }
}

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

TEST_P(RefStoreTest, Tags) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto c1 = CommitOk("r", "main");
  auto t = refs_->CreateTag("r", "v1.0", "main");
  ASSERT_OK(t);
  EXPECT_EQ(t->commit_id, c1.id);
  ASSERT_OK(refs_->CreateTag("r", "v0", c1.id));
  EXPECT_TRUE(refs_->CreateTag("r", "v1.0", "main").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->CreateTag("r", "v2", "nothing").status().IsNotFound());
  EXPECT_EQ(refs_->GetTag("r", "v1.0")->commit_id, c1.id);
  auto list = refs_->ListTags("r");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "v0");
  EXPECT_EQ(refs_->GetCommit("r", "v1.0")->id, c1.id);
  ASSERT_OK(refs_->DeleteTag("r", "v1.0"));
  EXPECT_TRUE(refs_->GetTag("r", "v1.0").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteTag("r", "v1.0").IsNotFound());
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

// Repositories, branches and tags page by name: every page boundary, pages of 1..n+1.
TEST_P(RefStoreTest, ListingsPageAcrossBoundaries) {
  std::vector<std::string> repos, branches{"main"}, tags;
  for (int i = 0; i < 7; ++i) {
    repos.push_back("r" + std::to_string(i));
    ASSERT_OK(refs_->CreateRepository(repos.back()));
  }
  for (int i = 0; i < 6; ++i) {
    branches.push_back("b" + std::to_string(i));
    ASSERT_OK(refs_->CreateBranch("r0", branches.back(), "main"));
    tags.push_back("t" + std::to_string(i));
    ASSERT_OK(refs_->CreateTag("r0", tags.back(), "main"));
  }
  std::sort(branches.begin(), branches.end());
  // A repository being deleted is skipped, also at a page boundary.
  ASSERT_OK(refs_->CreateRepository("r35"));
  {
    env_.store->SetHook([](const Call& c) {
      return c.verb == "droppartition" ? Fault::kFailBefore : Fault::kNone;
    });
    EXPECT_FALSE(refs_->DeleteRepository("r35").ok());
    env_.store->SetHook(nullptr);
  }
  for (size_t limit = 1; limit <= 8; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    auto page_all = [&](auto list, auto names_of, const std::vector<std::string>& want) {
      std::vector<std::string> got;
      rs::ListOptions options;
      options.limit = limit;
      for (int guard = 0; guard < 20; ++guard) {
        auto page = list(options);
        ASSERT_OK(page);
        std::vector<std::string> names = names_of(*page);
        EXPECT_LE(names.size(), limit);
        got.insert(got.end(), names.begin(), names.end());
        if (page->next_after.empty()) break;
        EXPECT_EQ(names.size(), limit);  // only a full page has a successor
        EXPECT_EQ(page->next_after, names.back());
        options.after = page->next_after;
      }
      EXPECT_EQ(got, want);
    };
    page_all([&](const rs::ListOptions& o) { return refs_->ListRepositories(o); },
             [](const rs::RepositoryPage& p) {
               std::vector<std::string> n;
               for (const auto& r : p.repositories) n.push_back(r.name);
               return n;
             },
             repos);
    page_all([&](const rs::ListOptions& o) { return refs_->ListBranches("r0", o); },
             [](const rs::BranchPage& p) {
               std::vector<std::string> n;
               for (const auto& b : p.branches) n.push_back(b.name);
               return n;
             },
             branches);
    page_all([&](const rs::ListOptions& o) { return refs_->ListTags("r0", o); },
             [](const rs::TagPage& p) {
               std::vector<std::string> n;
               for (const auto& t : p.tags) n.push_back(t.name);
               return n;
             },
             tags);
  }
  // An exact fit: the last full page says there is no next one only when nothing follows.
  rs::ListOptions options;
  options.limit = tags.size();
  auto exact = refs_->ListTags("r0", options);
  ASSERT_OK(exact);
  EXPECT_EQ(exact->tags.size(), tags.size());
  EXPECT_TRUE(exact->next_after.empty());
  // `after` need not be an existing name; limit 0 is everything.
  options.after = "b3x";
  options.limit = 0;
  auto rest = refs_->ListBranches("r0", options);
  ASSERT_OK(rest);
  ASSERT_EQ(rest->branches.size(), 3u);  // b4 b5 main
  EXPECT_EQ(rest->branches[0].name, "b4");
  EXPECT_TRUE(rest->next_after.empty());
  EXPECT_EQ(refs_->ListRepositories()->size(), repos.size());
  EXPECT_TRUE(refs_->ListBranches("nope", {}).status().IsNotFound());
}

namespace {
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
}  // namespace

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

INSTANTIATE_TEST_SUITE_P(Drivers, RefStoreTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
