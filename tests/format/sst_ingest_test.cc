// SST import into the RocksDB driver through Store::IngestSstFiles (both mappings):
// the result equals the source, conflicts follow --on-conflict, the SetIf cache sees
// ingested values, corrupt exports import nothing, ingested data survives a reopen.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/open.h"
#include "format/sst.h"
#include "tests/format/store_util.h"
#include "tests/support/temp_dir.h"

namespace refkv::format {
namespace {

using testing::ReadAll;
using testing::StoreContents;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

class SstIngestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto src = kv::Open("mem://");
    ASSERT_TRUE(src.ok());
    src_ = std::move(*src);
    written_ = testing::FillRandom(*src_, rng_, 6, 300);
    SstExportOptions opts;
    opts.dir = dir_.Sub("export");
    auto done = ExportSst(*src_, opts);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    summary_ = *done;
  }

  std::unique_ptr<kv::Store> OpenRocks(const std::string& name) {
    auto store = kv::Open("rocks://" + dir_.Sub(name) + "?partitions=" + GetParam());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string export_dir() const { return dir_.Sub("export"); }
  std::string FirstSst() const { return export_dir() + "/" + summary_.manifest.partitions[0].file; }

  testing::TempDir dir_{"sst-ingest"};
  std::mt19937_64 rng_{23};
  std::unique_ptr<kv::Store> src_;
  StoreContents written_;
  SstExportSummary summary_;
};

TEST_P(SstIngestTest, ImportEqualsTheSourceAndSurvivesReopen) {
  {
    auto dst = OpenRocks("db");
    ASSERT_TRUE(dst);
    auto imported = ImportSst(export_dir(), *dst);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_EQ(imported->written, summary_.manifest.records);
    EXPECT_EQ(imported->ingested, summary_.manifest.records);
    EXPECT_EQ(ReadAll(*dst), written_);
    // Point reads and MultiGet see the ingested entries too.
    const auto& [partition, entries] = *written_.begin();
    std::vector<std::string> keys;
    for (const auto& [key, value] : entries) {
      auto got = dst->Get(partition, key);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, value);
      keys.push_back(key);
    }
    auto many = dst->MultiGet(partition, keys);
    ASSERT_TRUE(many.ok());
    for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(*(*many)[i], entries.at(keys[i]));
    ASSERT_TRUE(dst->Close().ok());
  }
  // The export directory is untouched (copied, not moved) and still verifies.
  EXPECT_TRUE(VerifySst(export_dir()).ok());
  auto again = OpenRocks("db");
  ASSERT_TRUE(again);
  EXPECT_EQ(ReadAll(*again), written_);
  // No staged files are left behind.
  size_t staged = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir_.Sub("db") + "/refkv-ingest", ec)) {
    (void)e;
    ++staged;
  }
  EXPECT_EQ(staged, 0u);
}

TEST_P(SstIngestTest, StreamingAndIngestionGiveTheSameStore) {
  auto ingested = OpenRocks("a");
  auto streamed = OpenRocks("b");
  ASSERT_TRUE(ingested && streamed);
  ASSERT_TRUE(ImportSst(export_dir(), *ingested).ok());
  SstImportOptions stream;
  stream.ingest = false;
  auto s = ImportSst(export_dir(), *streamed, stream);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ingested, 0u);
  EXPECT_EQ(ReadAll(*ingested), ReadAll(*streamed));
}

TEST_P(SstIngestTest, OnConflict) {
  const SstPartition& p = summary_.manifest.partitions[1];
  const std::string key = written_.at(p.name).begin()->first;
  const std::string theirs = written_.at(p.name).begin()->second;
  auto dst = OpenRocks("db");
  ASSERT_TRUE(dst);
  ASSERT_TRUE(dst->Set(p.name, key, "mine").ok());
  ASSERT_TRUE(dst->Set("other", "k", "v").ok());

  auto failed = ImportSst(export_dir(), *dst);
  ASSERT_TRUE(failed.status().IsAlreadyExists()) << failed.status().ToString();
  StoreContents before{{p.name, {{key, "mine"}}}, {"other", {{"k", "v"}}}};
  EXPECT_EQ(ReadAll(*dst), before);

  SstImportOptions skip;
  skip.on_conflict = OnConflict::kSkip;
  auto skipped = ImportSst(export_dir(), *dst, skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->skipped, 1u);
  StoreContents want = written_;
  want[p.name][key] = "mine";
  want["other"]["k"] = "v";
  EXPECT_EQ(ReadAll(*dst), want);

  // The SetIf write-through cache holds "mine" for `key` (written by Set above): after
  // the overwrite ingestion it must compare against the ingested value.
  SstImportOptions over;
  over.on_conflict = OnConflict::kOverwrite;
  auto overwritten = ImportSst(export_dir(), *dst, over);
  ASSERT_TRUE(overwritten.ok()) << overwritten.status().ToString();
  EXPECT_EQ(overwritten->ingested, summary_.manifest.records);
  want[p.name][key] = theirs;
  EXPECT_EQ(ReadAll(*dst), want);
  EXPECT_TRUE(dst->SetIf(p.name, key, "x", kv::Predicate::Equals("mine")).IsPredicateFailed());
  EXPECT_TRUE(dst->SetIf(p.name, key, "x", kv::Predicate::Equals(theirs)).ok());
  EXPECT_EQ(*dst->Get(p.name, key), "x");
}

TEST_P(SstIngestTest, OverwriteReplacesValuesWrittenAfterAnEarlierIngestion) {
  auto dst = OpenRocks("db");
  ASSERT_TRUE(dst);
  ASSERT_TRUE(ImportSst(export_dir(), *dst).ok());
  const auto& [partition, entries] = *written_.rbegin();
  const std::string key = entries.begin()->first;
  // Newer memtable entry over an ingested one, then an overwrite import: newest wins.
  ASSERT_TRUE(dst->SetIf(partition, key, "newer", kv::Predicate::Exists()).ok());
  EXPECT_EQ(*dst->Get(partition, key), "newer");
  SstImportOptions over;
  over.on_conflict = OnConflict::kOverwrite;
  ASSERT_TRUE(ImportSst(export_dir(), *dst, over).ok());
  EXPECT_EQ(ReadAll(*dst), written_);
  EXPECT_TRUE(dst->SetIf(partition, key, "y", kv::Predicate::Equals("newer")).IsPredicateFailed());
}

TEST_P(SstIngestTest, CorruptOrTruncatedFilesImportNothing) {
  std::string good = ReadFile(FirstSst());
  std::string bad = good;
  bad[bad.size() / 3] ^= 0x20;
  WriteFile(FirstSst(), bad);
  int n = 0;
  for (const std::string& bytes : {bad, good.substr(0, good.size() / 2), std::string()}) {
    WriteFile(FirstSst(), bytes);
    auto dst = OpenRocks("db" + std::to_string(n++));
    ASSERT_TRUE(dst);
    auto imported = ImportSst(export_dir(), *dst);
    ASSERT_FALSE(imported.ok());
    EXPECT_TRUE(ReadAll(*dst).empty());
  }
}

TEST_P(SstIngestTest, HookRefusesBadArguments) {
  auto dst = OpenRocks("db");
  ASSERT_TRUE(dst);
  EXPECT_TRUE(dst->IngestSstFiles("", {FirstSst()}, false).IsInvalidArgument());
  EXPECT_TRUE(dst->IngestSstFiles("p", {}, false).ok());
  EXPECT_FALSE(dst->IngestSstFiles("p", {dir_.Sub("missing.sst")}, false).ok());
  WriteFile(dir_.Sub("junk.sst"), "not an sst file at all");
  EXPECT_FALSE(dst->IngestSstFiles("p", {dir_.Sub("junk.sst")}, false).ok());
  auto parts = dst->ListPartitions();
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(ReadAll(*dst).empty());
  auto mem = kv::Open("mem://");
  ASSERT_TRUE(mem.ok());
  EXPECT_TRUE((*mem)->IngestSstFiles("p", {FirstSst()}, false).IsUnsupported());
}

// A crash between staging and cleanup leaves files in PATH/refkv-ingest: a partial
// staged copy, a complete one, and a name that is also hard-linked into the database
// (ingested with move_files). The next writable open removes them all; the store keeps
// what was ingested; a read-only open leaves them alone.
TEST_P(SstIngestTest, StagedFilesLeftByACrashAreRemovedAtOpen) {
  const std::string staging = dir_.Sub("db") + "/refkv-ingest";
  {
    auto dst = OpenRocks("db");
    ASSERT_TRUE(dst);
    ASSERT_TRUE(ImportSst(export_dir(), *dst).ok());
    ASSERT_TRUE(dst->Close().ok());
  }
  fs::create_directories(staging);
  WriteFile(staging + "/staged-0.sst", ReadFile(FirstSst()).substr(0, 100));
  WriteFile(staging + "/staged-1.sst", ReadFile(FirstSst()));
  std::string live;
  for (auto& e : fs::directory_iterator(dir_.Sub("db"))) {
    if (e.path().extension() == ".sst") live = e.path().string();
  }
  ASSERT_FALSE(live.empty());
  fs::create_hard_link(live, staging + "/staged-2.sst");
  {
    kv::OpenOptions read_only;
    read_only.read_only = true;
    auto ro = kv::Open("rocks://" + dir_.Sub("db"), read_only);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    ASSERT_TRUE((*ro)->Close().ok());
    EXPECT_TRUE(fs::exists(staging + "/staged-1.sst"));
  }
  auto again = OpenRocks("db");
  ASSERT_TRUE(again);
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_EQ(ReadAll(*again), written_);
  // Staging works again after the cleanup.
  SstImportOptions overwrite;
  overwrite.on_conflict = OnConflict::kOverwrite;
  ASSERT_TRUE(ImportSst(export_dir(), *again, overwrite).ok());
  EXPECT_EQ(ReadAll(*again), written_);
}

INSTANTIATE_TEST_SUITE_P(Mappings, SstIngestTest, ::testing::Values("cf", "shared"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::format
