#include "format/dump.h"

#include <gtest/gtest.h>
#include <xxhash.h>
#include <zstd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/metadata.h"
#include "engine/open.h"
#include "tests/format/store_util.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace refkv::format {
namespace {

using testing::ReadAll;
using testing::StoreContents;

std::unique_ptr<kv::Store> NewStore() {
  auto store = kv::Open("mem://");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

uint64_t Le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// Offsets of the blocks of a dump, parsed independently of the reader (DUMP_FORMAT.md).
struct Layout {
  uint64_t header_end = 0;
  std::vector<uint64_t> blocks;
  uint64_t blocks_end = 0;
};
Layout ParseLayout(const std::string& b) {
  Layout l;
  l.header_end = 16 + Le(b, 12, 4) + 8;
  uint64_t footer_len = Le(b, b.size() - 16, 8);
  l.blocks_end = b.size() - 16 - footer_len;
  for (uint64_t at = l.header_end; at < l.blocks_end; at += 32 + Le(b, at + 8, 4)) {
    l.blocks.push_back(at);
  }
  return l;
}

class DumpTest : public ::testing::TestWithParam<io::Backend> {
 protected:
  ExportOptions Export(const std::string& name) {
    ExportOptions o;
    o.path = dir_.Sub(name);
    o.io.backend = GetParam();
    return o;
  }
  ImportOptions Import(OnConflict mode = OnConflict::kFail) {
    ImportOptions o;
    o.on_conflict = mode;
    o.io.backend = GetParam();
    return o;
  }
  void SetUp() override {
    if (GetParam() == io::Backend::kUring && !io::UringAvailable()) {
      REFKV_SKIP_UNLESS_REQUIRED("io_uring not available here");
    }
  }
  testing::TempDir dir_{"dump"};
  std::mt19937_64 rng_{7};
};

TEST_P(DumpTest, RoundTripOfRandomBinaryDataWithManyPartitions) {
  auto src = NewStore();
  StoreContents written = testing::FillRandom(*src, rng_, 40, 300);
  auto opts = Export("all.dump");
  opts.block_size = 8192;  // many blocks
  std::vector<Progress> seen;
  opts.progress = [&](const Progress& p) { seen.push_back(p); };
  auto exported = ExportDump(*src, opts);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->info.partitions.size(), written.size());
  EXPECT_GT(exported->info.blocks, 10u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().records, exported->info.records);
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }

  auto md = kv::ReadMetadata(*src);
  ASSERT_TRUE(md.ok());
  auto verified = VerifyDump(opts.path);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->header.store_id, md->store_id);
  EXPECT_EQ(verified->header.schema_version, md->schema_version);
  EXPECT_EQ(verified->header.source_driver, "mem");
  EXPECT_EQ(verified->header.refkv_version, kv::CodeVersion());
  size_t total = 0;
  for (auto& [p, kvs] : written) total += kvs.size();
  EXPECT_EQ(verified->records, total);

  auto inspected = InspectDump(opts.path);
  ASSERT_TRUE(inspected.ok());
  ASSERT_EQ(inspected->partitions.size(), written.size());
  auto wit = written.begin();
  for (const auto& p : inspected->partitions) {
    EXPECT_EQ(p.name, wit->first);
    EXPECT_EQ(p.records, wit->second.size());
    ++wit;
  }

  auto dst = NewStore();
  auto dst_md = kv::ReadMetadata(*dst);
  auto imported = ImportDump(opts.path, *dst, Import());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->written, total);
  EXPECT_EQ(ReadAll(*dst), written);
  // The target keeps its own identity: the source's metadata is not imported.
  EXPECT_EQ(kv::ReadMetadata(*dst)->store_id, dst_md->store_id);
  EXPECT_NE(dst_md->store_id, md->store_id);
  // Bytes in memory verify the same way.
  EXPECT_TRUE(VerifyDumpBytes(ReadFile(opts.path)).ok());
}

TEST_P(DumpTest, EmptyStore) {
  auto src = NewStore();
  auto opts = Export("empty.dump");
  auto exported = ExportDump(*src, opts);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->info.records, 0u);
  EXPECT_EQ(exported->info.blocks, 0u);
  auto verified = VerifyDump(opts.path);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  auto dst = NewStore();
  ASSERT_TRUE(ImportDump(opts.path, *dst, Import()).ok());
  EXPECT_TRUE(ReadAll(*dst).empty());
  EXPECT_TRUE(ExportDump(*src, opts).status().IsAlreadyExists());
  opts.overwrite = true;
  EXPECT_TRUE(ExportDump(*src, opts).ok());
}

TEST_P(DumpTest, FourMebibyteValue) {
  auto src = NewStore();
  std::string big = testing::RandomBytes(rng_, 4 << 20);
  ASSERT_TRUE(src->Set("p", "a", "small").ok());
  ASSERT_TRUE(src->Set("p", "big", big).ok());
  ASSERT_TRUE(src->Set("p", "c", "after").ok());
  auto opts = Export("big.dump");
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  auto dst = NewStore();
  auto imported = ImportDump(opts.path, *dst, Import());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->info.blocks, 3u);  // the big record goes alone into its own block
  EXPECT_EQ(ReadAll(*dst), ReadAll(*src));
}

TEST_P(DumpTest, PartitionFilter) {
  auto src = NewStore();
  ASSERT_TRUE(src->Set("a", "k", "1").ok());
  ASSERT_TRUE(src->Set("b", "k", "2").ok());
  ASSERT_TRUE(src->Set("c", "k", "3").ok());
  auto opts = Export("filter.dump");
  opts.partitions = {"c", "a"};
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  auto dst = NewStore();
  ASSERT_TRUE(ImportDump(opts.path, *dst, Import()).ok());
  StoreContents want = {{"a", {{"k", "1"}}}, {"c", {{"k", "3"}}}};
  EXPECT_EQ(ReadAll(*dst), want);

  auto missing = Export("missing.dump");
  missing.partitions = {"zz"};
  auto s = ExportDump(*src, missing).status();
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("zz"), std::string::npos);
  missing.partitions = {std::string(kv::kMetaPartition)};
  EXPECT_TRUE(ExportDump(*src, missing).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(missing.path));
}

// A dump of many small blocks, and its bytes.
class CorruptionTest : public DumpTest {
 protected:
  void SetUp() override {
    DumpTest::SetUp();
    if (IsSkipped()) return;
    src_ = NewStore();
    written_ = testing::FillRandom(*src_, rng_, 6, 200);
    auto opts = Export("good.dump");
    opts.block_size = 4096;
    ASSERT_TRUE(ExportDump(*src_, opts).ok());
    good_ = ReadFile(opts.path);
    layout_ = ParseLayout(good_);
    ASSERT_GT(layout_.blocks.size(), 5u);
  }

  // Writes `bytes` as a dump and expects verify and import to fail with Corruption
  // containing `expect` (if not empty) and import to leave the target empty.
  void ExpectRejected(const std::string& bytes, const std::string& expect,
                      const std::string& what) {
    const std::string path = dir_.Sub("bad.dump");
    WriteFile(path, bytes);
    auto v = VerifyDump(path);
    ASSERT_FALSE(v.ok()) << what;
    // Decoding on the calling thread or on workers reports the same first error.
    for (unsigned threads : {1u, 4u}) {
      auto again = VerifyDump(path, {}, {}, threads);
      EXPECT_EQ(again.status().ToString(), v.status().ToString())
          << what << ", threads " << threads;
    }
    EXPECT_TRUE(v.status().IsCorruption()) << what << ": " << v.status().ToString();
    if (!expect.empty()) {
      EXPECT_NE(v.status().message().find(expect), std::string::npos)
          << what << ": " << v.status().ToString();
    }
    auto dst = NewStore();
    for (OnConflict mode : {OnConflict::kFail, OnConflict::kOverwrite}) {
      auto imported = ImportDump(path, *dst, Import(mode));
      ASSERT_FALSE(imported.ok()) << what;
      EXPECT_TRUE(imported.status().IsCorruption()) << what << imported.status().ToString();
    }
    EXPECT_TRUE(ReadAll(*dst).empty()) << what;
    EXPECT_FALSE(VerifyDumpBytes(bytes).ok()) << what;
  }

  std::unique_ptr<kv::Store> src_;
  StoreContents written_;
  std::string good_;
  Layout layout_;
};

TEST_P(CorruptionTest, AByteFlippedInEachRegion) {
  // Header: magic, version/length area, body, checksum.
  for (size_t at : {size_t{0}, size_t{12}, size_t{20}, size_t{layout_.header_end - 1}}) {
    std::string bad = good_;
    bad[at] ^= 0x01;
    ExpectRejected(bad, "", "header byte " + std::to_string(at));
  }
  // Every block: its header and its payload. The error names the block and its offset.
  for (size_t n = 0; n < layout_.blocks.size(); ++n) {
    uint64_t start = layout_.blocks[n];
    uint64_t end = n + 1 < layout_.blocks.size() ? layout_.blocks[n + 1] : layout_.blocks_end;
    for (uint64_t at : {start, start + 13, start + 24, start + 32, (start + end) / 2, end - 1}) {
      std::string bad = good_;
      bad[at] ^= 0x40;
      ExpectRejected(bad, "block " + std::to_string(n) + " at offset " + std::to_string(start),
                     "block " + std::to_string(n) + " byte " + std::to_string(at));
    }
  }
  // Footer and trailer.
  for (uint64_t at = layout_.blocks_end; at < good_.size(); at += 7) {
    std::string bad = good_;
    bad[at] ^= 0x10;
    ExpectRejected(bad, "", "footer byte " + std::to_string(at));
  }
}

TEST_P(CorruptionTest, TruncatedAtManyOffsets) {
  std::vector<size_t> cuts = {0,
                              1,
                              8,
                              16,
                              40,
                              layout_.header_end,
                              good_.size() - 1,
                              good_.size() - 16,
                              layout_.blocks_end,
                              layout_.blocks_end + 1};
  for (uint64_t b : layout_.blocks) {
    cuts.push_back(b);
    cuts.push_back(b + 1);
    cuts.push_back(b + 33);
  }
  for (int i = 0; i < 40; ++i) cuts.push_back(rng_() % good_.size());
  for (size_t cut : cuts) {
    ExpectRejected(good_.substr(0, cut), "", "truncated at " + std::to_string(cut));
  }
  // Garbage appended, and a block removed (footer still says it is there).
  ExpectRejected(good_ + "x", "", "one byte appended");
  std::string dropped = good_;
  dropped.erase(layout_.blocks[1], layout_.blocks[2] - layout_.blocks[1]);
  ExpectRejected(dropped, "", "block 1 removed");
}

TEST_P(DumpTest, OnConflictModes) {
  auto src = NewStore();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(src->Set("p1", "k" + std::to_string(100 + i), "src" + std::to_string(i)).ok());
    ASSERT_TRUE(src->Set("p2", "k" + std::to_string(100 + i), "src" + std::to_string(i)).ok());
  }
  auto opts = Export("c.dump");
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  auto prepare = [&] {
    auto dst = NewStore();
    EXPECT_TRUE(dst->Set("p2", "k120", "mine").ok());
    EXPECT_TRUE(dst->Set("p3", "other", "x").ok());
    return dst;
  };

  // fail: nothing written, the error names the partition and the key.
  auto dst = prepare();
  StoreContents before = ReadAll(*dst);
  auto failed = ImportDump(opts.path, *dst, Import(OnConflict::kFail));
  ASSERT_TRUE(failed.status().IsAlreadyExists()) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("k120"), std::string::npos);
  EXPECT_NE(failed.status().message().find("p2"), std::string::npos);
  EXPECT_EQ(ReadAll(*dst), before);

  // skip: the target's value stays.
  dst = prepare();
  auto skipped = ImportDump(opts.path, *dst, Import(OnConflict::kSkip));
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->skipped, 1u);
  EXPECT_EQ(skipped->written, 99u);
  StoreContents want = ReadAll(*src);
  want["p2"]["k120"] = "mine";
  want["p3"]["other"] = "x";
  EXPECT_EQ(ReadAll(*dst), want);

  // overwrite: the dump's value wins.
  dst = prepare();
  auto over = ImportDump(opts.path, *dst, Import(OnConflict::kOverwrite));
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->written, 100u);
  want["p2"]["k120"] = "src20";
  EXPECT_EQ(ReadAll(*dst), want);

  EXPECT_EQ(*ParseOnConflict("skip"), OnConflict::kSkip);
  EXPECT_TRUE(ParseOnConflict("merge").status().IsInvalidArgument());
}

TEST_P(DumpTest, SchemaVersions) {
  auto src = NewStore();
  ASSERT_TRUE(src->Set("p", "k", "v").ok());
  auto opts = Export("v1.dump");
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  // Target newer than the dump: refused unless allowed, and then only if it holds no
  // data; it takes the dump's schema.
  auto newer_target = NewStore();
  ASSERT_TRUE(kv::SetSchemaVersion(*newer_target, kv::kInitialSchemaVersion, 2).ok());
  auto refused = ImportDump(opts.path, *newer_target, Import());
  EXPECT_TRUE(refused.status().IsVersionMismatch()) << refused.status().ToString();
  auto allow = Import();
  allow.allow_older_schema = true;
  auto with_data = NewStore();
  ASSERT_TRUE(kv::SetSchemaVersion(*with_data, kv::kInitialSchemaVersion, 2).ok());
  ASSERT_TRUE(with_data->Set("q", "mine", "x").ok());
  auto mixed = ImportDump(opts.path, *with_data, allow);
  EXPECT_TRUE(mixed.status().IsVersionMismatch()) << mixed.status().ToString();
  EXPECT_NE(mixed.status().message().find("fresh store"), std::string::npos);
  EXPECT_EQ(ReadAll(*with_data).size(), 1u);
  auto taken = ImportDump(opts.path, *newer_target, allow);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->schema_set, 1);
  EXPECT_EQ(kv::ReadMetadata(*newer_target)->schema_version, 1);
  EXPECT_FALSE(kv::ReadPendingLoad(*newer_target)->has_value());
  // Dump newer than the target: always refused, nothing written.
  ASSERT_TRUE(kv::SetSchemaVersion(*src, kv::kInitialSchemaVersion, 3).ok());
  opts.overwrite = true;
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  auto old_target = NewStore();
  auto newer = ImportDump(opts.path, *old_target, allow);
  EXPECT_TRUE(newer.status().IsVersionMismatch());
  EXPECT_NE(newer.status().message().find("3"), std::string::npos);
  EXPECT_TRUE(ReadAll(*old_target).empty());
}

// Compression on worker threads writes the same bytes as the calling thread alone,
// for any number of workers (blocks are compressed independently, written in order).
TEST_P(DumpTest, ParallelCompressionIsByteIdentical) {
  auto src = NewStore();
  StoreContents written = testing::FillRandom(*src, rng_, 12, 200);
  auto export_with = [&](unsigned threads) {
    auto opts = Export("t" + std::to_string(threads) + ".dump");
    opts.block_size = 4096;  // many blocks: more than 2 * threads in flight
    opts.threads = threads;
    opts.overwrite = true;
    auto done = ExportDump(*src, opts);
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return ReadFile(opts.path);
  };
  // created_at (header bytes 32..39, unix seconds) is part of the file: export again
  // if a second ticked between the two exports.
  for (unsigned threads : {2u, 3u, 8u}) {
    std::string one, many;
    for (int attempt = 0; attempt < 3; ++attempt) {
      one = export_with(1);
      many = export_with(threads);
      if (one.substr(32, 8) == many.substr(32, 8)) break;
    }
    ASSERT_GT(ParseLayout(one).blocks.size(), 4u * threads);
    EXPECT_TRUE(one == many) << "threads=" << threads << ": " << one.size() << " vs " << many.size()
                             << " bytes";
    // Decompression on workers reads it back the same.
    auto dst = NewStore();
    auto import = Import();
    import.threads = threads;
    ASSERT_TRUE(ImportDump(dir_.Sub("t" + std::to_string(threads) + ".dump"), *dst, import).ok());
    EXPECT_EQ(ReadAll(*dst), written);
    auto verified = VerifyDump(dir_.Sub("t1.dump"), {}, {}, threads);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->blocks, ParseLayout(one).blocks.size());
  }
  auto bad = Export("bad.dump");
  bad.threads = kMaxDumpThreads + 1;
  EXPECT_TRUE(ExportDump(*src, bad).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(bad.path));
}

// The version field is covered by the header checksum: a damaged version is corruption
// of the header, not a newer format (it used to read "format version 3841 is newer").
TEST_P(CorruptionTest, AByteFlippedInTheVersionFieldIsCorruptionNotANewerVersion) {
  for (size_t at = 8; at < 12; ++at) {
    for (unsigned char mask : {0x01, 0x0f, 0x80, 0xff}) {
      std::string bad = good_;
      bad[at] = static_cast<char>(bad[at] ^ mask);
      const std::string path = dir_.Sub("version.dump");
      WriteFile(path, bad);
      auto v = InspectDump(path);
      EXPECT_TRUE(v.status().IsCorruption())
          << at << "/" << int{mask} << ": " << v.status().ToString();
      EXPECT_FALSE(v.status().IsVersionMismatch());
      ExpectRejected(bad,
                     "header at offset " + std::to_string(layout_.header_end - 8) +
                         ": header checksum mismatch",
                     "version byte " + std::to_string(at));
    }
  }
}

// A newer version in a header whose checksum matches is still VersionMismatch.
TEST_P(CorruptionTest, ANewerVersionWithAValidChecksumIsVersionMismatch) {
  std::string newer = good_;
  newer[8] = 2;
  const size_t body_end = layout_.header_end - 8;
  uint64_t sum = XXH64(newer.data(), body_end, 0);
  for (int i = 0; i < 8; ++i) newer[body_end + i] = static_cast<char>(sum >> (8 * i));
  const std::string path = dir_.Sub("newer.dump");
  WriteFile(path, newer);
  auto v = VerifyDump(path);
  EXPECT_TRUE(v.status().IsVersionMismatch()) << v.status().ToString();
  EXPECT_NE(v.status().message().find("format version 2 is newer"), std::string::npos);
}

TEST_P(DumpTest, ExportNeverTouchesAFileItDidNotCreate) {
  auto src = NewStore();
  testing::FillRandom(*src, rng_, 3, 50);
  auto opts = Export("x.dump");
  WriteFile(opts.path + ".tmp", "mine");
  ASSERT_TRUE(ExportDump(*src, opts).ok());
  EXPECT_EQ(ReadFile(opts.path + ".tmp"), "mine");
  ASSERT_TRUE(VerifyDump(opts.path).ok());
  // No temporary left behind.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 2u);
  // A file that appears at the path while the export runs is not replaced (without
  // overwrite): the export fails and removes only its own temporary.
  auto raced = Export("raced.dump");
  raced.progress = [&](const Progress&) {
    if (!std::filesystem::exists(raced.path)) WriteFile(raced.path, "theirs");
  };
  auto r = ExportDump(*src, raced);
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_EQ(ReadFile(raced.path), "theirs");
  entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 3u);
}

TEST_P(DumpTest, MissingFile) {
  auto v = VerifyDump(dir_.Sub("nope.dump"));
  EXPECT_TRUE(v.status().IsNotFound());
  EXPECT_NE(v.status().message().find("nope.dump"), std::string::npos);
}

// engine/store.h "Limits": a record with a maximal partition name, key and value goes
// through a dump (it fits in one block) and back.
TEST(DumpLimitsTest, RecordsAtTheLimitsRoundTrip) {
  testing::TempDir dir{"dump-limits"};
  std::mt19937_64 rng{3};
  auto src = NewStore();
  const std::string p = testing::RandomBytes(rng, kv::kMaxPartitionBytes);
  std::string value(kv::kMaxValueBytes, 'v');  // compressible: the bound is on raw bytes
  value.replace(0, 4096, testing::RandomBytes(rng, 4096));
  ASSERT_TRUE(src->Set(p, "a", "small").ok());
  ASSERT_TRUE(src->Set(p, testing::RandomBytes(rng, kv::kMaxKeyBytes), value).ok());
  ASSERT_TRUE(src->Set("q", "k", "after").ok());
  ExportOptions opts;
  opts.path = dir.Sub("max.dump");
  auto exported = ExportDump(*src, opts);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto dst = NewStore();
  auto imported = ImportDump(opts.path, *dst);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_TRUE(ReadAll(*dst) == ReadAll(*src));
}

// Data an older refkv let into a store beyond today's limits is refused by export,
// naming it, instead of becoming a dump that no store can import; nothing is left.
TEST(DumpLimitsTest, ExportRefusesRecordsBeyondTheLimits) {
  testing::TempDir dir{"dump-limits"};
  for (const auto& c : testing::RecordsBeyondTheLimits()) {
    SCOPED_TRACE(c.limit);
    testing::LegacyStore src;
    ASSERT_TRUE(src.Set("a", "k", "fine").ok());
    ASSERT_TRUE(src.Set(c.partition, c.key, c.value).ok());
    ExportOptions opts;
    opts.path = dir.Sub("old.dump");
    auto exported = ExportDump(src, opts);
    ASSERT_TRUE(exported.status().IsInvalidArgument()) << exported.status().ToString();
    EXPECT_NE(exported.status().message().find(c.limit), std::string::npos)
        << exported.status().ToString();
    std::error_code ec;
    EXPECT_FALSE(std::filesystem::exists(opts.path, ec));
    EXPECT_FALSE(std::filesystem::exists(opts.path + ".tmp", ec));
  }
}

// A version 1 dump as an older refkv wrote it (DUMP_FORMAT.md), all records in one block,
// without the limits of today's writer.
std::string OlderDump(const std::vector<std::array<std::string, 3>>& records) {
  auto put = [](std::string* out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
  };
  auto varint = [](std::string* out, uint64_t v) {
    for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    out->push_back(static_cast<char>(v));
  };
  std::string body;
  put(&body, 1, 8);  // store_format_version
  put(&body, 0, 8);  // schema_version: no metadata
  put(&body, 0, 8);  // created_at
  for (std::string_view s : {"0.old", "mem", ""}) {
    put(&body, s.size(), 2);
    body += s;
  }
  std::string out = "RKVDUMP1";
  put(&out, 1, 4);
  put(&out, body.size(), 4);
  out += body;
  put(&out, XXH64(out.data(), out.size(), 0), 8);
  std::string raw;
  struct Part {
    std::string name, records;
    uint64_t count = 0;
  };
  std::vector<Part> parts;
  for (const auto& [p, k, v] : records) {
    std::string rec;
    varint(&rec, p.size());
    rec += p;
    varint(&rec, k.size());
    rec += k;
    varint(&rec, v.size());
    rec += v;
    raw += rec;
    if (parts.empty() || parts.back().name != p) parts.push_back({p, "", 0});
    parts.back().records += rec;
    ++parts.back().count;
  }
  std::string compressed(ZSTD_compressBound(raw.size()), '\0');
  compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(), 1));
  std::string block = "RKB1";
  put(&block, 1, 4);
  put(&block, compressed.size(), 4);
  put(&block, raw.size(), 4);
  put(&block, records.size(), 4);
  put(&block, 0, 4);
  block += compressed;
  std::string sum = block.substr(0, 24) + compressed;
  block.insert(24, std::string(8, '\0'));
  uint64_t block_sum = XXH64(sum.data(), sum.size(), 0);
  for (int i = 0; i < 8; ++i) block[24 + i] = static_cast<char>(block_sum >> (8 * i));
  out += block;
  const uint64_t blocks_end = out.size();
  std::string footer = "RKF1";
  put(&footer, parts.size(), 4);
  for (const auto& part : parts) {
    put(&footer, part.name.size(), 2);
    footer += part.name;
    put(&footer, part.count, 8);
    put(&footer, XXH64(part.records.data(), part.records.size(), 0), 8);
    put(&footer, 0, 8);  // first_block
    put(&footer, part.records.size(), 8);
  }
  put(&footer, records.size(), 8);
  put(&footer, 1, 8);
  put(&footer, raw.size(), 8);
  put(&footer, blocks_end, 8);
  put(&footer, XXH64(out.data(), out.size(), 0), 8);
  put(&footer, XXH64(footer.data(), footer.size(), 0), 8);
  out += footer;
  put(&out, footer.size(), 8);
  return out + "RKVDEND1";
}

// Such a dump stays readable (verify, inspect), and import refuses it in its first pass,
// naming the record: nothing is imported.
TEST(DumpLimitsTest, ImportRefusesAnOlderDumpBeyondTheLimits) {
  testing::TempDir dir{"dump-limits"};
  const std::string long_p(600, 'p');
  const std::string path = dir.Sub("older.dump");
  WriteFile(path, OlderDump({{"a", "k", "fine"}, {long_p, "k", "v"}}));
  auto verified = VerifyDump(path);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->records, 2u);
  auto dst = NewStore();
  auto imported = ImportDump(path, *dst);
  ASSERT_TRUE(imported.status().IsInvalidArgument()) << imported.status().ToString();
  EXPECT_NE(imported.status().message().find("kv::kMaxPartitionBytes"), std::string::npos)
      << imported.status().ToString();
  EXPECT_NE(imported.status().message().find("block 0"), std::string::npos)
      << imported.status().ToString();
  EXPECT_TRUE(ReadAll(*dst).empty());
}

const auto kBackends = ::testing::Values(io::Backend::kUring, io::Backend::kPosix);
auto BackendName = [](const auto& info) {
  return info.param == io::Backend::kUring ? std::string("Uring") : std::string("Posix");
};
INSTANTIATE_TEST_SUITE_P(Backends, DumpTest, kBackends, BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, CorruptionTest, kBackends, BackendName);

}  // namespace
}  // namespace refkv::format
