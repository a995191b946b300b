// Ref expressions (~N, ^N, chains, id prefixes), resolution order, merge base,
// ancestry and the filtered log (paths, prefixes, first parent, stop_at, since) on every
// driver, checked against a plain model of the commit DAG. Merge
// commits (several parents) are written as records through the same codec and index
// helpers a commit uses (WriteMergeCommit), and branches are created at them, so the
// histories have merges in their middle. REFKV_HISTORY_STEPS sets the size of the
// random histories (default 24).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/internal/ref_expr.h"
#include "refstore/migrations/commit_index.h"
#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;

size_t HistorySteps() {
  const char* env = std::getenv("REFKV_HISTORY_STEPS");
  return env != nullptr ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) : 24;
}

std::string RefsOf(rs::RefStore& refs, const std::string& repo) {
  auto info = refs.GetRepository(repo);
  EXPECT_OK(info);
  return rs::internal::RefsPartition(repo, info.ok() ? info->instance_id : "");
}

// Writes a commit record with `parents` (in order) and tree `metarange`, and its index
// keys, as a commit does before publishing it; returns its id. Nothing points at it.
std::string WriteMergeCommit(kv::Store& store, const std::string& refs,
                             const std::vector<rs::CommitInfo>& parents,
                             const std::string& metarange, const std::string& message) {
  rs::pb::Commit c;
  int64_t generation = 0;
  for (const auto& p : parents) {
    c.add_parents(p.id);
    generation = std::max(generation, p.generation);
  }
  c.set_committer("merger");
  c.set_message(message);
  c.set_creation_time_ms(rs::internal::NowMs());
  c.set_generation(generation + 1);
  c.set_metarange_id(metarange);
  c.set_id(rs::internal::ComputeCommitId(c));
  kv::WriteBatch batch;
  batch.Put(rs::internal::CommitKey(c.id()), rs::internal::Encode(c));
  rs::migrations::AddIndexKeys(c, rs::kCodeSchema, &batch);
  EXPECT_OK(store.Write(refs, batch));
  return c.id();
}

// ---- parsing -------------------------------------------------------------------------

TEST(RefExprParse, StepsAndErrors) {
  auto e = rs::internal::ParseRefExpr("main~2^2~^");
  ASSERT_OK(e);
  EXPECT_EQ(e->base, "main");
  ASSERT_EQ(e->steps.size(), 4u);
  EXPECT_EQ(e->steps[0].n, 2);
  EXPECT_EQ(e->steps[1].kind, rs::internal::RefStep::Kind::kParent);
  EXPECT_EQ(e->steps[1].n, 2);
  EXPECT_EQ(e->steps[2].n, 1);
  EXPECT_EQ(e->steps[3].position, 9u);
  struct Bad {
    const char* expr;
    const char* position;
  };
  for (Bad bad : {Bad{"main~x", "position 5"}, Bad{"~1", "position 0"}, Bad{"main^0", "position 4"},
                  Bad{"main~1a", "position 6"}, Bad{"main~99999999", "position"}}) {
    auto r = rs::internal::ParseRefExpr(bad.expr);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad.expr << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(bad.expr), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find(bad.position), std::string::npos) << r.status().ToString();
  }
  EXPECT_TRUE(rs::internal::IsCommitIdPrefix("abcdef"));
  EXPECT_TRUE(rs::internal::IsCommitIdPrefix("ABCDEF0"));
  EXPECT_FALSE(rs::internal::IsCommitIdPrefix("abcde"));
  EXPECT_FALSE(rs::internal::IsCommitIdPrefix("abcdeg"));
}

// ---- resolution on the drivers -------------------------------------------------------

TEST_P(RefStoreTest, ExpressionsOnALinearHistoryAndBadInput) {
  ASSERT_OK(refs_->CreateRepository("r"));
  auto root = refs_->GetCommit("r", "main");
  ASSERT_OK(root);
  std::vector<rs::CommitInfo> line{*root};
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(refs_->PutEntry("r", "main", "p", std::to_string(i)));
    line.push_back(CommitOk("r", "main"));
  }
  // The branch resolves with its staged writes; an expression names a commit.
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "staged"));
  EXPECT_EQ(*refs_->GetEntry("r", "main", "p"), "staged");
  EXPECT_EQ(*refs_->GetEntry("r", "main~0", "p"), "2");
  EXPECT_EQ(*refs_->GetEntry("r", "main~", "p"), "1");
  EXPECT_EQ(refs_->Resolve("r", "main~3")->id, line[0].id);
  EXPECT_EQ(refs_->Resolve("r", "main^^")->id, line[1].id);
  EXPECT_EQ(refs_->Resolve("r", "main~1^1~1")->id, line[0].id);
  EXPECT_EQ(refs_->Resolve("r", line[3].id + "~2")->id, line[1].id);
  EXPECT_EQ(refs_->Resolve("r", line[3].id.substr(0, 6))->id, line[3].id);
  EXPECT_EQ(refs_->Resolve("r", line[2].id.substr(0, 9) + "^")->id, line[1].id);
  // Everywhere a ref is taken: branch creation, tags, listing, log, diff.
  ASSERT_OK(refs_->CreateBranch("r", "old", "main~2"));
  EXPECT_EQ(refs_->GetBranch("r", "old")->commit_id, line[1].id);
  ASSERT_OK(refs_->CreateTag("r", "t1", "old^"));
  EXPECT_EQ(refs_->GetTag("r", "t1")->commit_id, line[0].id);
  EXPECT_EQ(refs_->Log("r", "main~1")->commits.front().id, line[2].id);
  auto diff = refs_->Diff("r", "main~2", "main~1");
  ASSERT_OK(diff);
  ASSERT_EQ(diff->size(), 1u);
  EXPECT_EQ(diff->front().right, "1");

  for (const char* bad : {"main~4", "main~x", "main^0", "main~3^", "main^2"}) {
    auto r = refs_->Resolve("r", bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find("position"), std::string::npos) << r.status().ToString();
    EXPECT_TRUE(refs_->GetEntry("r", bad, "p").status().IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(refs_->Resolve("r", "nosuch~1").status().IsNotFound());
  EXPECT_TRUE(refs_->Resolve("r", "0000000").status().IsNotFound());
}

TEST_P(RefStoreTest, ResolutionOrderBranchTagIdPrefix) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "1"));
  const rs::CommitInfo first = CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "2"));
  const rs::CommitInfo second = CommitOk("r", "main");
  const std::string prefix = second.id.substr(0, 8);
  EXPECT_EQ(refs_->Resolve("r", prefix)->id, second.id);
  // A tag named like the prefix wins over the prefix; a branch wins over both.
  ASSERT_OK(refs_->CreateTag("r", prefix, first.id));
  EXPECT_EQ(refs_->Resolve("r", prefix)->id, first.id);
  auto root = refs_->Resolve("r", "main~2");
  ASSERT_OK(root);
  ASSERT_OK(refs_->CreateBranch("r", prefix, root->id));
  EXPECT_EQ(refs_->Resolve("r", prefix)->id, root->id);
  EXPECT_EQ(refs_->Resolve("r", prefix + "~0")->id, root->id);
  // A branch named like a full id wins over the commit.
  ASSERT_OK(refs_->CreateBranch("r", second.id, root->id));
  EXPECT_EQ(refs_->Resolve("r", second.id)->id, root->id);
  // The prefix of another commit still resolves by scan: one scan, <= 2 keys.
  CallLog log;
  env_.store->SetHook(std::ref(log));
  EXPECT_EQ(refs_->Resolve("r", first.id.substr(0, 7))->id, first.id);
  env_.store->SetHook(nullptr);
  size_t scans = 0;
  for (const auto& c : log.calls()) scans += c.verb == "scan";
  EXPECT_EQ(scans, 1u);
}

TEST_P(RefStoreTest, AmbiguousPrefixListsCandidatesAndUniqueReadsTwoKeys) {
  ASSERT_OK(refs_->CreateRepository("r"));
  auto root = refs_->GetCommit("r", "main");
  ASSERT_OK(root);
  const std::string refs = RefsOf(*refs_, "r");
  // Find two commits whose ids share 6 hex digits by hashing candidate records locally
  // (~6k on average), then write those two: a genuine collision, not a forged key.
  std::map<std::string, rs::pb::Commit> by_prefix;
  std::vector<rs::pb::Commit> pair;
  for (int i = 0; pair.empty(); ++i) {
    rs::pb::Commit c;
    c.add_parents(root->id);
    c.set_message("m" + std::to_string(i));
    c.set_generation(root->generation + 1);
    c.set_metarange_id(root->metarange_id);
    c.set_id(rs::internal::ComputeCommitId(c));
    auto [it, fresh] = by_prefix.emplace(c.id().substr(0, 6), c);
    if (!fresh) pair = {it->second, c};
  }
  for (const auto& c : pair) {
    kv::WriteBatch batch;
    batch.Put(rs::internal::CommitKey(c.id()), rs::internal::Encode(c));
    rs::migrations::AddIndexKeys(c, rs::kCodeSchema, &batch);
    ASSERT_OK(env_.base->Write(refs, batch));
  }
  const std::string shared = pair[0].id().substr(0, 6);
  auto r = refs_->Resolve("r", shared);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("ambiguous"), std::string::npos);
  EXPECT_NE(r.status().message().find(pair[0].id()), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(pair[1].id()), std::string::npos) << r.status().ToString();
  // One more digit tells them apart (when it does), reading at most 2 keys.
  for (const auto& c : pair) {
    size_t len = 7;
    while (c.id().substr(0, len) == pair[0].id().substr(0, len) &&
           c.id().substr(0, len) == pair[1].id().substr(0, len))
      ++len;
    EXPECT_EQ(refs_->Resolve("r", c.id().substr(0, len))->id, c.id());
    size_t keys_read = 0;
    auto found =
        rs::internal::FindCommitsByPrefix(*env_.base, refs, c.id().substr(0, len), 2, &keys_read);
    ASSERT_OK(found);
    EXPECT_EQ(found->size(), 1u);
    EXPECT_LE(keys_read, 2u);
  }
  size_t keys_read = 0;
  ASSERT_OK(rs::internal::FindCommitsByPrefix(*env_.base, refs, shared, 2, &keys_read));
  EXPECT_EQ(keys_read, 2u);
}

// ---- the model -----------------------------------------------------------------------

struct ModelCommit {
  std::vector<std::string> parents;
  int64_t generation = 0;
  int64_t time_ms = 0;
};
using Model = std::map<std::string, ModelCommit>;

bool ModelIsAncestor(const Model& m, const std::string& a, const std::string& b) {
  std::set<std::string> seen;
  std::vector<std::string> todo{b};
  while (!todo.empty()) {
    std::string id = todo.back();
    todo.pop_back();
    if (id == a) return true;
    if (!seen.insert(id).second) continue;
    for (const auto& p : m.at(id).parents) todo.push_back(p);
  }
  return false;
}

std::set<std::string> ModelAncestors(const Model& m, const std::string& b) {
  std::set<std::string> seen;
  std::vector<std::string> todo{b};
  while (!todo.empty()) {
    std::string id = todo.back();
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    for (const auto& p : m.at(id).parents) todo.push_back(p);
  }
  return seen;
}

TEST_P(RefStoreTest, ExpressionsAncestryAndLogMatchADagModelWithMerges) {
  std::mt19937 rng(GetParam().size() * 7919 + 17);
  ASSERT_OK(refs_->CreateRepository("r"));
  const std::string refs = RefsOf(*refs_, "r");
  Model model;
  auto add = [&](const rs::CommitInfo& c) { model[c.id] = ModelCommit{c.parents, c.generation}; };
  auto root = refs_->GetCommit("r", "main");
  ASSERT_OK(root);
  add(*root);
  std::vector<std::string> branches{"main"};
  const size_t steps = HistorySteps();
  for (size_t step = 0; step < steps; ++step) {
    const int op = static_cast<int>(rng() % 10);
    const std::string on = branches[rng() % branches.size()];
    if (op < 5 || branches.size() < 2) {  // a commit on a branch
      const std::string path = (rng() % 3 ? "p" : "d/") + std::to_string(rng() % 4);
      ASSERT_OK(refs_->PutEntry("r", on, path, std::to_string(step)));
      add(CommitOk("r", on, "c" + std::to_string(step)));
    } else if (op < 7) {  // a branch off some commit
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      const std::string name = "b" + std::to_string(step);
      ASSERT_OK(refs_->CreateBranch("r", name, it->first));
      branches.push_back(name);
    } else {  // a merge of 2 or 3 branch heads, with a branch at it
      std::vector<rs::CommitInfo> parents;
      std::set<std::string> ids;
      const size_t want = op == 9 ? 3 : 2;
      for (size_t tries = 0; parents.size() < want && tries < 10; ++tries) {
        auto head = refs_->GetCommit("r", branches[rng() % branches.size()]);
        ASSERT_OK(head);
        if (ids.insert(head->id).second) parents.push_back(*head);
      }
      if (parents.size() < 2) continue;
      const std::string id = WriteMergeCommit(
          *env_.base, refs, parents, parents.back().metarange_id, "merge " + std::to_string(step));
      auto merged = refs_->Resolve("r", id);
      ASSERT_OK(merged);
      add(*merged);
      const std::string name = "m" + std::to_string(step);
      ASSERT_OK(refs_->CreateBranch("r", name, id));
      branches.push_back(name);
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, c] : model) ids.push_back(id);
  // Random expressions from every commit: the model walks the same steps.
  for (const auto& start : ids) {
    for (int trial = 0; trial < 4; ++trial) {
      std::string expr = trial % 2 ? start : start.substr(0, 10);
      std::string at = start;
      bool valid = true;
      for (int s = 0; s < 3; ++s) {
        const bool tilde = rng() % 2;
        const int n = static_cast<int>(rng() % 3) + (tilde ? 0 : 1);
        expr += (tilde ? "~" : "^") + std::to_string(n);
        if (!valid) continue;
        const auto& parents = model.at(at).parents;
        if (tilde) {
          for (int i = 0; i < n && valid; ++i) {
            if (model.at(at).parents.empty()) {
              valid = false;
            } else {
              at = model.at(at).parents[0];
            }
          }
        } else if (static_cast<size_t>(n) > parents.size()) {
          valid = false;
        } else {
          at = parents[n - 1];
        }
      }
      auto got = refs_->Resolve("r", expr);
      if (valid) {
        ASSERT_TRUE(got.ok()) << expr << " " << got.status().ToString();
        EXPECT_EQ(got->id, at) << expr;
      } else {
        EXPECT_TRUE(got.status().IsInvalidArgument()) << expr << " " << got.status().ToString();
      }
    }
  }
  // Log with filters, read in pages of 3, against the model.
  std::map<std::string, std::map<std::string, std::string>> entries;
  for (const auto& id : ids) entries[id] = AllEntries(*refs_, "r", id);
  auto sub = [](const std::map<std::string, std::string>& all, const std::string& prefix) {
    std::map<std::string, std::string> out;
    for (auto it = all.lower_bound(prefix); it != all.end() && it->first.starts_with(prefix); ++it)
      out.insert(*it);
    return out;
  };
  for (int trial = 0; trial < 24; ++trial) {
    rs::LogOptions options;
    options.limit = 3;
    options.first_parent = trial % 2;
    const std::string head = branches[rng() % branches.size()];
    if (trial % 3 == 1) options.paths = {"p" + std::to_string(rng() % 4)};
    if (trial % 3 == 2) options.prefixes = {"d/"};
    if (trial % 4 == 3) options.stop_at = ids[rng() % ids.size()];
    if (trial % 5 == 4) options.since_ms = model.at(ids[rng() % ids.size()]).time_ms;
    // The model: the walk, the exclusion, the filters, the order.
    auto head_id = refs_->Resolve("r", head);
    ASSERT_OK(head_id);
    std::set<std::string> walk;
    std::vector<std::string> todo{head_id->id};
    while (!todo.empty()) {
      std::string id = todo.back();
      todo.pop_back();
      if (!walk.insert(id).second) continue;
      const auto& parents = model.at(id).parents;
      for (size_t i = 0; i < parents.size() && (i == 0 || !options.first_parent); ++i)
        todo.push_back(parents[i]);
    }
    std::set<std::string> excluded;
    if (!options.stop_at.empty()) excluded = ModelAncestors(model, options.stop_at);
    std::vector<std::pair<int64_t, std::string>> want;
    for (const auto& id : walk) {
      const ModelCommit& c = model.at(id);
      if (excluded.count(id) || (options.since_ms != 0 && c.time_ms < options.since_ms)) continue;
      std::vector<std::map<std::string, std::string>> bases;
      for (size_t i = 0; i < c.parents.size() && (i == 0 || !options.first_parent); ++i)
        bases.push_back(entries.at(c.parents[i]));
      if (bases.empty()) bases.emplace_back();
      bool keep = options.paths.empty() && options.prefixes.empty();
      for (const auto& path : options.paths) {
        bool everywhere = true;
        for (const auto& base : bases) {
          const auto& mine = entries.at(id);
          auto a = mine.find(path);
          auto b = base.find(path);
          const bool same =
              (a == mine.end()) == (b == base.end()) && (a == mine.end() || a->second == b->second);
          if (same) everywhere = false;
        }
        keep = keep || everywhere;
      }
      for (const auto& prefix : options.prefixes) {
        bool everywhere = true;
        for (const auto& base : bases) {
          if (sub(entries.at(id), prefix) == sub(base, prefix)) everywhere = false;
        }
        keep = keep || everywhere;
      }
      if (keep) want.emplace_back(c.generation, id);
    }
    std::sort(want.rbegin(), want.rend());
    std::vector<std::string> got;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = refs_->Log("r", head, options);
      ASSERT_OK(page);
      EXPECT_LE(page->commits.size(), 3u);
      for (const auto& c : page->commits) got.push_back(c.id);
      if (page->next_page_token.empty()) break;
      options.page_token = page->next_page_token;
    }
    std::vector<std::string> want_ids;
    for (const auto& [gen, id] : want) want_ids.push_back(id);
    EXPECT_EQ(got, want_ids) << "trial " << trial << " head " << head << " first_parent "
                             << options.first_parent << " paths " << options.paths.size()
                             << " prefixes " << options.prefixes.size() << " stop_at "
                             << options.stop_at << " since " << options.since_ms;
  }

  // Ancestry and merge base of random pairs against the model.
  for (int trial = 0; trial < 40; ++trial) {
    const std::string& a = ids[rng() % ids.size()];
    const std::string& b = ids[rng() % ids.size()];
    auto anc = refs_->IsAncestor("r", a, b);
    ASSERT_OK(anc);
    EXPECT_EQ(*anc, ModelIsAncestor(model, a, b)) << a << " " << b;
    auto base = refs_->MergeBase("r", a, b);
    ASSERT_OK(base);
    ASSERT_TRUE(base->has_value());  // one root: always related
    std::set<std::string> common;
    auto left = ModelAncestors(model, a), right = ModelAncestors(model, b);
    std::set_intersection(left.begin(), left.end(), right.begin(), right.end(),
                          std::inserter(common, common.end()));
    ASSERT_TRUE(common.count((*base)->id)) << (*base)->id;
    // Best: no common ancestor descends from it (other than itself).
    for (const auto& c : common) {
      if (c != (*base)->id) {
        EXPECT_FALSE(ModelIsAncestor(model, (*base)->id, c)) << c;
      }
    }
  }
}

TEST_P(RefStoreTest, MergeBaseAndIsAncestorThroughRefs) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "1"));
  const rs::CommitInfo fork = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateBranch("r", "dev", "main"));
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "2"));
  CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "dev", "q", "1"));
  CommitOk("r", "dev");
  auto base = refs_->MergeBase("r", "main", "dev");
  ASSERT_OK(base);
  ASSERT_TRUE(base->has_value());
  EXPECT_EQ((*base)->id, fork.id);
  EXPECT_TRUE(*refs_->IsAncestor("r", "dev~1", "main"));
  EXPECT_FALSE(*refs_->IsAncestor("r", "dev", "main"));
  EXPECT_TRUE(*refs_->IsAncestor("r", "main", "main"));
  EXPECT_TRUE(refs_->IsAncestor("r", "main", "nosuch").status().IsNotFound());
  EXPECT_TRUE(refs_->MergeBase("r", "main~9", "dev").status().IsInvalidArgument());
  // Three-dot: only dev's change since the fork, not main's.
  auto compare = refs_->Compare("r", "main", "dev", 0);
  ASSERT_OK(compare);
  ASSERT_EQ(compare->size(), 1u);
  EXPECT_EQ(compare->front().path, "q");
  auto two_dot = refs_->Diff("r", "main", "dev");
  ASSERT_OK(two_dot);
  EXPECT_EQ(two_dot->size(), 2u);
  rs::LogOptions bad;
  bad.since_ms = 20;
  bad.until_ms = 10;
  EXPECT_TRUE(refs_->Log("r", "main", bad).status().IsInvalidArgument());
  rs::LogOptions empty_path;
  empty_path.paths = {""};
  EXPECT_TRUE(refs_->Log("r", "main", empty_path).status().IsInvalidArgument());
  rs::LogOptions stop;
  stop.stop_at = "main~x";
  EXPECT_TRUE(refs_->Log("r", "main", stop).status().IsInvalidArgument());
  // main..dev: dev's own commit only.
  stop.stop_at = "main";
  auto own = refs_->Log("r", "dev", stop);
  ASSERT_OK(own);
  ASSERT_EQ(own->commits.size(), 1u);
  EXPECT_EQ(own->commits[0].message, "m");
}

TEST_P(RefStoreTest, LogByPathThroughAMergeComparesEveryParent) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "1"));
  const rs::CommitInfo a = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateBranch("r", "dev", "main"));
  ASSERT_OK(refs_->PutEntry("r", "main", "p", "2"));
  const rs::CommitInfo b = CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "dev", "q", "1"));
  const rs::CommitInfo c = CommitOk("r", "dev");
  // A merge that took main's tree: p's value came from its first parent, so the merge
  // did not change p (though p differs from its second parent).
  const std::string m =
      WriteMergeCommit(*env_.base, RefsOf(*refs_, "r"), {b, c}, b.metarange_id, "merge");
  auto ids = [&](rs::LogOptions options) {
    options.limit = 0;
    auto page = refs_->Log("r", m, options);
    EXPECT_OK(page);
    std::vector<std::string> out;
    if (page.ok())
      for (const auto& x : page->commits) out.push_back(x.id);
    return out;
  };
  rs::LogOptions by_p;
  by_p.paths = {"p"};
  EXPECT_EQ(ids(by_p), (std::vector<std::string>{b.id, a.id}));
  rs::LogOptions by_q;
  by_q.paths = {"q"};
  EXPECT_EQ(ids(by_q), (std::vector<std::string>{c.id}));
  by_q.first_parent = true;  // the merge took main's tree: q is in no mainline commit
  EXPECT_TRUE(ids(by_q).empty());
  EXPECT_EQ(refs_->Resolve("r", m + "^2")->id, c.id);
  EXPECT_EQ(refs_->Resolve("r", m.substr(0, 12) + "^2~1")->id, a.id);
}

}  // namespace
}  // namespace refkv::testing
