// Options::sync_commits / sync_staged_writes on every driver (same code): which calls sync
// the kv::Store, how often and in what order, watched through the interposed store.
#include <gtest/gtest.h>

#include <functional>

#include "refstore/internal/keys.h"
#include "tests/refstore/harness.h"
#include "tests/support/require.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

class DurabilityTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Opens an env whose ref store syncs as asked, with a CallLog on its store.
  void Open(bool sync_commits, bool sync_staged_writes) {
    rs::Options options = TestOptions();
    options.sync_commits = sync_commits;
    options.sync_staged_writes = sync_staged_writes;
    Status s = OpenEnv(GetParam(), options, &env_);
    if (s.IsUnsupported()) REFKV_SKIP_UNLESS_REQUIRED(s.ToString());
    ASSERT_OK(s);
    env_.store->SetHook(std::ref(log_));
    refs_ = env_.refs.get();
  }

  // Index of the only "sync" call in the log (fails the test if there is not exactly one).
  size_t OnlySync() const {
    auto calls = log_.calls();
    size_t at = calls.size();
    size_t n = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].verb == "sync") {
        at = i;
        ++n;
      }
    }
    EXPECT_EQ(n, 1u) << Dump();
    return at;
  }

  // The index of the last call of `verb` on a key equal to `key`; calls.size() if none.
  size_t Last(std::string_view verb, std::string_view key) const {
    auto calls = log_.calls();
    size_t at = calls.size();
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].verb == verb && calls[i].key == key) at = i;
    }
    return at;
  }

  // Every write after index `after` is a release of staged entries (a speed-up that need
  // not be durable): nothing the call acknowledged was written after its Sync.
  void ExpectOnlyReleasesAfter(size_t after) const {
    auto calls = log_.calls();
    for (size_t i = after + 1; i < calls.size(); ++i) {
      const auto& c = calls[i];
      const bool write = c.verb == "set" || c.verb == "setif" || c.verb == "delete" ||
                         c.verb == "deleteif" || c.verb == "write" || c.verb == "droppartition";
      // Releasing staged entries: a batch of deletes in a staging partition.
      const bool release = c.verb == "write" && c.partition.size() > 8 &&
                           c.partition.compare(c.partition.size() - 8, 8, "/staging") == 0;
      EXPECT_FALSE(write && !release) << "call #" << i << " " << c.verb << " " << c.partition << "/"
                                      << c.key << " after the sync\n"
                                      << Dump();
    }
  }

  std::string Dump() const {
    std::string out;
    for (const auto& c : log_.calls()) {
      out += c.verb + " " + kv::Printable(c.partition) + " " + kv::Printable(c.key) + "\n";
    }
    return out;
  }

  TestEnv env_;
  CallLog log_;
  rs::RefStore* refs_ = nullptr;
};

const std::string kMainKey = refstore::internal::BranchKey("main");

TEST_P(DurabilityTest, CommitSyncsExactlyOnceAfterItsBranchCas) {
  Open(/*sync_commits=*/true, /*sync_staged_writes=*/false);
  ASSERT_OK(refs_->CreateRepository("r"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "p" + std::to_string(i), "v"));
  }
  EXPECT_EQ(log_.Count("sync"), 1u) << "only the repository creation syncs";  // not the puts
  log_.Clear();
  auto c = refs_->Commit("r", "main", {});
  ASSERT_OK(c);
  EXPECT_EQ(c->outcome, Outcome::kCommitted);
  const size_t sync = OnlySync();
  const size_t cas = Last("setif", kMainKey);
  ASSERT_LT(cas, log_.calls().size()) << Dump();
  EXPECT_LT(cas, sync) << "the sync must follow the branch CaS\n" << Dump();
  ExpectOnlyReleasesAfter(sync);
  // The CaS before the sync is the one that published the commit.
  EXPECT_EQ(refs_->GetBranch("r", "main")->commit_id, c->commit.id);

  // A second commit on a larger tree: still one sync.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "q" + std::to_string(i), "v"));
  }
  log_.Clear();
  ASSERT_OK(refs_->Commit("r", "main", {}));
  EXPECT_LT(Last("setif", kMainKey), OnlySync());
}

TEST_P(DurabilityTest, EveryOkOutcomeOfACommitSyncsOnce) {
  Open(true, false);
  ASSERT_OK(refs_->CreateRepository("r"));
  // No changes: one sync after the CaS that drops the sealed token.
  log_.Clear();
  auto none = refs_->Commit("r", "main", {});
  ASSERT_OK(none);
  EXPECT_EQ(none->outcome, Outcome::kNoChanges);
  EXPECT_LT(Last("setif", kMainKey), OnlySync());

  // Every staged write a no-op (deleting an absent path): no changes, one sync.
  ASSERT_OK(refs_->DeleteEntry("r", "main", "absent"));
  log_.Clear();
  none = refs_->Commit("r", "main", {});
  ASSERT_OK(none);
  EXPECT_EQ(none->outcome, Outcome::kNoChanges);
  OnlySync();
}

TEST_P(DurabilityTest, AFailedSyncFailsTheCommit) {
  Open(true, false);
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  log_.FailVerb("sync");
  auto c = refs_->Commit("r", "main", {});
  ASSERT_FALSE(c.ok()) << "a commit whose sync failed must not report success";
  EXPECT_TRUE(c.status().IsIOError()) << c.status().ToString();
  EXPECT_NE(c.status().ToString().find("syncing commit"), std::string::npos)
      << c.status().ToString();
  log_.FailVerb("");
  // The commit is published (only its durability was in doubt); the next commit of the
  // branch reports no changes and the data is there.
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "1");
  auto again = refs_->Commit("r", "main", {});
  ASSERT_OK(again);
  EXPECT_EQ(again->outcome, Outcome::kNoChanges);
}

TEST_P(DurabilityTest, RefChangingCallsSyncOnceAfterTheirLastWrite) {
  Open(true, false);
  struct Op {
    std::string name;
    std::function<Status()> run;
  };
  std::vector<Op> ops = {
      {"create repository", [&] { return refs_->CreateRepository("r").status(); }},
      {"create branch", [&] { return refs_->CreateBranch("r", "dev", "main").status(); }},
      {"reset branch", [&] { return refs_->ResetBranch("r", "dev"); }},
      {"create tag", [&] { return refs_->CreateTag("r", "v1", "main").status(); }},
      {"delete tag", [&] { return refs_->DeleteTag("r", "v1"); }},
      {"delete branch", [&] { return refs_->DeleteBranch("r", "dev"); }},
      {"delete repository", [&] { return refs_->DeleteRepository("r"); }},
  };
  for (const auto& op : ops) {
    SCOPED_TRACE(op.name);
    log_.Clear();
    ASSERT_OK(op.run());
    ExpectOnlyReleasesAfter(OnlySync());
  }
}

TEST_P(DurabilityTest, StagedWritesSyncOnlyWhenAsked) {
  Open(true, true);
  ASSERT_OK(refs_->CreateRepository("r"));
  log_.Clear();
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  const size_t sync = OnlySync();
  auto calls = log_.calls();
  size_t set = calls.size();
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].verb == "set") set = i;
  }
  ASSERT_LT(set, calls.size()) << Dump();
  EXPECT_LT(set, sync) << "the staged write must precede its sync\n" << Dump();
  ExpectOnlyReleasesAfter(sync);
  log_.Clear();
  ASSERT_OK(refs_->DeleteEntry("r", "main", "a"));
  OnlySync();
}

TEST_P(DurabilityTest, NothingSyncsWhenOff) {
  Open(false, false);
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->CreateBranch("r", "dev", "main"));
  for (int i = 0; i < 50; ++i) ASSERT_OK(refs_->PutEntry("r", "dev", "p" + std::to_string(i), "v"));
  ASSERT_OK(refs_->DeleteEntry("r", "dev", "p3"));
  auto c = refs_->Commit("r", "dev", {});
  ASSERT_OK(c);
  EXPECT_EQ(c->outcome, Outcome::kCommitted);
  ASSERT_OK(refs_->Commit("r", "dev", {}));  // no changes
  ASSERT_OK(refs_->CreateTag("r", "v1", "dev"));
  ASSERT_OK(refs_->DeleteTag("r", "v1"));
  ASSERT_OK(refs_->ResetBranch("r", "dev"));
  ASSERT_OK(refs_->DeleteBranch("r", "dev"));
  ASSERT_OK(refs_->DeleteRepository("r"));
  EXPECT_EQ(log_.Count("sync"), 0u) << Dump();
  EXPECT_GT(log_.calls().size(), 100u);  // the log did see the calls
}

INSTANTIATE_TEST_SUITE_P(Drivers, DurabilityTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
