#include "format/copy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "engine/metadata.h"
#include "engine/open.h"
#include "engine/store_wrapper.h"
#include "tests/format/store_util.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace refkv::format {
namespace {

using testing::ReadAll;

std::unique_ptr<kv::Store> Open(const std::string& uri) {
  auto store = kv::Open(uri);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

// Copies into the store at `uri` and back into a fresh mem store, verifying.
void RoundTrip(const std::string& uri) {
  std::mt19937_64 rng(3);
  auto mem = Open("mem://");
  auto written = testing::FillRandom(*mem, rng, 12, 300);
  auto opened = kv::Open(uri);
  if (opened.status().IsUnsupported()) REFKV_SKIP_UNLESS_REQUIRED(opened.status().ToString());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto rocks = std::move(*opened);
  CopyOptions opts;
  opts.write_batch = 64;
  uint64_t last = 0;
  opts.progress = [&](const Progress& p) {
    if (p.phase == "copy") {
      EXPECT_GE(p.records, last);
      last = p.records;
    }
  };
  auto copied = CopyStore(*mem, *rocks, opts);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->checks.size(), written.size());
  for (const auto& c : copied->checks) {
    EXPECT_TRUE(c.match());
    EXPECT_EQ(c.source.records, written.at(c.name).size());
  }
  EXPECT_EQ(ReadAll(*rocks), written);
  // The target keeps its own metadata.
  EXPECT_NE(kv::ReadMetadata(*rocks)->store_id, kv::ReadMetadata(*mem)->store_id);

  // Back into a fresh mem store, one thread.
  auto back = Open("mem://");
  opts.threads = 1;
  last = 0;
  ASSERT_TRUE(CopyStore(*rocks, *back, opts).ok());
  EXPECT_EQ(ReadAll(*back), written);
}

TEST(CopyStore, MemToMemAndBackWithVerification) { RoundTrip("mem://"); }

TEST(CopyStore, MemToRocksAndBackWithVerification) {
  testing::TempDir dir("copy");
  RoundTrip("rocks://" + dir.Sub("db"));
}

// A mem store with a bulk path: InsertNew writes a batch whose keys are all absent
// (AlreadyExists otherwise), counting the batches it took and refused.
class BulkStore final : public kv::StoreWrapper {
 public:
  BulkStore() : StoreWrapper(Open("mem://")) {}
  std::string_view driver() const override { return "bulk"; }
  Status Write(std::string_view p, const kv::WriteBatch& b) override {
    writes += b.size();
    return StoreWrapper::Write(p, b);
  }
  Status InsertNew(std::string_view p, const kv::WriteBatch& b) override {
    for (const auto& op : b.ops()) {
      if (target().Get(p, op.key).ok()) {
        ++refused;
        return Status::AlreadyExists("exists");
      }
    }
    inserted += b.size();
    return StoreWrapper::Write(p, b);
  }

  std::atomic<uint64_t> writes{0}, inserted{0}, refused{0};
};

// Fresh partitions are bulk-loaded with InsertNew; on a re-run, partitions holding data
// go through Write; a batch InsertNew refuses falls back to Write for the rest of its
// partition; the result is the same in every case.
TEST(CopyStore, BulkLoadsFreshPartitionsAndWritesTheOthers) {
  std::mt19937_64 rng(9);
  auto src = Open("mem://");
  auto written = testing::FillRandom(*src, rng, 4, 200);
  uint64_t total = 0;
  for (const auto& [p, kvs] : written) total += kvs.size();
  CopyOptions opts;
  opts.write_batch = 50;
  {
    BulkStore dst;
    ASSERT_TRUE(CopyStore(*src, dst, opts).ok());
    EXPECT_EQ(ReadAll(dst), written);
    EXPECT_EQ(dst.inserted.load(), total);
    EXPECT_EQ(dst.refused.load(), 0u);
  }
  {
    // Resuming: the first partition holds one of its keys (Write), the others are fresh.
    BulkStore dst;
    const auto& [p, kvs] = *written.begin();
    ASSERT_TRUE(dst.Set(p, kvs.begin()->first, kvs.begin()->second).ok());
    opts.allow_non_empty_target = true;
    ASSERT_TRUE(CopyStore(*src, dst, opts).ok());
    EXPECT_EQ(ReadAll(dst), written);
    EXPECT_EQ(dst.writes.load(), kvs.size());
    EXPECT_EQ(dst.inserted.load(), total - kvs.size());
  }
  {
    // A key written behind the copy's back into a partition it has not reached yet
    // (one thread: partitions in order): that batch is refused and re-sent with Write.
    BulkStore dst;
    const auto& [p, kvs] = *std::next(written.begin());
    opts.allow_non_empty_target = false;
    opts.threads = 1;
    opts.progress = [&, done = false](const Progress& pr) mutable {
      if (!done && pr.phase == "copy") {
        done = true;
        ASSERT_TRUE(dst.Set(p, kvs.rbegin()->first, "stale").ok());
      }
    };
    ASSERT_TRUE(CopyStore(*src, dst, opts).ok());
    EXPECT_EQ(ReadAll(dst), written);
    EXPECT_EQ(dst.refused.load(), 1u);
    EXPECT_GT(dst.writes.load(), 0u);
  }
}

TEST(CopyStore, RefusesNonEmptyTargetAndResumes) {
  std::mt19937_64 rng(4);
  auto src = Open("mem://");
  auto written = testing::FillRandom(*src, rng, 5, 100);
  auto dst = Open("mem://");
  // An interrupted copy: part of one partition is there already.
  const auto& [p, kvs] = *written.begin();
  ASSERT_TRUE(dst->Set(p, kvs.begin()->first, kvs.begin()->second).ok());
  auto refused = CopyStore(*src, *dst, {});
  EXPECT_TRUE(refused.status().IsAlreadyExists()) << refused.status().ToString();
  CopyOptions resume;
  resume.allow_non_empty_target = true;
  auto done = CopyStore(*src, *dst, resume);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(ReadAll(*dst), written);
  // Run again: nothing duplicated or lost.
  ASSERT_TRUE(CopyStore(*src, *dst, resume).ok());
  EXPECT_EQ(ReadAll(*dst), written);
}

TEST(CopyStore, VerificationCatchesExtraKeysInTarget) {
  auto src = Open("mem://");
  ASSERT_TRUE(src->Set("p", "a", "1").ok());
  auto dst = Open("mem://");
  ASSERT_TRUE(dst->Set("p", "zzz", "extra").ok());
  CopyOptions opts;
  opts.allow_non_empty_target = true;
  auto copied = CopyStore(*src, *dst, opts);
  ASSERT_TRUE(copied.status().IsCorruption()) << copied.status().ToString();
  EXPECT_NE(copied.status().message().find("'p'"), std::string::npos);
}

TEST(CopyStore, SchemaMismatchAndFilters) {
  auto src = Open("mem://");
  ASSERT_TRUE(src->Set("a", "k", "1").ok());
  ASSERT_TRUE(src->Set("b", "k", "2").ok());
  auto dst = Open("mem://");
  CopyOptions opts;
  opts.partitions = {"b"};
  ASSERT_TRUE(CopyStore(*src, *dst, opts).ok());
  testing::StoreContents want = {{"b", {{"k", "2"}}}};
  EXPECT_EQ(ReadAll(*dst), want);
  opts.partitions = {"nope"};
  EXPECT_TRUE(CopyStore(*src, *dst, opts).status().IsNotFound());
  auto newer = Open("mem://");
  ASSERT_TRUE(kv::SetSchemaVersion(*newer, kv::kInitialSchemaVersion, 2).ok());
  EXPECT_TRUE(CopyStore(*src, *newer, {}).status().IsVersionMismatch());
}

}  // namespace
}  // namespace refkv::format
