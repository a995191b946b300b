// CommittedManager::Merge against a plain three-way merge of maps, on small ranges (many
// range boundaries): the merged content, that the tree is canonical (the id a from-scratch
// build of the content gives), the conflicts listed, and what it reads and writes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "refstore/committed/committed.h"
#include "tests/refstore/committed/test_range_store.h"
#include "tests/support/temp_dir.h"

namespace refkv::refstore {
namespace {

using Model = std::map<std::string, std::string>;

size_t EnvCount(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class MergeWalkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto opened = OpenTestRangeStore(GetParam(), dir_.Sub("ranges"), "mem://merge_walk");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    kv_ = std::move(opened->kv);
    ranges_ = std::move(opened->ranges);
    CommittedManager::Options o;
    o.boundary_bits = 3;
    o.min_range_entries = 4;
    o.max_range_entries = 20;
    auto m = CommittedManager::Create(*ranges_, o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    cm_ = std::move(m).value();
  }

  std::string Build(const Model& model) {
    std::vector<Change> changes;
    for (const auto& [k, v] : model) changes.push_back({k, v});
    if (changes.empty()) return cm_->EmptyMetaRangeId();
    auto id = cm_->Apply(cm_->EmptyMetaRangeId(), changes, nullptr, MetaRangeFormat::kFlat);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  Model Scan(const std::string& id) {
    Model out;
    auto it = cm_->NewIterator(id, "");
    EXPECT_TRUE(it.ok());
    if (!it.ok()) return out;
    for (; (*it)->Valid(); (*it)->Next())
      out[std::string((*it)->key())] = std::string((*it)->value());
    EXPECT_TRUE((*it)->status().ok());
    return out;
  }

  // The model's three-way merge; conflicts (all three differ) in `conflicts`, settled by
  // `source_wins` (nullopt: left out of the result).
  static Model ThreeWay(const Model& b, const Model& s, const Model& d,
                        std::vector<std::string>* conflicts, std::optional<bool> source_wins) {
    std::set<std::string> paths;
    for (const auto* m : {&b, &s, &d})
      for (const auto& [k, v] : *m) paths.insert(k);
    auto at = [](const Model& m, const std::string& k) -> std::optional<std::string> {
      auto f = m.find(k);
      return f == m.end() ? std::nullopt : std::optional<std::string>(f->second);
    };
    Model out;
    for (const auto& k : paths) {
      auto vb = at(b, k), vs = at(s, k), vd = at(d, k);
      std::optional<std::string> m;
      if (vs == vd || vb == vd) {
        m = vs;
      } else if (vb == vs) {
        m = vd;
      } else {
        conflicts->push_back(k);
        if (source_wins) m = *source_wins ? vs : vd;
      }
      if (m) out[k] = *m;
    }
    return out;
  }

  static void Mutate(std::mt19937_64& rng, Model* m, int edits, int key_space, int lo, int hi) {
    for (int i = 0; i < edits; ++i) {
      int k = lo + static_cast<int>(rng() % (hi - lo));
      char buf[16];
      snprintf(buf, sizeof buf, "k%06d", k % key_space);
      if (rng() % 4 == 0) {
        m->erase(buf);
      } else {
        (*m)[buf] = "v" + std::to_string(rng() % 5);
      }
    }
  }

  testing::TempDir dir_{"merge_walk"};
  std::unique_ptr<kv::Store> kv_;
  std::unique_ptr<RangeStore> ranges_;
  std::unique_ptr<CommittedManager> cm_;
};

TEST_P(MergeWalkTest, RandomThreeWayEqualsModelAndIsCanonical) {
  const size_t trials = EnvCount("REFKV_MERGE_WALK_TRIALS", 60);
  std::mt19937_64 rng(1234);
  for (size_t t = 0; t < trials; ++t) {
    SCOPED_TRACE("trial " + std::to_string(t));
    const int key_space = 50 + static_cast<int>(rng() % 400);
    Model base;
    Mutate(rng, &base, static_cast<int>(rng() % (2 * key_space)), key_space, 0, key_space);
    Model source = base, dest = base;
    // Changes in windows (sometimes overlapping): a spread of shared, disjoint and
    // conflicting ranges, and edits at both ends.
    const int w = 1 + static_cast<int>(rng() % key_space);
    int s_lo = static_cast<int>(rng() % key_space), d_lo = static_cast<int>(rng() % key_space);
    Mutate(rng, &source, static_cast<int>(rng() % 40), key_space, s_lo, s_lo + w);
    Mutate(rng, &dest, static_cast<int>(rng() % 40), key_space, d_lo, d_lo + w);
    const std::string b = Build(base), s = Build(source), d = Build(dest);
    for (int strategy = 0; strategy < 3; ++strategy) {
      std::optional<bool> source_wins;
      TreeMergeOptions options;
      if (strategy > 0) {
        source_wins = strategy == 1;
        options.resolve = [&](const TreeConflict& c) {
          return TreeResolution{true, *source_wins ? c.source : c.dest};
        };
      }
      std::vector<std::string> conflicts;
      const Model want = ThreeWay(base, source, dest, &conflicts, source_wins);
      ApplyStats stats;
      auto merged = cm_->Merge(b, s, d, options, &stats, MetaRangeFormat::kFlat);
      ASSERT_TRUE(merged.ok()) << merged.status().ToString();
      if (!source_wins && !conflicts.empty()) {
        EXPECT_TRUE(merged->conflicted);
        EXPECT_TRUE(merged->metarange.empty());
        ASSERT_EQ(merged->conflicts.size(), conflicts.size());
        for (size_t i = 0; i < conflicts.size(); ++i) {
          EXPECT_EQ(merged->conflicts[i].path, conflicts[i]);
        }
        continue;
      }
      ASSERT_FALSE(merged->conflicted);
      EXPECT_EQ(Scan(merged->metarange), want);
      EXPECT_EQ(merged->metarange, Build(want)) << "not the canonical tree";
    }
  }
}

TEST_P(MergeWalkTest, KeepsRangesChangedOnOneSideWhole) {
  Model base;
  for (int i = 0; i < 2000; ++i) base["k" + std::to_string(100000 + i)] = "v";
  Model source = base, dest = base;
  source["k100010"] = "s";  // near the start
  dest["k101990"] = "d";    // near the end
  const std::string b = Build(base), s = Build(source), d = Build(dest);
  auto info = cm_->Describe(b);
  ASSERT_TRUE(info.ok());
  ASSERT_GT(info->ranges.size(), 50u);
  ApplyStats stats;
  auto merged = cm_->Merge(b, s, d, {}, &stats, MetaRangeFormat::kFlat);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  Model want = base;
  want["k100010"] = "s";
  want["k101990"] = "d";
  EXPECT_EQ(merged->metarange, Build(want));
  // Every range is kept from one side or the other: none read, none written.
  EXPECT_EQ(stats.ranges_read, 0u);
  EXPECT_EQ(stats.ranges_written, 0u);
  EXPECT_EQ(stats.ranges_reused, info->ranges.size());
}

TEST_P(MergeWalkTest, DisjointAndEmptyDestinations) {
  Model source;
  for (int i = 0; i < 1000; ++i) source["b/" + std::to_string(10000 + i)] = "v";
  const std::string empty = cm_->EmptyMetaRangeId();
  const std::string s = Build(source);
  // Into an empty destination (base empty too): the source's tree itself.
  ApplyStats stats;
  auto merged = cm_->Merge(empty, s, empty, {}, &stats, MetaRangeFormat::kFlat);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->metarange, s);
  EXPECT_EQ(stats.ranges_written, 0u);
  // Into a destination with other paths after the base: only the seam is rewritten.
  Model dest;
  for (int i = 0; i < 1000; ++i) dest["a/" + std::to_string(10000 + i)] = "v";
  const std::string d = Build(dest);
  stats = {};
  merged = cm_->Merge(empty, s, d, {}, &stats, MetaRangeFormat::kFlat);
  ASSERT_TRUE(merged.ok());
  Model want = dest;
  want.insert(source.begin(), source.end());
  EXPECT_EQ(merged->metarange, Build(want));
  auto info = cm_->Describe(merged->metarange);
  ASSERT_TRUE(info.ok());
  EXPECT_LE(stats.ranges_written, 4u) << "of " << info->ranges.size();
  EXPECT_GE(stats.ranges_reused + 4, info->ranges.size());
}

TEST_P(MergeWalkTest, ConflictsArePagedAndComplete) {
  const size_t n = EnvCount("REFKV_MERGE_CONFLICTS", 300);
  Model base, source, dest;
  for (size_t i = 0; i < n; ++i) {
    std::string k = "p" + std::to_string(100000 + i);
    base[k] = "b";
    source[k] = "s";
    if (i % 3 != 0) dest[k] = "d";  // a third deleted on dest
  }
  const std::string b = Build(base), s = Build(source), d = Build(dest);
  TreeMergeOptions options;
  options.conflicts_limit = 64;
  std::vector<TreeConflict> all;
  while (true) {
    auto page = cm_->Merge(b, s, d, options, nullptr, MetaRangeFormat::kFlat);
    ASSERT_TRUE(page.ok());
    ASSERT_TRUE(page->conflicted);
    ASSERT_TRUE(page->metarange.empty());
    ASSERT_LE(page->conflicts.size(), 64u);
    for (auto& c : page->conflicts) all.push_back(c);
    if (!page->more_conflicts) break;
    options.conflicts_after = all.back().path;
  }
  ASSERT_EQ(all.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(all[i].path, "p" + std::to_string(100000 + i));
    EXPECT_EQ(all[i].base, "b");
    EXPECT_EQ(all[i].source, "s");
    EXPECT_EQ(all[i].dest, i % 3 != 0 ? std::optional<std::string>("d") : std::nullopt);
  }
}

// The walk does not depend on the range store: the KV one (on mem) only, for speed.
INSTANTIATE_TEST_SUITE_P(RangeStores, MergeWalkTest, ::testing::Values("kv"));

}  // namespace
}  // namespace refkv::refstore
