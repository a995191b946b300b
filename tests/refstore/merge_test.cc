// Merge, revert, cherry-pick and the resets on every driver (fixture: refstore_fixture.h):
// outcomes, multi-parent history (log, cleaner, index check), conflicts, staged writes,
// error paths, a random history against a model of trees, concurrent merges.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "refstore/check.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/schema.h"
#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using MOutcome = rs::MergeResult::Outcome;
using Tree = std::map<std::string, std::string>;

size_t EnvCount(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class MergeTest : public RefStoreTest {
 protected:
  void Put(const std::string& branch, const std::string& path, const std::string& value) {
    ASSERT_OK(refs_->PutEntry("r", branch, path, value));
  }
  rs::MergeResult MergeOk(const std::string& source, const std::string& dest,
                          rs::MergeOptions options = {}) {
    auto r = refs_->Merge("r", dest, source, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : rs::MergeResult{};
  }
  std::string Head(const std::string& branch) { return refs_->GetBranch("r", branch)->commit_id; }
  Tree At(const std::string& ref) { return AllEntries(*refs_, "r", ref); }
};

TEST_P(MergeTest, MergeCommitFastForwardAndUpToDate) {
  ASSERT_OK(refs_->CreateRepository("r"));
  Put("main", "shared", "0");
  CommitOk("r", "main");
  ASSERT_OK(refs_->CreateBranch("r", "feature", "main"));
  Put("feature", "f", "1");
  const auto f1 = CommitOk("r", "feature");

  // main did not move: fast-forward (auto), or a merge commit (never).
  rs::MergeOptions never;
  never.fast_forward = rs::MergeOptions::FastForward::kNever;
  ASSERT_OK(refs_->CreateBranch("r", "other", "main"));
  auto merged = MergeOk("feature", "other", never);
  EXPECT_EQ(merged.outcome, MOutcome::kMerged);
  EXPECT_EQ(merged.commit.parents.size(), 2u);
  EXPECT_EQ(At("other"), At("feature"));
  auto ff = MergeOk("feature", "main");
  EXPECT_EQ(ff.outcome, MOutcome::kFastForwarded);
  EXPECT_EQ(Head("main"), f1.id);
  auto again = MergeOk("feature", "main");
  EXPECT_EQ(again.outcome, MOutcome::kAlreadyUpToDate);

  // Both moved: a merge commit with parents [head, source], base and strategy recorded.
  Put("main", "m", "2");
  const auto m2 = CommitOk("r", "main");
  Put("feature", "g", "3");
  const auto f2 = CommitOk("r", "feature");
  rs::MergeOptions only;
  only.fast_forward = rs::MergeOptions::FastForward::kOnly;
  EXPECT_TRUE(refs_->Merge("r", "main", "feature", only).status().IsPredicateFailed());
  EXPECT_EQ(Head("main"), m2.id);
  rs::MergeOptions opts;
  opts.committer = "merger";
  opts.metadata = {{"k", "v"}};
  auto m = MergeOk("feature", "main", opts);
  ASSERT_EQ(m.outcome, MOutcome::kMerged);
  EXPECT_EQ(m.commit.parents, (std::vector<std::string>{m2.id, f2.id}));
  EXPECT_EQ(m.base, f1.id);
  EXPECT_EQ(m.commit.metadata.at("merge.base"), f1.id);
  EXPECT_EQ(m.commit.metadata.at("merge.strategy"), "fail");
  EXPECT_EQ(m.commit.metadata.at("k"), "v");
  EXPECT_EQ(m.commit.generation, std::max(m2.generation, f2.generation) + 1);
  EXPECT_EQ(At("main"), (Tree{{"shared", "0"}, {"f", "1"}, {"m", "2"}, {"g", "3"}}));
  // Merging the merge's source again: up to date; the feature now fast-forwards to main.
  EXPECT_EQ(MergeOk("feature", "main").outcome, MOutcome::kAlreadyUpToDate);
  EXPECT_EQ(MergeOk("main", "feature").outcome, MOutcome::kFastForwarded);

  // Log: newest first by generation, every commit once.
  auto log = refs_->Log("r", "main", rs::LogOptions{0, ""});
  ASSERT_OK(log);
  std::set<std::string> seen;
  int64_t prev = INT64_MAX;
  for (const auto& c : log->commits) {
    EXPECT_TRUE(seen.insert(c.id).second) << c.id;
    EXPECT_LE(c.generation, prev);
    prev = c.generation;
  }
  EXPECT_TRUE(seen.count(m2.id) && seen.count(f2.id) && seen.count(f1.id));
  // Index keys of the merge commit (both parents), and the cleaner keeps the history.
  auto index = rs::migrations::CheckIndex(*env_.base, rs::kCodeSchema);
  ASSERT_OK(index);
  EXPECT_TRUE(index->empty());
  auto checked = rs::Check(*env_.base, *refs_, *env_.ranges);
  ASSERT_OK(checked);
  for (const auto& v : checked->violations) ADD_FAILURE() << v.location << ": " << v.problem;
  ASSERT_OK(refs_->DeleteBranch("r", "feature"));
  ASSERT_OK(refs_->DeleteBranch("r", "other"));
  ASSERT_OK(refs_->CollectGarbage());
  ExpectConsistent(*refs_);
  ExpectNoLeftovers(*env_.base, *env_.ranges);
  EXPECT_EQ(refs_->GetCommit("r", f2.id)->id, f2.id);
}

TEST_P(MergeTest, SquashAndNoChanges) {
  ASSERT_OK(refs_->CreateRepository("r"));
  Put("main", "a", "1");
  CommitOk("r", "main");
  ASSERT_OK(refs_->CreateBranch("r", "f", "main"));
  Put("f", "b", "2");
  const auto f = CommitOk("r", "f");
  Put("main", "b", "2");  // the same change on main
  const auto m = CommitOk("r", "main");
  auto none = MergeOk("f", "main");
  EXPECT_EQ(none.outcome, MOutcome::kNoChanges);
  EXPECT_EQ(Head("main"), m.id);
  rs::MergeOptions opts;
  opts.allow_empty = true;
  opts.squash = true;
  auto squashed = MergeOk("f", "main", opts);
  EXPECT_EQ(squashed.outcome, MOutcome::kMerged);
  EXPECT_EQ(squashed.commit.parents, std::vector<std::string>{m.id});
  EXPECT_EQ(squashed.commit.metadata.at("merge.source"), f.id);
}

TEST_P(MergeTest, ConflictsListedAndNothingWritten) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const size_t n = EnvCount("REFKV_MERGE_CONFLICTS", 200);
  for (size_t i = 0; i < n; ++i) Put("main", "p" + std::to_string(10000 + i), "base");
  Put("main", "x", "base");
  CommitOk("r", "main");
  ASSERT_OK(refs_->CreateBranch("r", "f", "main"));
  for (size_t i = 0; i < n; ++i) Put("f", "p" + std::to_string(10000 + i), "src");
  Put("f", "y", "new");
  CommitOk("r", "f");
  for (size_t i = 0; i < n; ++i) {
    if (i % 2) {
      Put("main", "p" + std::to_string(10000 + i), "dst");
    } else {
      ASSERT_OK(refs_->DeleteEntry("r", "main", "p" + std::to_string(10000 + i)));
    }
  }
  const auto head = CommitOk("r", "main");
  const Tree before = At("main");
  rs::MergeOptions opts;
  opts.conflicts_limit = 50;
  std::vector<rs::MergeConflict> all;
  while (true) {
    auto page = MergeOk("f", "main", opts);
    ASSERT_EQ(page.outcome, MOutcome::kConflicts);
    EXPECT_EQ(page.commit.id, head.id);
    for (auto& c : page.conflicts) all.push_back(c);
    if (page.conflicts_next_after.empty()) break;
    opts.conflicts_after = page.conflicts_next_after;
  }
  ASSERT_EQ(all.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(all[i].path, "p" + std::to_string(10000 + i));
    EXPECT_EQ(all[i].base, "base");
    EXPECT_EQ(all[i].source, "src");
    EXPECT_EQ(all[i].dest, i % 2 ? std::optional<std::string>("dst") : std::nullopt);
  }
  EXPECT_EQ(Head("main"), head.id);
  EXPECT_EQ(At("main"), before);

  // Strategies and a resolver settle them.
  rs::MergeOptions dest_wins;
  dest_wins.strategy = rs::MergeOptions::Strategy::kDestWins;
  ASSERT_OK(refs_->CreateBranch("r", "d", "main"));
  auto dw = MergeOk("f", "d", dest_wins);
  ASSERT_EQ(dw.outcome, MOutcome::kMerged);
  Tree want = before;
  want["y"] = "new";
  EXPECT_EQ(At("d"), want);
  rs::MergeOptions resolver;
  resolver.strategy = rs::MergeOptions::Strategy::kResolver;
  resolver.resolver = [](const rs::MergeConflict& c) {
    return rs::MergeResolution{c.path != "p10000", c.source};
  };
  auto partial = MergeOk("f", "main", resolver);
  ASSERT_EQ(partial.outcome, MOutcome::kConflicts);
  ASSERT_EQ(partial.conflicts.size(), 1u);
  EXPECT_EQ(partial.conflicts[0].path, "p10000");
  rs::MergeOptions source_wins;
  source_wins.strategy = rs::MergeOptions::Strategy::kSourceWins;
  ASSERT_EQ(MergeOk("f", "main", source_wins).outcome, MOutcome::kMerged);
  EXPECT_EQ(At("main"), At("f"));
}

TEST_P(MergeTest, StagedWritesAndExpectedHead) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->CreateBranch("r", "f", "main"));
  Put("f", "a", "1");
  CommitOk("r", "f");
  Put("main", "b", "2");
  CommitOk("r", "main");
  const std::string head = Head("main");
  Put("main", "staged", "s");
  auto refused = refs_->Merge("r", "main", "f", {});
  ASSERT_TRUE(refused.status().IsPredicateFailed()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("'main'"), std::string::npos);
  EXPECT_EQ(Head("main"), head);
  rs::MergeOptions opts;
  opts.expected_dest_head = "0123456789abcdef0123456789abcdef";
  opts.keep_staged = true;
  EXPECT_TRUE(refs_->Merge("r", "main", "f", opts).status().IsPredicateFailed());
  opts.expected_dest_head = head;
  auto kept = MergeOk("f", "main", opts);
  ASSERT_EQ(kept.outcome, MOutcome::kMerged);
  EXPECT_EQ(At("main"), (Tree{{"a", "1"}, {"b", "2"}, {"staged", "s"}}));
  const auto after = CommitOk("r", "main");
  EXPECT_EQ(after.parents, std::vector<std::string>{kept.commit.id});
  // Bad inputs: nothing written.
  EXPECT_TRUE(refs_->Merge("r", "main", "nope", {}).status().IsNotFound());
  EXPECT_TRUE(refs_->Merge("r", "nope", "f", {}).status().IsNotFound());
  EXPECT_TRUE(refs_->Merge("r", "bad name!", "f", {}).status().IsInvalidArgument());
  rs::MergeOptions no_resolver;
  no_resolver.strategy = rs::MergeOptions::Strategy::kResolver;
  EXPECT_TRUE(refs_->Merge("r", "main", "f", no_resolver).status().IsInvalidArgument());
  EXPECT_EQ(Head("main"), after.id);
}

TEST_P(MergeTest, RevertCherryPickAndResets) {
  ASSERT_OK(refs_->CreateRepository("r"));
  Put("main", "a", "1");
  Put("main", "b", "1");
  const auto c1 = CommitOk("r", "main");
  Put("main", "a", "2");
  ASSERT_OK(refs_->DeleteEntry("r", "main", "b"));
  Put("main", "c", "2");
  const auto c2 = CommitOk("r", "main");
  const Tree t2 = At("main");
  auto reverted = refs_->Revert("r", "main", c2.id, {});
  ASSERT_OK(reverted);
  ASSERT_EQ(reverted->outcome, MOutcome::kMerged);
  EXPECT_EQ(reverted->commit.parents, std::vector<std::string>{c2.id});
  EXPECT_EQ(At("main"), At(c1.id));
  auto again = refs_->Revert("r", "main", reverted->commit.id, {});
  ASSERT_OK(again);
  EXPECT_EQ(At("main"), t2);  // revert(revert(C)) restores C's tree
  // Reverting a revert already undone: no changes.
  auto empty = refs_->Revert("r", "main", c1.id, {});
  ASSERT_OK(empty);  // c1 added a and b from nothing: conflicts with later changes of a
  EXPECT_EQ(empty->outcome, MOutcome::kConflicts);
  EXPECT_EQ(empty->conflicts.size(), 1u);  // a: base 1, source absent, dest 2

  // Cherry-pick onto another branch.
  ASSERT_OK(refs_->CreateBranch("r", "old", c1.id));
  auto picked = refs_->CherryPick("r", "old", c2.id, {});
  ASSERT_OK(picked);
  ASSERT_EQ(picked->outcome, MOutcome::kMerged);
  EXPECT_EQ(At("old"), t2);
  auto twice = refs_->CherryPick("r", "old", c2.id, {});
  ASSERT_OK(twice);
  EXPECT_EQ(twice->outcome, MOutcome::kNoChanges);

  // A merge commit needs a parent number.
  ASSERT_OK(refs_->CreateBranch("r", "f", c1.id));
  Put("f", "z", "9");
  CommitOk("r", "f");
  auto m = MergeOk("f", "main");
  ASSERT_EQ(m.outcome, MOutcome::kMerged);
  auto no_parent = refs_->Revert("r", "main", m.commit.id, {});
  ASSERT_TRUE(no_parent.status().IsInvalidArgument());
  EXPECT_NE(no_parent.status().message().find(m.commit.parents[1]), std::string::npos);
  rs::PickOptions p3;
  p3.parent_number = 3;
  EXPECT_TRUE(refs_->Revert("r", "main", m.commit.id, p3).status().IsInvalidArgument());
  rs::PickOptions p1;
  p1.parent_number = 1;
  auto undo_merge = refs_->Revert("r", "main", m.commit.id, p1);
  ASSERT_OK(undo_merge);
  EXPECT_EQ(At("main"), At(m.commit.parents[0]));

  // ResetBranchTo: expected head, staged writes, discard.
  const std::string head = Head("main");
  EXPECT_TRUE(refs_->ResetBranchTo("r", "main", c1.id, std::string("0123"), false)
                  .status()
                  .IsPredicateFailed());
  Put("main", "s", "x");
  EXPECT_TRUE(refs_->ResetBranchTo("r", "main", c1.id, head, false).status().IsPredicateFailed());
  EXPECT_EQ(Head("main"), head);
  auto reset = refs_->ResetBranchTo("r", "main", c1.id, head, true);
  ASSERT_OK(reset);
  EXPECT_EQ(reset->commit_id, c1.id);
  EXPECT_EQ(At("main"), At(c1.id));
  EXPECT_TRUE(refs_->ResetBranchTo("r", "main", "nope", std::nullopt, false).status().IsNotFound());

  // ResetEntries: one path, one prefix.
  Put("main", "d/1", "x");
  Put("main", "d/2", "x");
  Put("main", "d", "x");
  Put("main", "e", "x");
  ASSERT_OK(refs_->ResetEntries("r", "main", "e", false));
  EXPECT_EQ(At("main").count("e"), 0u);
  ASSERT_OK(refs_->ResetEntries("r", "main", "d/", true));
  Tree want = At(c1.id);
  want["d"] = "x";
  EXPECT_EQ(At("main"), want);
  EXPECT_TRUE(refs_->ResetEntries("r", "main", "", false).IsInvalidArgument());
  ASSERT_OK(refs_->CollectGarbage());
  ExpectConsistent(*refs_);
}

// Random branches, commits, merges, reverts and cherry-picks against a map per commit.
TEST_P(MergeTest, RandomHistoryMatchesModel) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const size_t steps = EnvCount("REFKV_MERGE_HISTORY_STEPS", 40);
  std::mt19937_64 rng(GetParam().size() * 7919 + 17);
  std::map<std::string, Tree> trees;  // commit id -> tree
  std::map<std::string, std::vector<std::string>> parents;
  std::vector<std::string> branches = {"main"};
  trees[Head("main")] = {};
  auto ancestors = [&](const std::string& id) {
    std::set<std::string> out;
    std::vector<std::string> todo{id};
    while (!todo.empty()) {
      std::string c = todo.back();
      todo.pop_back();
      if (!out.insert(c).second) continue;
      for (const auto& p : parents[c]) todo.push_back(p);
    }
    return out;
  };
  auto three_way = [](const Tree& b, const Tree& s, const Tree& d, bool* conflict) {
    std::set<std::string> paths;
    for (const Tree* t : {&b, &s, &d})
      for (const auto& [k, v] : *t) paths.insert(k);
    Tree out;
    for (const auto& k : paths) {
      auto at = [&](const Tree& t) {
        auto f = t.find(k);
        return f == t.end() ? std::optional<std::string>() : f->second;
      };
      auto vb = at(b), vs = at(s), vd = at(d);
      std::optional<std::string> m;
      if (vs == vd || vb == vd) {
        m = vs;
      } else if (vb == vs) {
        m = vd;
      } else {
        *conflict = true;
        m = vs;  // source-wins
      }
      if (m) out[k] = *m;
    }
    return out;
  };
  for (size_t step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string branch = branches[rng() % branches.size()];
    const int op = static_cast<int>(rng() % 10);
    if (op < 4 || branches.size() < 2) {
      if (rng() % 3 == 0 && branches.size() < 5) {
        const std::string name = "b" + std::to_string(step);
        ASSERT_OK(refs_->CreateBranch("r", name, branch));
        branches.push_back(name);
        continue;
      }
      Tree t = trees.at(Head(branch));
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
        std::string path = "p" + std::to_string(rng() % 12);
        if (rng() % 4 == 0) {
          ASSERT_OK(refs_->DeleteEntry("r", branch, path));
          t.erase(path);
        } else {
          std::string v = "v" + std::to_string(rng() % 3);
          ASSERT_OK(refs_->PutEntry("r", branch, path, v));
          t[path] = v;
        }
      }
      rs::CommitRequest req;
      auto c = refs_->Commit("r", branch, req);
      ASSERT_OK(c);
      trees[c->commit.id] = t;
      parents[c->commit.id] = c->commit.parents;
      ASSERT_EQ(At(branch), t);
    } else if (op < 8) {
      const std::string source = branches[rng() % branches.size()];
      const std::string head = Head(branch), src = Head(source);
      rs::MergeOptions opts;
      opts.strategy = rs::MergeOptions::Strategy::kSourceWins;
      opts.fast_forward =
          rng() % 2 ? rs::MergeOptions::FastForward::kAuto : rs::MergeOptions::FastForward::kNever;
      opts.allow_empty = true;
      auto m = refs_->Merge("r", branch, source, opts);
      ASSERT_OK(m);
      if (ancestors(head).count(src)) {
        ASSERT_EQ(m->outcome, MOutcome::kAlreadyUpToDate);
        continue;
      }
      if (m->outcome == MOutcome::kFastForwarded) {
        ASSERT_TRUE(ancestors(src).count(head));
        ASSERT_EQ(Head(branch), src);
        continue;
      }
      ASSERT_EQ(m->outcome, MOutcome::kMerged);
      const Tree base = m->base.empty() ? Tree{} : trees.at(m->base);
      ASSERT_TRUE(m->base.empty() ||
                  (ancestors(head).count(m->base) && ancestors(src).count(m->base)));
      bool conflict = false;
      ASSERT_EQ(At(branch), three_way(base, trees.at(src), trees.at(head), &conflict));
      trees[m->commit.id] = At(branch);
      parents[m->commit.id] = m->commit.parents;
    } else {
      // Revert or cherry-pick a random single-parent commit of some branch's history.
      const std::string from = Head(branches[rng() % branches.size()]);
      if (parents[from].size() != 1) continue;
      const bool revert = rng() % 2 == 0;
      rs::PickOptions opts;
      opts.strategy = rs::MergeOptions::Strategy::kSourceWins;
      opts.allow_empty = true;
      const std::string head = Head(branch);
      auto r = revert ? refs_->Revert("r", branch, from, opts)
                      : refs_->CherryPick("r", branch, from, opts);
      ASSERT_OK(r);
      ASSERT_EQ(r->outcome, MOutcome::kMerged);
      const Tree& c = trees.at(from);
      const Tree& p = trees.at(parents[from][0]);
      bool conflict = false;
      ASSERT_EQ(At(branch), revert ? three_way(c, p, trees.at(head), &conflict)
                                   : three_way(p, c, trees.at(head), &conflict));
      trees[r->commit.id] = At(branch);
      parents[r->commit.id] = r->commit.parents;
    }
  }
  ASSERT_OK(refs_->CollectGarbage());
  ExpectConsistent(*refs_);
  ExpectNoLeftovers(*env_.base, *env_.ranges);
}

// 8 threads merge their own feature branch into main repeatedly: every successful merge
// is in main's history exactly once and every change is in main's tree.
TEST_P(MergeTest, ConcurrentMergesEachOnce) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const int threads = 8;
  const int rounds = static_cast<int>(EnvCount("REFKV_MERGE_CONCURRENT_ROUNDS", 3));
  for (int t = 0; t < threads; ++t) {
    ASSERT_OK(refs_->CreateBranch("r", "f" + std::to_string(t), "main"));
  }
  std::vector<std::vector<std::string>> merges(threads);
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string branch = "f" + std::to_string(t);
      for (int i = 0; i < rounds; ++i) {
        const std::string path = branch + "/" + std::to_string(i);
        if (!refs_->PutEntry("r", branch, path, "v").ok()) ++failures;
        auto c = refs_->Commit("r", branch, {});
        if (!c.ok()) ++failures;
        rs::MergeOptions opts;
        opts.fast_forward = rs::MergeOptions::FastForward::kNever;
        auto m = refs_->Merge("r", "main", branch, opts);
        if (!m.ok() || m->outcome != MOutcome::kMerged) {
          ++failures;
          continue;
        }
        merges[t].push_back(m->commit.id);
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  auto log = refs_->Log("r", "main", rs::LogOptions{0, ""});
  ASSERT_OK(log);
  std::map<std::string, int> count;
  for (const auto& c : log->commits) count[c.id]++;
  for (const auto& per_thread : merges) {
    for (const auto& id : per_thread) EXPECT_EQ(count[id], 1) << id;
  }
  const Tree main = At("main");
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < rounds; ++i) {
      EXPECT_EQ(main.count("f" + std::to_string(t) + "/" + std::to_string(i)), 1u);
    }
  }
  EXPECT_EQ(main.size(), static_cast<size_t>(threads * rounds));
}

INSTANTIATE_TEST_SUITE_P(Drivers, MergeTest, ::testing::ValuesIn(Drivers()));

}  // namespace
}  // namespace refkv::testing
