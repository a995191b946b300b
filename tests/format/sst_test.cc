#include "format/sst.h"

#include <gtest/gtest.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <xxhash.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "base/hex.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "tests/format/store_util.h"
#include "tests/support/temp_dir.h"

namespace refkv::format {
namespace {

using testing::ReadAll;
using testing::StoreContents;
namespace fs = std::filesystem;

std::unique_ptr<kv::Store> NewStore() {
  auto store = kv::Open("mem://");
  EXPECT_TRUE(store.ok());
  return std::move(*store);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

// `text` (a manifest) with its checksum line recomputed, as if a writer had written it.
std::string Resign(const std::string& text) {
  std::string body = text.substr(0, text.rfind("checksum "));
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx",
                static_cast<unsigned long long>(XXH64(body.data(), body.size(), 0)));
  return body + "checksum " + sum + "\n";
}

// Entry names of `dir`.
std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class SstTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = NewStore();
    written_ = testing::FillRandom(*src_, rng_, 8, 200);
    SstExportOptions opts;
    opts.dir = dir_.Sub("export");
    auto done = ExportSst(*src_, opts);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    summary_ = *done;
  }

  // Import into a fresh store must fail with `code` and leave it empty.
  void ExpectRefused(StatusCode code, const std::string& what) {
    auto dst = NewStore();
    auto imported = ImportSst(opts_dir(), *dst);
    ASSERT_FALSE(imported.ok()) << what;
    EXPECT_EQ(imported.status().code(), code) << what << ": " << imported.status().ToString();
    EXPECT_TRUE(ReadAll(*dst).empty()) << what;
  }
  std::string opts_dir() const { return dir_.Sub("export"); }
  std::string FirstSst() const { return opts_dir() + "/" + summary_.manifest.partitions[0].file; }

  testing::TempDir dir_{"sst"};
  std::mt19937_64 rng_{11};
  std::unique_ptr<kv::Store> src_;
  StoreContents written_;
  SstExportSummary summary_;
};

TEST_F(SstTest, RoundTrip) {
  EXPECT_EQ(summary_.manifest.partitions.size(), written_.size());
  auto verified = VerifySst(opts_dir());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->header.store_id, kv::ReadMetadata(*src_)->store_id);
  auto dst = NewStore();
  auto imported = ImportSst(opts_dir(), *dst);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->written, summary_.manifest.records);
  EXPECT_EQ(ReadAll(*dst), written_);
  // A second export into the same directory needs overwrite.
  SstExportOptions again;
  again.dir = opts_dir();
  EXPECT_TRUE(ExportSst(*src_, again).status().IsAlreadyExists());
}

TEST_F(SstTest, SstDumpListsTheEntries) {
  if (!fs::exists("/usr/bin/sst_dump")) GTEST_SKIP() << "sst_dump (rocksdb-tools) not installed";
  const SstPartition& p = summary_.manifest.partitions[0];
  std::string cmd = "sst_dump --file=" + FirstSst() + " --command=scan --output_hex 2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << out;
  // Every key appears (as hex) in the scan output.
  size_t found = 0;
  for (const auto& [key, value] : written_.at(p.name)) {
    const std::string hex = HexEncode(key, HexCase::kUpper);
    // sst_dump --output_hex prints "'<KEY HEX>' seq:0, type:1 => <VALUE HEX>".
    if (out.find("'" + hex + "' seq:") != std::string::npos) ++found;
  }
  EXPECT_EQ(found, written_.at(p.name).size()) << out.substr(0, 2000);
  size_t lines = 0;
  for (size_t at = out.find(" => "); at != std::string::npos; at = out.find(" => ", at + 1))
    ++lines;
  EXPECT_EQ(lines, p.records);
}

TEST_F(SstTest, CorruptOrTruncatedFileImportsNothing) {
  std::string good = ReadFile(FirstSst());
  std::string bad = good;
  bad[bad.size() / 3] ^= 0x20;
  WriteFile(FirstSst(), bad);
  ExpectRefused(StatusCode::kCorruption, "flipped byte");
  EXPECT_FALSE(VerifySst(opts_dir()).ok());
  for (size_t cut : {size_t{0}, good.size() / 2, good.size() - 1}) {
    WriteFile(FirstSst(), good.substr(0, cut));
    auto dst = NewStore();
    auto imported = ImportSst(opts_dir(), *dst);
    ASSERT_FALSE(imported.ok()) << cut;
    EXPECT_TRUE(ReadAll(*dst).empty());
  }
  fs::remove(FirstSst());
  ExpectRefused(StatusCode::kCorruption, "missing file");
}

// An SST file whose footer turns RocksDB's block checksums off and whose data block is
// malformed makes RocksDB assert (abort the process) while it opens the table (found by
// sst_import_fuzz). The version-2 manifest pins every file's size and xxHash64, so such a
// file is refused as Corruption naming it, before RocksDB reads it.
TEST_F(SstTest, AFileRocksDbWouldAbortOnIsRefusedBeforeRocksDbReadsIt) {
  const std::string bad = ReadFile(std::string(REFKV_FUZZ_CORPUS_DIR) +
                                   "/sst_import/rocksdb-asserts-checksums-off.sst");
  ASSERT_FALSE(bad.empty());
  WriteFile(FirstSst(), bad);
  ExpectRefused(StatusCode::kCorruption, "file rocksdb aborts on");
  auto verified = VerifySst(opts_dir());
  ASSERT_FALSE(verified.ok());
  EXPECT_TRUE(verified.status().IsCorruption()) << verified.status().ToString();
  EXPECT_NE(verified.status().message().find(FirstSst() + "' (partition '"), std::string::npos)
      << verified.status().ToString();
  EXPECT_NE(verified.status().message().find("does not match the manifest"), std::string::npos)
      << verified.status().ToString();
}

// A new export writes manifest version 2: every partition line carries its file's size
// and xxHash64.
TEST_F(SstTest, ManifestPinsEveryFilesSizeAndChecksum) {
  auto manifest = ReadSstManifest(opts_dir());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->manifest_version, 2);
  for (const auto& p : manifest->partitions) {
    const std::string bytes = ReadFile(opts_dir() + "/" + p.file);
    EXPECT_EQ(p.file_bytes, bytes.size()) << p.file;
    EXPECT_EQ(p.file_checksum, XXH64(bytes.data(), bytes.size(), 0)) << p.file;
  }
}

TEST_F(SstTest, ManifestThatDoesNotMatchItsFiles) {
  const std::string manifest = opts_dir() + "/" + std::string(kSstManifestName);
  std::string text = ReadFile(manifest);
  // Swap two files: counts and checksums no longer match (manifest checksum still ok).
  const auto& parts = summary_.manifest.partitions;
  ASSERT_GE(parts.size(), 2u);
  fs::rename(opts_dir() + "/" + parts[0].file, opts_dir() + "/tmp");
  fs::rename(opts_dir() + "/" + parts[1].file, opts_dir() + "/" + parts[0].file);
  fs::rename(opts_dir() + "/tmp", opts_dir() + "/" + parts[1].file);
  ExpectRefused(StatusCode::kCorruption, "swapped files");
  fs::rename(opts_dir() + "/" + parts[0].file, opts_dir() + "/tmp");
  fs::rename(opts_dir() + "/" + parts[1].file, opts_dir() + "/" + parts[0].file);
  fs::rename(opts_dir() + "/tmp", opts_dir() + "/" + parts[1].file);
  ASSERT_TRUE(VerifySst(opts_dir()).ok());
  // An edited manifest fails its own checksum; a truncated one has none.
  std::string edited = text;
  edited[edited.find("partition ") + 10] ^= 1;
  WriteFile(manifest, edited);
  ExpectRefused(StatusCode::kCorruption, "edited manifest");
  WriteFile(manifest, text.substr(0, text.size() / 2));
  ExpectRefused(StatusCode::kCorruption, "truncated manifest");
  fs::remove(manifest);
  ExpectRefused(StatusCode::kNotFound, "no manifest");
}

TEST_F(SstTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(kv::SetSchemaVersion(*src_, kv::kInitialSchemaVersion, 5).ok());
  SstExportOptions opts;
  opts.dir = opts_dir();
  opts.overwrite = true;
  ASSERT_TRUE(ExportSst(*src_, opts).ok());
  ExpectRefused(StatusCode::kVersionMismatch, "schema 5");
}

TEST_F(SstTest, OnConflict) {
  const SstPartition& p = summary_.manifest.partitions[2];
  const std::string key = written_.at(p.name).begin()->first;
  auto dst = NewStore();
  ASSERT_TRUE(dst->Set(p.name, key, "mine").ok());
  auto failed = ImportSst(opts_dir(), *dst);
  ASSERT_TRUE(failed.status().IsAlreadyExists()) << failed.status().ToString();
  EXPECT_EQ(ReadAll(*dst).size(), 1u);
  SstImportOptions skip;
  skip.on_conflict = OnConflict::kSkip;
  auto skipped = ImportSst(opts_dir(), *dst, skip);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->skipped, 1u);
  StoreContents want = written_;
  want[p.name][key] = "mine";
  EXPECT_EQ(ReadAll(*dst), want);
  SstImportOptions over;
  over.on_conflict = OnConflict::kOverwrite;
  ASSERT_TRUE(ImportSst(opts_dir(), *dst, over).ok());
  EXPECT_EQ(ReadAll(*dst), written_);
}

TEST_F(SstTest, DataFilesHaveNamesRocksDbNeverUses) {
  std::set<std::string> want{std::string(kSstManifestName)};
  for (size_t i = 0; i < summary_.manifest.partitions.size(); ++i) {
    const std::string& file = summary_.manifest.partitions[i].file;
    char name[32];
    std::snprintf(name, sizeof name, "refkv-%06zu.sst", i);
    EXPECT_EQ(file, name);
    want.insert(file);
  }
  EXPECT_EQ(Names(opts_dir()), want);  // no temporary left behind
}

// Exports written before issue 14 named their files 000000.sst ...: the manifest is
// the authority, and such an export still imports.
TEST_F(SstTest, ExportWithTheOldFileNamesStillImports) {
  const std::string manifest = opts_dir() + "/" + std::string(kSstManifestName);
  std::string text = ReadFile(manifest);
  for (size_t i = 0; i < summary_.manifest.partitions.size(); ++i) {
    const std::string& file = summary_.manifest.partitions[i].file;
    char old_name[32];
    std::snprintf(old_name, sizeof old_name, "%06zu.sst", i);
    fs::rename(opts_dir() + "/" + file, opts_dir() + "/" + old_name);
    size_t at = text.find(" " + file + " ");
    ASSERT_NE(at, std::string::npos) << file;
    text.replace(at + 1, file.size(), old_name);
  }
  WriteFile(manifest, Resign(text));
  auto dst = NewStore();
  auto imported = ImportSst(opts_dir(), *dst);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(ReadAll(*dst), written_);
  // And --overwrite replaces it (its files are the ones its manifest names).
  SstExportOptions again;
  again.dir = opts_dir();
  again.overwrite = true;
  ASSERT_TRUE(ExportSst(*src_, again).ok());
  EXPECT_EQ(Names(opts_dir()).count("000000.sst"), 0u);
}

TEST_F(SstTest, ManifestNamingAFileOutsideItsDirectoryIsRejected) {
  const std::string manifest = opts_dir() + "/" + std::string(kSstManifestName);
  const std::string text = ReadFile(manifest);
  const std::string& file = summary_.manifest.partitions[0].file;
  fs::copy_file(opts_dir() + "/" + file, dir_.Sub("x"));
  fs::copy_file(opts_dir() + "/" + file, dir_.Sub("000009.sst"));
  for (const std::string bad :
       {"../x", "../000009.sst", "/etc/passwd", "a/000000.sst", "..", "000000.sst/"}) {
    SCOPED_TRACE(bad);
    std::string edited = text;
    edited.replace(edited.find(" " + file + " ") + 1, file.size(), bad);
    WriteFile(manifest, Resign(edited));
    auto read = ReadSstManifest(opts_dir());
    EXPECT_TRUE(read.status().IsCorruption()) << read.status().ToString();
    ExpectRefused(StatusCode::kCorruption, bad);
  }
}

TEST_F(SstTest, ExportGoesOnlyIntoAMissingOrEmptyDirectory) {
  SstExportOptions opts;
  opts.dir = dir_.Sub("busy");
  fs::create_directory(opts.dir);
  WriteFile(opts.dir + "/CURRENT", "MANIFEST-000005\n");
  for (bool overwrite : {false, true}) {
    opts.overwrite = overwrite;
    auto r = ExportSst(*src_, opts);
    EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("'CURRENT'"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(Names(opts.dir), std::set<std::string>{"CURRENT"});
  }
  // Empty, and missing (parents too): fine.
  opts.overwrite = false;
  opts.dir = dir_.Sub("empty");
  fs::create_directory(opts.dir);
  ASSERT_TRUE(ExportSst(*src_, opts).ok());
  opts.dir = dir_.Sub("new/deeper");
  ASSERT_TRUE(ExportSst(*src_, opts).ok());
  ASSERT_TRUE(VerifySst(opts.dir).ok());
}

TEST_F(SstTest, OverwriteReplacesTheExportAndNothingElse) {
  SstExportOptions opts;
  opts.dir = opts_dir();
  opts.overwrite = true;
  opts.partitions = {summary_.manifest.partitions[1].name};
  auto one = ExportSst(*src_, opts);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(Names(opts_dir()),
            (std::set<std::string>{std::string(kSstManifestName), "refkv-000000.sst"}));
  // A file the manifest does not name: refused, named, nothing removed.
  WriteFile(opts_dir() + "/refkv-000007.sst", "not listed");
  auto foreign = ExportSst(*src_, opts);
  EXPECT_TRUE(foreign.status().IsAlreadyExists()) << foreign.status().ToString();
  EXPECT_NE(foreign.status().message().find("'refkv-000007.sst'"), std::string::npos);
  EXPECT_EQ(Names(opts_dir()).size(), 3u);
  ASSERT_TRUE(VerifySst(opts_dir()).ok());
  // An export interrupted before its manifest (data files, a temporary manifest): a
  // rerun with overwrite takes the directory over.
  fs::remove(opts_dir() + "/" + std::string(kSstManifestName));
  WriteFile(opts_dir() + "/" + std::string(kSstManifestName) + ".tmp-0123456789abcdef", "half");
  opts.partitions.clear();
  auto rerun = ExportSst(*src_, opts);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_EQ(Names(opts_dir()).size(), summary_.manifest.partitions.size() + 1);
  auto dst = NewStore();
  ASSERT_TRUE(ImportSst(opts_dir(), *dst).ok());
  EXPECT_EQ(ReadAll(*dst), written_);
}

TEST_F(SstTest, ExportNeverWritesThroughALink) {
  WriteFile(dir_.Sub("victim"), "precious");
  SstExportOptions opts;
  opts.dir = dir_.Sub("planted");
  fs::create_directory(opts.dir);
  fs::create_symlink(dir_.Sub("victim"), opts.dir + "/refkv-000000.sst");
  for (bool overwrite : {false, true}) {
    opts.overwrite = overwrite;
    auto r = ExportSst(*src_, opts);
    EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  }
  EXPECT_EQ(ReadFile(dir_.Sub("victim")), "precious");
  EXPECT_TRUE(fs::is_symlink(opts.dir + "/refkv-000000.sst"));
  // The directory itself a link.
  fs::create_directory(dir_.Sub("real"));
  fs::create_directory_symlink(dir_.Sub("real"), dir_.Sub("link"));
  opts.dir = dir_.Sub("link");
  opts.overwrite = false;
  auto r = ExportSst(*src_, opts);
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(dir_.Sub("real")));
}

// Files that appear while an export runs (another export into the same directory) are
// never replaced: the export fails, removes what it made, and leaves them.
TEST_F(SstTest, AFileThatAppearsDuringTheExportIsNeitherReplacedNorRemoved) {
  SstExportOptions opts;
  opts.dir = dir_.Sub("race");
  int calls = 0;
  opts.progress = [&](const Progress&) {
    if (++calls == 1) {
      WriteFile(opts.dir + "/refkv-000001.sst", "theirs 1");
      WriteFile(opts.dir + "/" + std::string(kSstManifestName), "theirs 2");
    }
  };
  auto r = ExportSst(*src_, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("refkv-000001.sst"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(Names(opts.dir),
            (std::set<std::string>{"refkv-000001.sst", std::string(kSstManifestName)}));
  EXPECT_EQ(ReadFile(opts.dir + "/refkv-000001.sst"), "theirs 1");
}

// engine/store.h "Limits": a maximal partition name, key and value go through an SST
// export and back, streamed (mem) and ingested (rocks, both mappings).
TEST(SstLimitsTest, RecordsAtTheLimitsRoundTrip) {
  testing::TempDir dir{"sst-limits"};
  std::mt19937_64 rng{5};
  auto src = NewStore();
  const std::string p = testing::RandomBytes(rng, kv::kMaxPartitionBytes);
  std::string value(kv::kMaxValueBytes, 'v');
  value.replace(0, 4096, testing::RandomBytes(rng, 4096));
  ASSERT_TRUE(src->Set(p, "a", "small").ok());
  ASSERT_TRUE(src->Set(p, testing::RandomBytes(rng, kv::kMaxKeyBytes), value).ok());
  value.clear();
  value.shrink_to_fit();
  SstExportOptions opts;
  opts.dir = dir.Sub("export");
  auto exported = ExportSst(*src, opts);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  const StoreContents want = ReadAll(*src);
  for (std::string uri : {std::string("mem://"), "rocks://" + dir.Sub("cf"),
                          "rocks://" + dir.Sub("shared") + "?partitions=shared"}) {
    SCOPED_TRACE(uri);
    auto dst = kv::Open(uri);
    ASSERT_TRUE(dst.ok()) << dst.status().ToString();
    auto imported = ImportSst(opts.dir, **dst);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_TRUE(ReadAll(**dst) == want);
  }
}

// Data an older refkv let into a store beyond today's limits is refused by export,
// naming it: no manifest is written, so nothing `import` could misread is left.
TEST(SstLimitsTest, ExportRefusesRecordsBeyondTheLimits) {
  testing::TempDir dir{"sst-limits"};
  int n = 0;
  for (const auto& c : testing::RecordsBeyondTheLimits()) {
    SCOPED_TRACE(c.limit);
    testing::LegacyStore src;
    ASSERT_TRUE(src.Set("a", "k", "fine").ok());
    ASSERT_TRUE(src.Set(c.partition, c.key, c.value).ok());
    SstExportOptions opts;
    opts.dir = dir.Sub("export" + std::to_string(n++));
    auto exported = ExportSst(src, opts);
    ASSERT_TRUE(exported.status().IsInvalidArgument()) << exported.status().ToString();
    EXPECT_NE(exported.status().message().find(c.limit), std::string::npos)
        << exported.status().ToString();
    std::error_code ec;
    EXPECT_FALSE(fs::exists(opts.dir + "/" + std::string(kSstManifestName), ec));
    EXPECT_FALSE(ReadSstManifest(opts.dir).ok());
  }
}

// An SST export as an older refkv wrote it (SST_FORMAT.md), one partition, without the
// limits of today's exporter.
void WriteOlderExport(const std::string& dir, const std::string& partition, const std::string& key,
                      const std::string& value) {
  fs::create_directories(dir);
  const rocksdb::Options options;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions{}, options);
  ASSERT_TRUE(writer.Open(dir + "/000000.sst").ok());
  ASSERT_TRUE(writer.Put(key, value).ok());
  ASSERT_TRUE(writer.Finish().ok());
  std::string record;
  auto varint = [&](uint64_t v) {
    for (; v >= 0x80; v >>= 7) record.push_back(static_cast<char>((v & 0x7f) | 0x80));
    record.push_back(static_cast<char>(v));
  };
  varint(partition.size());
  record += partition;
  varint(key.size());
  record += key;
  varint(value.size());
  record += value;
  auto hex = [](std::string_view bytes) { return HexEncode(bytes); };
  auto hex64 = [](uint64_t v) { return HexUint64(v); };
  std::string body =
      "refkv-sst-manifest 1\nstore_format_version 1\nschema_version 0\n"
      "created_at 0\nrefkv_version " +
      hex("0.old") + "\nsource_driver " + hex("mem") + "\nstore_id \n" + "partition " +
      hex(partition) + " 000000.sst 1 " + hex64(XXH64(record.data(), record.size(), 0)) +
      "\nrecords 1\n";
  WriteFile(dir + "/" + std::string(kSstManifestName),
            body + "checksum " + hex64(XXH64(body.data(), body.size(), 0)) + "\n");
}

// Such an export stays readable (verify), and import refuses it in its first pass, naming
// the limit: nothing is imported, streamed (mem) or ingested (rocks).
TEST(SstLimitsTest, ImportRefusesAnOlderExportBeyondTheLimits) {
  testing::TempDir dir{"sst-limits"};
  struct Case {
    std::string p, k, limit;
  };
  const Case cases[] = {{std::string(600, 'p'), "k", "kv::kMaxPartitionBytes"},
                        {"p", std::string(kv::kMaxKeyBytes + 1, 'k'), "kv::kMaxKeyBytes"}};
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.limit);
    const std::string export_dir = dir.Sub("older" + std::to_string(n));
    WriteOlderExport(export_dir, c.p, c.k, "v");
    auto verified = VerifySst(export_dir);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    for (std::string uri :
         {std::string("mem://"), "rocks://" + dir.Sub("db" + std::to_string(n))}) {
      auto dst = kv::Open(uri);
      ASSERT_TRUE(dst.ok()) << dst.status().ToString();
      auto imported = ImportSst(export_dir, **dst);
      ASSERT_TRUE(imported.status().IsInvalidArgument()) << imported.status().ToString();
      EXPECT_NE(imported.status().message().find(c.limit), std::string::npos)
          << imported.status().ToString();
      EXPECT_NE(imported.status().message().find("000000.sst"), std::string::npos)
          << imported.status().ToString();
      EXPECT_TRUE(ReadAll(**dst).empty());
    }
    ++n;
  }
}

}  // namespace
}  // namespace refkv::format
