// Conditional staged writes (PutEntry / DeleteEntry with an EntryPrecondition) and
// UpdateEntry, on every driver: the preconditions one by one, a commit (and a competing
// conditional write) run at every point inside a conditional write, a model of random
// writes and commits, and threads incrementing one counter while another thread commits.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Pre = rs::EntryPrecondition;

int EnvInt(const char* name, int fallback) {
  const char* env = std::getenv(name);
  return env != nullptr ? std::atoi(env) : fallback;
}

class ConditionalTest : public RefStoreTest {
 protected:
  // The value at `ref`, nullopt if absent.
  std::optional<std::string> Read(const std::string& repo, const std::string& ref,
                                  const std::string& path) {
    auto v = refs_->GetEntry(repo, ref, path);
    if (v.status().IsNotFound()) return std::nullopt;
    EXPECT_OK(v);
    return v.ok() ? std::optional<std::string>(*v) : std::nullopt;
  }

  // Runs `action` on this thread before the `index`-th store call (0-based) that
  // `write` makes; calls made by `action` itself are not counted. Returns `write`'s status
  // and whether the action ran (false: `write` made fewer calls).
  std::pair<Status, bool> InterposeAt(int index, const std::function<Status()>& write,
                                      const std::function<void()>& action) {
    thread_local bool inside = false;
    int seen = 0;
    bool ran = false;
    env_.store->SetHook([&](const Call&) {
      if (inside || ran) return Fault::kNone;
      if (seen++ == index) {
        inside = true;
        action();
        inside = false;
        ran = true;
      }
      return Fault::kNone;
    });
    Status s = write();
    env_.store->SetHook(nullptr);
    return {s, ran};
  }
};

TEST_P(ConditionalTest, PreconditionsAgainstStagedAndCommitted) {
  ASSERT_OK(refs_->CreateRepository("r"));
  // Absent: nothing anywhere.
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1", Pre::Absent()));
  EXPECT_TRUE(refs_->PutEntry("r", "main", "a", "2", Pre::Absent()).IsPredicateFailed());
  EXPECT_TRUE(refs_->PutEntry("r", "main", "b", "2", Pre::Exists()).IsPredicateFailed());
  EXPECT_TRUE(refs_->PutEntry("r", "main", "a", "2", Pre::Equals("0")).IsPredicateFailed());
  EXPECT_EQ(Read("r", "main", "a"), "1");
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2", Pre::Equals("1")));  // staged over staged
  CommitOk("r", "main");
  // Against committed data (nothing staged).
  EXPECT_TRUE(refs_->PutEntry("r", "main", "a", "3", Pre::Absent()).IsPredicateFailed());
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "3", Pre::Exists()));
  CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "4", Pre::Equals("3")));
  // A staged deletion is absent, over a committed value.
  ASSERT_OK(refs_->DeleteEntry("r", "main", "a"));
  EXPECT_TRUE(refs_->DeleteEntry("r", "main", "a", Pre::Exists()).IsPredicateFailed());
  EXPECT_TRUE(refs_->PutEntry("r", "main", "a", "5", Pre::Equals("3")).IsPredicateFailed());
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "5", Pre::Absent()));
  EXPECT_TRUE(refs_->DeleteEntry("r", "main", "a", Pre::Equals("4")).IsPredicateFailed());
  ASSERT_OK(refs_->DeleteEntry("r", "main", "a", Pre::Equals("5")));
  EXPECT_EQ(Read("r", "main", "a"), std::nullopt);
  // A failure names the path and what it found; the message says nothing was written.
  Status s = refs_->PutEntry("r", "main", "a", "6", Pre::Exists());
  EXPECT_NE(s.message().find("'a'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("absent"), std::string::npos) << s.ToString();
  // The other branches and the committed value are untouched; the commit folds the rest.
  CommitOk("r", "main");
  EXPECT_EQ(Read("r", "main", "a"), std::nullopt);
  EXPECT_TRUE(refs_->PutEntry("r", "nope", "a", "1", Pre::Absent()).IsNotFound());
  ExpectConsistent(*refs_);
}

TEST_P(ConditionalTest, UpdateEntry) {
  ASSERT_OK(refs_->CreateRepository("r"));
  auto increment = [](const std::optional<std::string>& v) -> Result<std::optional<std::string>> {
    return std::optional<std::string>(std::to_string(v ? std::stoi(*v) + 1 : 1));
  };
  ASSERT_OK(refs_->UpdateEntry("r", "main", "n", increment));
  ASSERT_OK(refs_->UpdateEntry("r", "main", "n", increment));
  CommitOk("r", "main");
  ASSERT_OK(refs_->UpdateEntry("r", "main", "n", increment));
  EXPECT_EQ(Read("r", "main", "n"), "3");
  // nullopt deletes; an error of fn comes back as is, nothing written.
  ASSERT_OK(refs_->UpdateEntry("r", "main", "n", [](const std::optional<std::string>&) {
    return Result<std::optional<std::string>>(std::optional<std::string>());
  }));
  EXPECT_EQ(Read("r", "main", "n"), std::nullopt);
  Status s = refs_->UpdateEntry("r", "main", "n", [](const std::optional<std::string>&) {
    return Result<std::optional<std::string>>(Status::InvalidArgument("no"));
  });
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // The value changes under every attempt: Conflict, bounded.
  int calls = 0;
  s = refs_->UpdateEntry(
      "r", "main", "m",
      [&](const std::optional<std::string>&) -> Result<std::optional<std::string>> {
        ++calls;
        REFKV_RETURN_IF_ERROR(refs_->PutEntry("r", "main", "m", std::to_string(calls)));
        return std::optional<std::string>("mine");
      },
      4);
  EXPECT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(Read("r", "main", "m"), "4");
}

// Before every store call of a conditional write W (expecting "1"), on this thread: a
// commit, or a competing conditional write X (also expecting "1") and a commit, in either
// order. Exactly one of W and X may succeed, and the value left is the winner's.
TEST_P(ConditionalTest, CommitAndCompetitorAtEveryStepOfAWrite) {
  enum Action { kCommit, kCompeteThenCommit, kCommitThenCompete };
  const std::string repo = "r";  // one repository (creating one costs a column family)
  ASSERT_OK(refs_->CreateRepository(repo));
  // PostgreSQL (a round trip per call): a quarter of the cases unless
  // REFKV_CONDITIONAL_ALL_POINTS is set (the time budget of the suite).
  const bool all = GetParam() != "postgres" || std::getenv("REFKV_CONDITIONAL_ALL_POINTS");
  for (bool staged : {false, true}) {
    for (Action action : {kCommit, kCompeteThenCommit, kCommitThenCompete}) {
      for (bool remove : {false, true}) {
        if (!all && (staged || remove)) continue;
        for (int index = 0;; ++index) {
          const std::string p = "p" + std::to_string(staged) + std::to_string(action) +
                                std::to_string(remove) + "-" + std::to_string(index);
          SCOPED_TRACE(p);
          ASSERT_OK(refs_->PutEntry(repo, "main", p, "1"));
          if (!staged) CommitOk(repo, "main");
          Status competitor = Status::OK();
          bool competed = false;
          auto [w, ran] = InterposeAt(
              index,
              [&] {
                return remove ? refs_->DeleteEntry(repo, "main", p, Pre::Equals("1"))
                              : refs_->PutEntry(repo, "main", p, "W", Pre::Equals("1"));
              },
              [&] {
                rs::CommitRequest req;
                req.committer = "c";
                req.message = "between";
                if (action == kCommitThenCompete) EXPECT_OK(refs_->Commit(repo, "main", req));
                if (action != kCommit) {
                  competitor = refs_->PutEntry(repo, "main", p, "X", Pre::Equals("1"));
                  competed = true;
                }
                if (action == kCompeteThenCommit) EXPECT_OK(refs_->Commit(repo, "main", req));
              });
          ASSERT_TRUE(w.ok() || w.IsPredicateFailed()) << w.ToString();
          if (!ran) break;  // W made fewer calls: every point was tried
          std::optional<std::string> want;
          if (competed) {
            ASSERT_TRUE(competitor.ok() || competitor.IsPredicateFailed()) << competitor.ToString();
            EXPECT_NE(w.ok(), competitor.ok())
                << "W: " << w.ToString() << " X: " << competitor.ToString();
            want = competitor.ok() ? std::optional<std::string>("X")
                                   : (remove ? std::nullopt : std::optional<std::string>("W"));
          } else {
            EXPECT_OK(w);
            want = remove ? std::nullopt : std::optional<std::string>("W");
          }
          EXPECT_EQ(Read(repo, "main", p), want);
          rs::CommitRequest req;
          req.committer = "c";
          req.message = "after";
          ASSERT_OK(refs_->Commit(repo, "main", req));
          EXPECT_EQ(Read(repo, "main", p), want);
          ASSERT_LT(index, 64);
        }
      }
    }
  }
  ExpectConsistent(*refs_);
}

// Random conditional and plain writes and deletions on a few paths with commits between
// them (and, at random, inside a write), against a model of the branch's visible state.
TEST_P(ConditionalTest, ModelWithCommitsInterleaved) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const int steps = EnvInt("REFKV_CONDITIONAL_MODEL_STEPS", GetParam() == "postgres" ? 150 : 300);
  std::mt19937 rng(EnvInt("REFKV_CONDITIONAL_SEED", 18));
  std::map<std::string, std::string> model;
  const std::vector<std::string> paths = {"a", "b", "c", "d/e"};
  const std::vector<std::string> values = {"0", "1", "2"};
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string path = pick(paths);
    const int op = static_cast<int>(rng() % 10);
    if (op == 0) {
      rs::CommitRequest req;
      req.committer = "c";
      req.message = "step";
      ASSERT_OK(refs_->Commit("r", "main", req));
      continue;
    }
    std::optional<Pre> pre;
    switch (rng() % 4) {
      case 0:
        pre = Pre::Absent();
        break;
      case 1:
        pre = Pre::Exists();
        break;
      case 2:
        pre = Pre::Equals(pick(values));
        break;
      default:
        break;
    }
    const bool remove = op <= 3;
    const std::string value = pick(values);
    auto it = model.find(path);
    const bool holds =
        !pre || (pre->kind == Pre::Kind::kAbsent && it == model.end()) ||
        (pre->kind == Pre::Kind::kExists && it != model.end()) ||
        (pre->kind == Pre::Kind::kEquals && it != model.end() && it->second == pre->value);
    auto write = [&] {
      if (remove) {
        return pre ? refs_->DeleteEntry("r", "main", path, *pre)
                   : refs_->DeleteEntry("r", "main", path);
      }
      return pre ? refs_->PutEntry("r", "main", path, value, *pre)
                 : refs_->PutEntry("r", "main", path, value);
    };
    Status s;
    if (rng() % 3 == 0) {  // a commit inside the write changes nothing visible
      const int at = static_cast<int>(rng() % 8);
      s = InterposeAt(at, write, [&] {
            rs::CommitRequest req;
            req.committer = "inside";
            req.message = "inside";
            EXPECT_OK(refs_->Commit("r", "main", req));
          }).first;
    } else {
      s = write();
    }
    if (holds) {
      ASSERT_OK(s);
      if (remove) {
        model.erase(path);
      } else {
        model[path] = value;
      }
    } else {
      ASSERT_TRUE(s.IsPredicateFailed()) << s.ToString();
    }
    if (step % 16 == 0) ASSERT_EQ(AllEntries(*refs_, "r", "main"), model);
  }
  ASSERT_EQ(AllEntries(*refs_, "r", "main"), model);
  rs::CommitRequest req;
  req.committer = "c";
  req.message = "last";
  ASSERT_OK(refs_->Commit("r", "main", req));
  auto head = refs_->GetCommit("r", "main");
  ASSERT_OK(head);
  EXPECT_EQ(AllEntries(*refs_, "r", head->id), model);
  ExpectConsistent(*refs_);
}

// Threads increment one counter with UpdateEntry while another thread commits the branch
// in a loop: no increment is lost (a stale precondition would let two increments of the
// same value both pass).
TEST_P(ConditionalTest, ConcurrentIncrementsWithCommits) {
  ASSERT_OK(refs_->CreateRepository("r"));
  constexpr int kThreads = 4;
  const int rounds = EnvInt("REFKV_CONDITIONAL_ROUNDS", GetParam() == "postgres" ? 15 : 40);
  std::atomic<bool> done{false};
  std::atomic<int> commits{0};
  std::thread committer([&] {
    rs::CommitRequest req;
    req.committer = "committer";
    req.message = "tick";
    while (!done) {
      auto r = refs_->Commit("r", "main", req);
      if (r.ok() && r->outcome == rs::CommitResult::Outcome::kCommitted) ++commits;
      if (!r.ok()) EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
    }
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        Status s = refs_->UpdateEntry(
            "r", "main", "n",
            [](const std::optional<std::string>& v) -> Result<std::optional<std::string>> {
              return std::optional<std::string>(std::to_string(v ? std::stoi(*v) + 1 : 1));
            },
            1000);
        if (s.ok()) {
          ++ok;
        } else {
          ADD_FAILURE() << s.ToString();
        }
        if (i % 4 == 3) {  // commits from the writers too, so that they race the writes
          rs::CommitRequest req;
          req.committer = "writer";
          req.message = "tick";
          auto r = refs_->Commit("r", "main", req);
          if (r.ok() && r->outcome == rs::CommitResult::Outcome::kCommitted) ++commits;
          if (!r.ok()) EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  committer.join();
  EXPECT_EQ(ok.load(), kThreads * rounds);
  EXPECT_EQ(Read("r", "main", "n"), std::to_string(ok.load()));
  rs::CommitRequest req;
  req.committer = "c";
  req.message = "last";
  ASSERT_OK(refs_->Commit("r", "main", req));
  EXPECT_EQ(Read("r", "main", "n"), std::to_string(ok.load()));
  EXPECT_GT(commits.load(), 0);
  ExpectConsistent(*refs_);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ConditionalTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
