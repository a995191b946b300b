// Store-specific behaviours of the two RangeStore implementations.
#include "refstore/committed/range_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "tests/support/temp_dir.h"

namespace refkv::refstore {
namespace {

const std::string kIdA(32, 'a');
const std::string kIdB(32, 'b');

TEST(DirRangeStore, WritesOneFilePerObjectAndNoTempFiles) {
  testing::TempDir dir("rangestore");
  auto rs = OpenDirRangeStore(dir.Sub("r"));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_TRUE((*rs)->PutRange(kIdA, "range bytes").ok());
  ASSERT_TRUE((*rs)->PutMetaRange(kIdB, "meta bytes").ok());
  ASSERT_TRUE((*rs)->Sync().ok());
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir.Sub("r"))) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{kIdA + ".sst", kIdB + ".meta"}));
  EXPECT_EQ((*rs)->GetRange(kIdA).value_or(""), "range bytes");
  EXPECT_TRUE((*rs)->GetRange(kIdB).status().IsNotFound());
  EXPECT_TRUE((*rs)->GetRange("../etc/passwd").status().IsInvalidArgument());
  EXPECT_TRUE(OpenDirRangeStore("").status().IsInvalidArgument());
}

TEST(DirRangeStore, FlippedByteInRangeFileIsCorruption) {
  testing::TempDir dir("rangestore");
  auto rs = OpenDirRangeStore(dir.Sub("r"));
  ASSERT_TRUE(rs.ok());
  CommittedManager::Options o;
  o.compress = false;
  std::string id, range_id;
  {
    auto m = CommittedManager::Create(**rs, o);
    ASSERT_TRUE(m.ok());
    std::vector<Change> changes;
    for (int i = 0; i < 100; ++i) {
      changes.push_back({"key" + std::to_string(1000 + i), "value-" + std::to_string(i)});
    }
    auto applied = (*m)->Apply((*m)->EmptyMetaRangeId(), changes);
    ASSERT_TRUE(applied.ok());
    id = *applied;
    range_id = (*m)->Describe(id)->ranges.at(0).id;
  }
  // Flip a byte inside a value ("value-5..." -> "walue-5..."): the SST's own block
  // checksum or our content hash must catch it.
  std::string path = dir.Sub("r") + "/" + range_id + ".sst";
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t pos = bytes.find("value-5");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos] = 'w';
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto m = CommittedManager::Create(**rs, o);
  ASSERT_TRUE(m.ok());
  auto got = (*m)->Get(id, "key1005");
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_NE(got.status().message().find(range_id), std::string::npos) << got.status().ToString();
  EXPECT_TRUE((*m)->Verify(id).IsCorruption());
}

class KvRangeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = kv::Open("mem://ranges");
    ASSERT_TRUE(kv.ok());
    kv_ = std::move(kv).value();
    auto rs = OpenKvRangeStore(*kv_, "ranges");
    ASSERT_TRUE(rs.ok());
    rs_ = std::move(rs).value();
  }
  std::unique_ptr<kv::Store> kv_;
  std::unique_ptr<RangeStore> rs_;
};

TEST_F(KvRangeStoreTest, ChunksLargeObjectsAndReadsThemBack) {
  std::string big(kKvRangeChunkSize * 2 + 12345, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(rs_->PutRange(kIdA, big).ok());
  EXPECT_EQ(rs_->GetRange(kIdA).value_or(""), big);
  auto it = kv_->Scan("ranges", kv::ScanOptions::Prefix("rc/" + kIdA + "/"));
  ASSERT_TRUE(it.ok());
  int chunks = 0;
  for (; (*it)->Valid(); (*it)->Next()) {
    EXPECT_LE((*it)->value().size(), kKvRangeChunkSize);
    ++chunks;
  }
  EXPECT_EQ(chunks, 3);
  EXPECT_TRUE(rs_->HasRange(kIdA).value_or(false));
  EXPECT_FALSE(rs_->HasRange(kIdB).value_or(true));
}

TEST_F(KvRangeStoreTest, InsertOnlyFirstWriterWins) {
  ASSERT_TRUE(rs_->PutRange(kIdA, "first").ok());
  ASSERT_TRUE(rs_->PutRange(kIdA, "second").ok());  // same id = same content: no-op
  EXPECT_EQ(rs_->GetRange(kIdA).value_or(""), "first");
  ASSERT_TRUE(rs_->PutMetaRange(kIdA, "meta").ok());  // separate namespace
  EXPECT_EQ(rs_->GetMetaRange(kIdA).value_or(""), "meta");
  EXPECT_EQ(rs_->ListRangeIds().value(), std::vector<std::string>{kIdA});
}

TEST_F(KvRangeStoreTest, DamagedChunkOrManifestIsCorruption) {
  ASSERT_TRUE(rs_->PutRange(kIdA, "some sst bytes").ok());
  auto it = kv_->Scan("ranges", kv::ScanOptions::Prefix("rc/" + kIdA + "/"));
  ASSERT_TRUE(it.ok() && (*it)->Valid());
  std::string chunk_key((*it)->key());
  it->reset();
  ASSERT_TRUE(kv_->Set("ranges", chunk_key, "some sst bytez").ok());
  auto got = rs_->GetRange(kIdA);
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_NE(got.status().message().find(kIdA), std::string::npos);
  ASSERT_TRUE(kv_->Delete("ranges", chunk_key).ok());
  EXPECT_TRUE(rs_->GetRange(kIdA).status().IsCorruption());
  ASSERT_TRUE(kv_->Set("ranges", "rm/" + kIdA, "garbage").ok());
  EXPECT_TRUE(rs_->GetRange(kIdA).status().IsCorruption());
  ASSERT_TRUE(rs_->DeleteRange(kIdA).ok());
  EXPECT_TRUE(rs_->GetRange(kIdA).status().IsNotFound());
  auto left = kv_->Scan("ranges", kv::ScanOptions{});
  ASSERT_TRUE(left.ok());
  EXPECT_FALSE((*left)->Valid()) << "delete left " << (*left)->key();
}

}  // namespace
}  // namespace refkv::refstore
