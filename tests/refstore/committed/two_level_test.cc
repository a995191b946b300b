// Two-level metaranges (format v2, refstore/committed/two_level.h), on both RangeStore
// implementations: the same content has the same id in both formats; reads join the
// parts and verify them; a small change writes the root and only the parts it touches;
// corruption of a root or a part is reported with the ids involved.
#include "refstore/committed/two_level.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "tests/refstore/committed/test_range_store.h"
#include "tests/support/temp_dir.h"

namespace refkv::refstore {
namespace {

using Model = std::map<std::string, std::string>;
using Kind = RangeStore::MetaObject;

class TwoLevelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto opened = OpenTestRangeStore(GetParam(), dir_.Sub("ranges"), "mem://two-level");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    kv_ = std::move(opened->kv);
    ranges_ = std::move(opened->ranges);
  }

  // Ranges of 4-20 entries and parts of 2-8 ranges: a few hundred entries make many
  // parts. Every tree is two-level (flat_max_ranges 0).
  static CommittedManager::Options Small() {
    CommittedManager::Options o;
    o.boundary_bits = 3;
    o.min_range_entries = 4;
    o.max_range_entries = 20;
    o.flat_max_ranges = 0;
    o.part_boundary_bits = 2;
    o.min_part_ranges = 2;
    o.max_part_ranges = 8;
    o.metarange_cache_bytes = 4 << 10;
    o.range_cache_bytes = 4 << 10;
    return o;
  }

  std::unique_ptr<CommittedManager> NewManager(CommittedManager::Options options) {
    auto m = CommittedManager::Create(*ranges_, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  static Model Scan(CommittedManager& m, std::string_view id) {
    Model out;
    auto it = m.NewIterator(id, {});
    EXPECT_TRUE(it.ok()) << it.status().ToString();
    if (!it.ok()) return out;
    for (; (*it)->Valid(); (*it)->Next()) out[std::string((*it)->key())] = (*it)->value();
    EXPECT_TRUE((*it)->status().ok()) << (*it)->status().ToString();
    return out;
  }

  static std::vector<Change> FromModel(const Model& model) {
    std::vector<Change> out;
    for (const auto& [k, v] : model) out.push_back({k, v});
    return out;
  }

  static Model Entries(int n) {
    Model model;
    for (int i = 0; i < n; ++i) model["k/" + std::to_string(100000 + i)] = "v" + std::to_string(i);
    return model;
  }

  testing::TempDir dir_{"two-level"};
  std::unique_ptr<kv::Store> kv_;
  std::unique_ptr<RangeStore> ranges_;
};

TEST_P(TwoLevelTest, RoundTripWithTheIdOfTheFlatEncoding) {
  const Model model = Entries(600);
  auto writer = NewManager(Small());
  ApplyStats stats;
  auto id = writer->Apply(writer->EmptyMetaRangeId(), FromModel(model), &stats,
                          MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_GT(stats.parts_written, 5u);
  EXPECT_EQ(stats.parts_reused, 0u);
  // Stored as a root and parts only.
  EXPECT_TRUE(ranges_->GetMetaRange(*id).status().IsNotFound());
  EXPECT_TRUE(ranges_->GetMetaObject(Kind::kRoot, *id).ok());
  auto parts = writer->MetaRangePartIds(*id);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->size(), stats.parts_written);
  EXPECT_EQ(writer->ListMetaRangeRootIds().value_or({}), std::vector<std::string>{*id});
  EXPECT_EQ(writer->ListMetaRangeIds().value_or({}), std::vector<std::string>{*id});

  // A cold reader sees the same tree.
  auto reader = NewManager(Small());
  EXPECT_EQ(Scan(*reader, *id), model);
  EXPECT_TRUE(reader->Verify(*id).ok());
  auto info = reader->Describe(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->count, model.size());

  // The flat format gives the same id; its tree lists the same ranges.
  auto flat_writer = NewManager(Small());
  auto flat = flat_writer->Apply(flat_writer->EmptyMetaRangeId(), FromModel(model), nullptr,
                                 MetaRangeFormat::kFlat);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(*flat, *id);
  // Small trees stay flat at the default threshold.
  auto small = NewManager(CommittedManager::Options{});
  auto tiny =
      small->Apply(small->EmptyMetaRangeId(), {{"only", "1"}}, nullptr, MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(tiny.ok());
  EXPECT_TRUE(ranges_->GetMetaRange(*tiny).ok());
  EXPECT_TRUE(ranges_->GetMetaObject(Kind::kRoot, *tiny).status().IsNotFound());
}

TEST_P(TwoLevelTest, RandomChangesMatchAModelAndReuseParts) {
  std::mt19937_64 rng(11);
  Model model = Entries(500);
  auto m = NewManager(Small());
  auto id = m->Apply(m->EmptyMetaRangeId(), FromModel(model), nullptr, MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(id.ok());
  uint64_t reused = 0, written = 0;
  for (int round = 0; round < 40; ++round) {
    std::map<std::string, std::optional<std::string>> changes;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      std::string path = "k/" + std::to_string(100000 + rng() % 700);
      if (rng() % 4 == 0) {
        changes[path] = std::nullopt;
      } else {
        changes[path] = "r" + std::to_string(round);
      }
    }
    std::vector<Change> sorted;
    for (auto& [p, v] : changes) {
      sorted.push_back({p, v});
      if (v) {
        model[p] = *v;
      } else {
        model.erase(p);
      }
    }
    ApplyStats stats;
    auto next = m->Apply(*id, sorted, &stats, MetaRangeFormat::kTwoLevel);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    reused += stats.parts_reused;
    written += stats.parts_written;
    id = next;
    if (round % 8 == 0) {
      auto cold = NewManager(Small());
      EXPECT_EQ(Scan(*cold, *id), model) << "round " << round;
      EXPECT_TRUE(cold->Verify(*id).ok());
    }
  }
  EXPECT_EQ(Scan(*m, *id), model);
  // A from-scratch build of the model has the same id.
  auto fresh = NewManager(Small());
  auto again = fresh->Apply(fresh->EmptyMetaRangeId(), FromModel(model));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  EXPECT_GT(reused, 4 * written) << "parts are mostly reused";
}

TEST_P(TwoLevelTest, OneEntryChangeAtOneMillionWritesRootOnePartOneRange) {
  if (GetParam() == "dir") GTEST_SKIP() << "the kv store is enough for the size check";
  CommittedManager::Options o;  // the defaults: ~1000 ranges at 1M entries
  auto m = NewManager(o);
  std::vector<Change> all;
  all.reserve(1000000);
  for (int i = 0; i < 1000000; ++i) {
    char buf[32];
    snprintf(buf, sizeof(buf), "data/%08d", i);
    all.push_back({buf, "v" + std::to_string(i)});
  }
  ApplyStats build;
  auto base = m->Apply(m->EmptyMetaRangeId(), all, &build, MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  all.clear();
  auto info = m->Describe(*base);
  ASSERT_TRUE(info.ok());
  EXPECT_GT(info->ranges.size(), 500u);
  const uint64_t flat_bytes = build.metarange_bytes_written;  // root + every part
  std::mt19937_64 rng(3);
  int exactly_one_part = 0;
  for (int trial = 0; trial < 20; ++trial) {
    char buf[32];
    snprintf(buf, sizeof(buf), "data/%08d", static_cast<int>(rng() % 1000000));
    ApplyStats stats;
    auto next = m->Apply(*base, {{buf, "updated-" + std::to_string(trial)}}, &stats,
                         MetaRangeFormat::kTwoLevel);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(stats.ranges_written, 1u) << "trial " << trial;
    EXPECT_GE(stats.parts_written, 1u) << "trial " << trial;
    EXPECT_LE(stats.parts_written, 2u) << "trial " << trial;  // a boundary may move
    if (stats.parts_written == 1) ++exactly_one_part;
    EXPECT_LT(stats.metarange_bytes_written * 5, flat_bytes) << "trial " << trial;  // < 20%
    base = next;
  }
  EXPECT_GE(exactly_one_part, 15);
  auto cold = NewManager(o);
  EXPECT_TRUE(cold->Verify(*base).ok());
}

TEST_P(TwoLevelTest, CorruptRootOrPartIsNamed) {
  const Model model = Entries(600);
  auto writer = NewManager(Small());
  auto id = writer->Apply(writer->EmptyMetaRangeId(), FromModel(model), nullptr,
                          MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(id.ok());
  auto root = ranges_->GetMetaObject(Kind::kRoot, *id);
  ASSERT_TRUE(root.ok());
  auto parts = writer->MetaRangePartIds(*id);
  ASSERT_TRUE(parts.ok() && parts->size() > 2);
  const std::string victim = (*parts)[1];
  auto part = ranges_->GetMetaObject(Kind::kPart, victim);
  ASSERT_TRUE(part.ok());

  auto expect_error = [&](const std::string& what, bool not_found,
                          const std::vector<std::string>& named) {
    SCOPED_TRACE(what);
    auto reader = NewManager(Small());
    auto got = reader->Get(*id, model.begin()->first);
    EXPECT_TRUE(not_found ? got.status().IsNotFound() : got.status().IsCorruption())
        << got.status().ToString();
    for (const auto& n : named) {
      EXPECT_NE(got.status().message().find(n), std::string::npos) << got.status().ToString();
    }
    Status v = reader->Verify(*id);
    EXPECT_FALSE(v.ok());
  };

  // A flipped byte in the root: its checksum.
  std::string bad_root = *root;
  bad_root[bad_root.size() / 2] ^= 0x01;
  ASSERT_TRUE(ranges_->DeleteMetaObject(Kind::kRoot, *id).ok());
  ASSERT_TRUE(ranges_->PutMetaObject(Kind::kRoot, *id, bad_root).ok());
  expect_error("root", false, {*id, "checksum"});
  ASSERT_TRUE(ranges_->DeleteMetaObject(Kind::kRoot, *id).ok());
  ASSERT_TRUE(ranges_->PutMetaObject(Kind::kRoot, *id, *root).ok());

  // A flipped byte in a part: its content hash.
  std::string bad_part = *part;
  bad_part[bad_part.size() - 1] ^= 0x01;
  ASSERT_TRUE(ranges_->DeleteMetaObject(Kind::kPart, victim).ok());
  ASSERT_TRUE(ranges_->PutMetaObject(Kind::kPart, victim, bad_part).ok());
  expect_error("part", false, {*id, victim});

  // A missing part.
  ASSERT_TRUE(ranges_->DeleteMetaObject(Kind::kPart, victim).ok());
  expect_error("missing part", true, {*id, victim});

  ASSERT_TRUE(ranges_->PutMetaObject(Kind::kPart, victim, *part).ok());
  EXPECT_TRUE(NewManager(Small())->Verify(*id).ok());

  // A root (with a valid checksum) listing a valid part of another tree: the joined
  // content does not hash to the tree's id.
  auto other = writer->Apply(writer->EmptyMetaRangeId(), FromModel(Entries(300)), nullptr,
                             MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(other.ok());
  auto other_root = ranges_->GetMetaObject(Kind::kRoot, *other);
  ASSERT_TRUE(other_root.ok());
  auto theirs = internal::DecodeMetaRoot(*other, *other_root);
  auto ours = internal::DecodeMetaRoot(*id, *root);
  ASSERT_TRUE(theirs.ok() && ours.ok());
  const internal::MetaPart* foreign = nullptr;
  for (const auto& p : *theirs) {
    if (std::find(parts->begin(), parts->end(), p.id) == parts->end()) foreign = &p;
  }
  ASSERT_NE(foreign, nullptr);
  (*ours)[1] = *foreign;
  ASSERT_TRUE(ranges_->DeleteMetaObject(Kind::kRoot, *id).ok());
  ASSERT_TRUE(ranges_->PutMetaObject(Kind::kRoot, *id, internal::EncodeMetaRoot(*ours)).ok());
  expect_error("foreign part", false, {*id, "join"});
}

TEST_P(TwoLevelTest, FlatFormBesideTheRootAndCleanerPrimitives) {
  const Model model = Entries(400);
  auto m = NewManager(Small());
  auto id = m->Apply(m->EmptyMetaRangeId(), FromModel(model), nullptr, MetaRangeFormat::kTwoLevel);
  ASSERT_TRUE(id.ok());
  // The root cannot go while it is the only form.
  EXPECT_TRUE(m->DeleteMetaRangeRoot(*id).IsNotFound());
  ASSERT_TRUE(m->WriteFlatMetaRange(*id).ok());
  ASSERT_TRUE(m->WriteFlatMetaRange(*id).ok());  // idempotent
  auto flat = ranges_->GetMetaRange(*id);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(m->ListMetaRangeIds().value_or({}), std::vector<std::string>{*id});
  ASSERT_TRUE(m->DeleteMetaRangeRoot(*id).ok());
  EXPECT_TRUE(m->ListMetaRangeRootIds().value_or({"x"}).empty());
  EXPECT_TRUE(m->MetaRangePartIds(*id).value_or({"x"}).empty());  // flat only
  auto parts = m->ListMetaRangePartIds();
  ASSERT_TRUE(parts.ok());
  EXPECT_FALSE(parts->empty());
  for (const auto& p : *parts) ASSERT_TRUE(m->DeleteMetaRangePart(p).ok());
  EXPECT_TRUE(m->ListMetaRangePartIds()->empty());
  auto cold = NewManager(Small());
  EXPECT_EQ(Scan(*cold, *id), model);
  EXPECT_TRUE(cold->Verify(*id).ok());
  // DeleteMetaRange removes every form.
  ASSERT_TRUE(m->WriteFlatMetaRange(*id).ok());
  ASSERT_TRUE(m->DeleteMetaRange(*id).ok());
  EXPECT_TRUE(m->ListMetaRangeIds()->empty());
  EXPECT_TRUE(m->MetaRangePartIds(*id).status().IsNotFound());
}

INSTANTIATE_TEST_SUITE_P(Stores, TwoLevelTest, ::testing::Values("dir", "kv"));

}  // namespace
}  // namespace refkv::refstore
