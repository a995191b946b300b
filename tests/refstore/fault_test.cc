// Fault injection: the n-th KV call of repository creation, commit and deletion fails,
// for every n, in three ways (fails once; succeeds but reports an unknown outcome; the
// process "dies": every call from the n-th on fails). Afterwards, in a fresh process:
// nothing half-made is visible, every reachable id resolves and has its index keys, the
// operation can be retried to completion, no staged write is lost, and the cleaner
// removes every leftover (orphan index keys included).
//
// On PostgreSQL every call costs a round trip and each n a fresh schema, so a sweep there
// takes every REFKV_FAULT_PG_STRIDE-th call (default 4; 1 = all, as `scripts/test --full`
// sets) from a random offset (REFKV_FAULT_SEED repeats one): over runs every call is hit.
// mem and rocks run the same code above the KV layer and sweep every call.
#include <gtest/gtest.h>

#include "base/random.h"
#include "refstore/internal/keys.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/schema.h"
#include "tests/refstore/harness.h"
#include "tests/support/require.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

enum class Mode { kFailOnce, kUnknownOutcome, kCrash };

std::string ModeName(Mode m) {
  switch (m) {
    case Mode::kFailOnce:
      return "FailOnce";
    case Mode::kUnknownOutcome:
      return "UnknownOutcome";
    case Mode::kCrash:
      return "Crash";
  }
  return "?";
}

class FaultTest : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {
 protected:
  const std::string& driver() const { return std::get<0>(GetParam()); }
  Mode mode() const { return std::get<1>(GetParam()); }

  // A fresh env whose interposer consults counter_. False (and skips) if the driver is
  // not available.
  bool Fresh(TestEnv* env) {
    Status s = OpenEnv(driver(), TestOptions(), env);
    if (s.IsUnsupported()) return false;
    EXPECT_OK(s);
    counter_.Disarm();
    env->store->SetHook([this](const Call& c) { return counter_(c); });
    return s.ok();
  }

  void Arm(uint64_t n) {
    counter_.Arm(n, mode() == Mode::kCrash,
                 mode() == Mode::kUnknownOutcome ? Fault::kFailAfter : Fault::kFailBefore);
  }

  // Runs `setup` and then `op` with the n-th call of `op` failing, for every n until `op`
  // makes fewer than n calls; `check(env, op_status)` runs after each in a "restarted"
  // process (faults off, a new RefStore).
  void Sweep(const std::function<void(rs::RefStore&)>& setup,
             const std::function<Status(rs::RefStore&)>& op,
             const std::function<void(TestEnv&, const Status&)>& check) {
    uint64_t stride = 1;
    if (driver() == "postgres") {
      const char* env = std::getenv("REFKV_FAULT_PG_STRIDE");
      stride = env != nullptr ? std::max(1, std::atoi(env)) : 4;
    }
    const uint64_t seed = SeedFromEnv("REFKV_FAULT_SEED", std::nullopt, "fault sweep");
    for (uint64_t n = 1 + seed % stride; n < 10000; n += stride) {
      SCOPED_TRACE("failing call #" + std::to_string(n) + " (" + ModeName(mode()) + ")");
      TestEnv env;
      if (!Fresh(&env)) REFKV_SKIP_UNLESS_REQUIRED(driver() + " not available");
      setup(*env.refs);
      if (HasFatalFailure()) return;
      Arm(n);
      Status s = op(*env.refs);
      const bool fired = counter_.Fired();
      counter_.Disarm();
      ASSERT_OK(env.Reopen(TestOptions()));
      check(env, s);
      if (HasFatalFailure()) return;
      // Whatever failed, every published commit has its index keys.
      auto index = rs::migrations::CheckIndex(*env.base, rs::kCodeSchema);
      ASSERT_OK(index);
      for (const auto& v : *index)
        ADD_FAILURE() << v.partition << " " << v.key << ": " << v.problem;
      // The cleaner leaves nothing unreachable behind.
      ASSERT_OK(env.refs->CollectGarbage());
      ExpectNoLeftovers(*env.base, *env.ranges);
      ExpectConsistent(*env.refs);
      if (!fired) {
        EXPECT_OK(s);
        std::printf("%s/%s: swept %llu calls\n", driver().c_str(), ModeName(mode()).c_str(),
                    static_cast<unsigned long long>(n - 1));
        return;  // the operation made fewer than n calls: every call was covered
      }
    }
    ADD_FAILURE() << "operation never finished";
  }

  CallCounter counter_;
};

rs::CommitRequest Req(std::string message) {
  rs::CommitRequest req;
  req.committer = "fault";
  req.message = std::move(message);
  return req;
}

TEST_P(FaultTest, CreateRepository) {
  Sweep([](rs::RefStore&) {},
        [](rs::RefStore& refs) { return refs.CreateRepository("r", "main").status(); },
        [](TestEnv& env, const Status& s) {
          auto got = env.refs->GetRepository("r");
          if (s.ok()) {
            ASSERT_OK(got);
          }
          if (got.ok()) {
            // Visible means whole.
            ASSERT_OK(env.refs->GetBranch("r", "main"));
            ASSERT_OK(env.refs->GetCommit("r", "main"));
          } else {
            EXPECT_TRUE(got.status().IsNotFound()) << got.status().ToString();
            EXPECT_TRUE(env.refs->ListRepositories()->empty());
          }
          // A retry completes it.
          auto again = env.refs->CreateRepository("r", "main");
          EXPECT_TRUE(again.ok() || (got.ok() && again.status().IsAlreadyExists()))
              << again.status().ToString();
          ASSERT_OK(env.refs->PutEntry("r", "main", "x", "1"));
          auto c = env.refs->Commit("r", "main", Req("after"));
          ASSERT_OK(c);
          EXPECT_EQ(c->outcome, Outcome::kCommitted);
        });
}

TEST_P(FaultTest, Commit) {
  Sweep(
      [](rs::RefStore& refs) {
        ASSERT_OK(refs.CreateRepository("r"));
        ASSERT_OK(refs.PutEntry("r", "main", "a", "1"));
        ASSERT_OK(refs.PutEntry("r", "main", "b", "1"));
        ASSERT_OK(refs.Commit("r", "main", Req("base")));
        ASSERT_OK(refs.CreateTag("r", "v1", "main"));
        ASSERT_OK(refs.PutEntry("r", "main", "c", "2"));
        ASSERT_OK(refs.PutEntry("r", "main", "b", "2"));
        ASSERT_OK(refs.DeleteEntry("r", "main", "a"));
      },
      [](rs::RefStore& refs) { return refs.Commit("r", "main", Req("faulty")).status(); },
      [](TestEnv& env, const Status& s) {
        auto head = env.refs->GetCommit("r", "main");
        ASSERT_OK(head);
        if (s.ok()) {
          EXPECT_EQ(head->message, "faulty");
        }
        // Staged or committed, the writes are visible at the branch...
        auto check_branch = [&](const std::string& ref) {
          EXPECT_TRUE(env.refs->GetEntry("r", ref, "a").status().IsNotFound());
          auto b = env.refs->GetEntry("r", ref, "b");
          auto c = env.refs->GetEntry("r", ref, "c");
          ASSERT_OK(b);
          ASSERT_OK(c);
          EXPECT_EQ(*b, "2");
          EXPECT_EQ(*c, "2");
        };
        check_branch("main");
        // ...and the next commit makes them committed.
        auto retry = env.refs->Commit("r", "main", Req("retry"));
        ASSERT_OK(retry);
        auto now = env.refs->GetCommit("r", "main");
        ASSERT_OK(now);
        check_branch(now->id);
        EXPECT_EQ(env.refs->GetBranch("r", "main")->sealed_tokens, 0u);
        EXPECT_EQ(*env.refs->GetEntry("r", "v1", "a"), "1");
      });
}

// Merge, revert and reset: a fault leaves the branch at its old head or at the whole
// result, and running the call again finishes it.
TEST_P(FaultTest, Merge) {
  Sweep(
      [](rs::RefStore& refs) {
        ASSERT_OK(refs.CreateRepository("r"));
        ASSERT_OK(refs.PutEntry("r", "main", "a", "1"));
        ASSERT_OK(refs.Commit("r", "main", Req("a")));
        ASSERT_OK(refs.CreateBranch("r", "f", "main"));
        ASSERT_OK(refs.PutEntry("r", "f", "b", "1"));
        ASSERT_OK(refs.Commit("r", "f", Req("b")));
        ASSERT_OK(refs.PutEntry("r", "main", "c", "1"));
        ASSERT_OK(refs.Commit("r", "main", Req("c")));
      },
      [](rs::RefStore& refs) {
        rs::MergeOptions o;
        o.fast_forward = rs::MergeOptions::FastForward::kNever;
        return refs.Merge("r", "main", "f", o).status();
      },
      [](TestEnv& env, const Status& s) {
        auto head = env.refs->GetCommit("r", "main");
        ASSERT_OK(head);
        const bool merged = head->parents.size() == 2;
        if (s.ok()) {
          EXPECT_TRUE(merged);
        }
        EXPECT_EQ(AllEntries(*env.refs, "r", "main").size(), merged ? 3u : 2u);
        auto again = env.refs->Merge("r", "main", "f", {});
        ASSERT_OK(again);
        EXPECT_EQ(again->outcome, merged ? rs::MergeResult::Outcome::kAlreadyUpToDate
                                         : rs::MergeResult::Outcome::kMerged);
        EXPECT_EQ(AllEntries(*env.refs, "r", "main"),
                  (std::map<std::string, std::string>{{"a", "1"}, {"b", "1"}, {"c", "1"}}));
      });
}

TEST_P(FaultTest, RevertAndReset) {
  for (const bool revert : {true, false}) {
    SCOPED_TRACE(revert ? "revert" : "reset");
    Sweep(
        [](rs::RefStore& refs) {
          ASSERT_OK(refs.CreateRepository("r"));
          ASSERT_OK(refs.PutEntry("r", "main", "a", "1"));
          ASSERT_OK(refs.Commit("r", "main", Req("one")));
          ASSERT_OK(refs.CreateTag("r", "one", "main"));
          ASSERT_OK(refs.PutEntry("r", "main", "a", "2"));
          ASSERT_OK(refs.PutEntry("r", "main", "b", "2"));
          ASSERT_OK(refs.Commit("r", "main", Req("two")));
          ASSERT_OK(refs.CreateTag("r", "two", "main"));
        },
        [revert](rs::RefStore& refs) {
          if (revert) return refs.Revert("r", "main", "two", {}).status();
          return refs.ResetBranchTo("r", "main", "one", std::nullopt, false).status();
        },
        [revert](TestEnv& env, const Status& s) {
          const auto one = AllEntries(*env.refs, "r", "one");
          const auto now = AllEntries(*env.refs, "r", "main");
          if (s.ok()) {
            EXPECT_EQ(now, one);
          }
          EXPECT_TRUE(now == one || now == AllEntries(*env.refs, "r", "two"));
          if (revert) {
            ASSERT_OK(env.refs->Revert("r", "main", "two", {}));
          } else {
            ASSERT_OK(env.refs->ResetBranchTo("r", "main", "one", std::nullopt, false));
          }
          EXPECT_EQ(AllEntries(*env.refs, "r", "main"), one);
        });
    if (HasFatalFailure()) return;
  }
}

TEST_P(FaultTest, DeleteRepository) {
  Sweep(
      [](rs::RefStore& refs) {
        ASSERT_OK(refs.CreateRepository("r"));
        ASSERT_OK(refs.CreateRepository("other"));
        ASSERT_OK(refs.PutEntry("r", "main", "a", "1"));
        ASSERT_OK(refs.PutEntry("other", "main", "o", "1"));
        ASSERT_OK(refs.Commit("r", "main", Req("c")));
        ASSERT_OK(refs.Commit("other", "main", Req("c")));
        ASSERT_OK(refs.CreateBranch("r", "dev", "main"));
        ASSERT_OK(refs.PutEntry("r", "dev", "d", "1"));
        ASSERT_OK(refs.CreateTag("r", "v1", "main"));
      },
      [](rs::RefStore& refs) { return refs.DeleteRepository("r"); },
      [](TestEnv& env, const Status& s) {
        auto got = env.refs->GetRepository("r");
        if (s.ok()) {
          EXPECT_TRUE(got.status().IsNotFound());
        }
        if (got.ok()) {
          // Still visible: still whole.
          EXPECT_EQ(*env.refs->GetEntry("r", "dev", "d"), "1");
          EXPECT_EQ(*env.refs->GetEntry("r", "v1", "a"), "1");
        }
        Status again = env.refs->DeleteRepository("r");
        EXPECT_TRUE(again.ok() || again.IsNotFound()) << again.ToString();
        EXPECT_TRUE(env.refs->GetRepository("r").status().IsNotFound());
        EXPECT_EQ(*env.refs->GetEntry("other", "main", "o"), "1");
      });
}

INSTANTIATE_TEST_SUITE_P(Drivers, FaultTest,
                         ::testing::Combine(::testing::ValuesIn(Drivers()),
                                            ::testing::Values(Mode::kFailOnce,
                                                              Mode::kUnknownOutcome, Mode::kCrash)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + ModeName(std::get<1>(info.param));
                         });

// Index keys left without their commit record (a commit of older refkv that died between
// its index and its record, or one that stalled past gc_grace): the cleaner deletes them
// and nothing else; `check`'s index verification and the ancestry queries stay right.
TEST(OrphanIndex, CleanerDeletesIndexKeysWithoutRecordOnly) {
  for (const auto& driver : Drivers()) {
    SCOPED_TRACE(driver);
    TestEnv env;
    ASSERT_OK(OpenEnv(driver, TestOptions(), &env));
    ASSERT_OK(env.refs->CreateRepository("r"));
    ASSERT_OK(env.refs->PutEntry("r", "main", "a", "1"));
    auto made = env.refs->Commit("r", "main", Req("c"));
    ASSERT_OK(made);
    const std::string head = made->commit.id;
    auto repo = env.refs->GetRepository("r");
    ASSERT_OK(repo);
    const std::string refs = rs::internal::RefsPartition("r", repo->instance_id);
    const std::string ghost(32, 'f');  // no record has this id
    ASSERT_OK(env.base->Set(refs, rs::migrations::AncestryKey(ghost), std::string(8, '\0')));
    ASSERT_OK(env.base->Set(refs, rs::migrations::ChildKey(head, ghost), ""));
    auto children = rs::migrations::Children(*env.base, refs, head);
    ASSERT_OK(children);
    EXPECT_TRUE(children->empty()) << "an orphan child key is not a child";

    auto stats = env.refs->CollectGarbage();
    ASSERT_OK(stats);
    EXPECT_EQ(stats->index_keys_deleted, 2u);
    EXPECT_EQ(stats->commits_deleted, 0u);
    EXPECT_TRUE(env.base->Get(refs, rs::migrations::AncestryKey(ghost)).status().IsNotFound());
    ExpectNoLeftovers(*env.base, *env.ranges);  // the live commits keep their index keys
    auto violations = rs::migrations::CheckIndex(*env.base, rs::kCodeSchema);
    ASSERT_OK(violations);
    EXPECT_TRUE(violations->empty()) << violations->front().key;
    auto anc = rs::migrations::IsAncestor(*env.base, refs, made->commit.parents.at(0), head);
    ASSERT_OK(anc);
    EXPECT_TRUE(*anc);
    auto again = env.refs->CollectGarbage();
    ASSERT_OK(again);
    EXPECT_EQ(again->index_keys_deleted, 0u);
  }
}

// A writer that stores an object while the cleaner deletes the same id (content
// addressing: a new commit may produce a range an unreachable one had) keeps what it wrote:
// the delete removes only the chunks of the manifest it deleted.
TEST(RangeStoreRace, DeleteRacingAWriterOfTheSameIdKeepsTheNewObject) {
  for (const auto& driver : Drivers()) {
    SCOPED_TRACE(driver);
    TestEnv env;
    ASSERT_OK(OpenEnv(driver, TestOptions(), &env));
    const std::string id(32, 'a');
    const std::string bytes = "range bytes";
    ASSERT_OK(env.ranges->PutRange(id, bytes));
    bool fired = false;
    env.store->SetHook([&](const Call& c) {
      // The manifest is gone, the chunks not yet: another writer stores the id anew.
      if (!fired && c.verb == "deleterange" && c.key.substr(0, 3) == "rc/") {
        fired = true;
        EXPECT_OK(env.ranges->PutRange(id, bytes));
      }
      return Fault::kNone;
    });
    ASSERT_OK(env.ranges->DeleteRange(id));
    env.store->SetHook(nullptr);
    EXPECT_TRUE(fired);
    auto got = env.ranges->GetRange(id);
    ASSERT_OK(got);
    EXPECT_EQ(*got, bytes);
    ASSERT_OK(env.ranges->DeleteRange(id));
    EXPECT_TRUE(env.ranges->GetRange(id).status().IsNotFound());
  }
}

}  // namespace
}  // namespace refkv::testing
