#include "engine/open.h"

#include <gtest/gtest.h>

#include "engine/metadata.h"

namespace refkv::kv {
namespace {

TEST(Open, UnknownDriverAndMalformedUri) {
  auto unknown = Open("nosuch://x");
  EXPECT_TRUE(unknown.status().IsNotFound());
  EXPECT_NE(unknown.status().message().find("nosuch"), std::string::npos);
  EXPECT_TRUE(Open("just-a-path").status().IsInvalidArgument());
}

TEST(Open, NewStoreGetsMetadata) {
  auto store = Open("mem://");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto md = ReadMetadata(**store);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->store_id.size(), 32u);
  EXPECT_EQ(md->format_version, kFormatVersion);
  EXPECT_EQ(md->schema_version, kInitialSchemaVersion);
  EXPECT_EQ(md->writer_version, CodeVersion());
  EXPECT_GT(md->created_at, 0);
}

TEST(Open, CheckRefusesNewerAndOlderVersions) {
  auto store = Open("mem://");
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  OpenOptions opts;
  ASSERT_TRUE(InitOrCheckMetadata(s, opts).ok());
  // Newer schema than the code.
  ASSERT_TRUE(s.Set(kMetaPartition, kMetaSchemaVersion, "9").ok());
  auto newer = InitOrCheckMetadata(s, opts);
  ASSERT_TRUE(newer.status().IsVersionMismatch());
  EXPECT_NE(newer.status().message().find("9"), std::string::npos);
  EXPECT_NE(newer.status().message().find(std::to_string(kInitialSchemaVersion)),
            std::string::npos);
  // Older schema: refused unless the migration tooling asks.
  opts.code_schema_version = 12;
  auto older = InitOrCheckMetadata(s, opts);
  ASSERT_TRUE(older.status().IsVersionMismatch());
  EXPECT_NE(older.status().message().find("migrate"), std::string::npos);
  opts.allow_older_schema = true;
  EXPECT_TRUE(InitOrCheckMetadata(s, opts).ok());
  // Newer format.
  ASSERT_TRUE(s.Set(kMetaPartition, kMetaFormatVersion, "99").ok());
  EXPECT_TRUE(InitOrCheckMetadata(s, opts).status().IsVersionMismatch());
  // Garbage.
  ASSERT_TRUE(s.Set(kMetaPartition, kMetaFormatVersion, "x1").ok());
  EXPECT_TRUE(InitOrCheckMetadata(s, opts).status().IsCorruption());
}

// An unfinished load (engine/metadata.h) refuses every open, read-only too, naming the
// load and its command, unless allow_pending_load.
TEST(Open, PendingLoadRefusesOrdinaryOpens) {
  auto store = Open("mem://");
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  PendingLoad load;
  load.what = "import of /tmp/a b\\c\n.dump";
  load.identity = "dump-import 0123456789abcdef 42";
  load.mode = "skip";
  load.resume = "refkv import '/tmp/a b\\c\n.dump' --on-conflict skip";
  load.started_at = 1764666000;
  load.writer = "0.1.0";
  auto decoded = DecodePendingLoad(EncodePendingLoad(load));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->what, load.what);
  EXPECT_EQ(decoded->identity, load.identity);
  EXPECT_EQ(decoded->mode, load.mode);
  EXPECT_EQ(decoded->resume, load.resume);
  EXPECT_EQ(decoded->started_at, load.started_at);
  EXPECT_EQ(decoded->writer, load.writer);
  EXPECT_TRUE(DecodePendingLoad("what x\n").status().IsCorruption());
  EXPECT_TRUE(DecodePendingLoad("what x").status().IsCorruption());

  EXPECT_FALSE(ReadPendingLoad(s)->has_value());
  ASSERT_TRUE(s.Set(kMetaPartition, kMetaPendingLoad, EncodePendingLoad(load)).ok());
  for (bool read_only : {false, true}) {
    OpenOptions opts;
    opts.read_only = read_only;
    auto refused = InitOrCheckMetadata(s, opts);
    ASSERT_TRUE(refused.status().IsVersionMismatch()) << refused.status().ToString();
    EXPECT_EQ(refused.status().message(), "store has an unfinished " + load.what +
                                              " (started 2025-12-02 09:00:00 UTC): run `" +
                                              load.resume + "` again to finish it");
    opts.allow_pending_load = true;
    EXPECT_TRUE(InitOrCheckMetadata(s, opts).ok());
  }
  ASSERT_TRUE(s.Set(kMetaPartition, kMetaPendingLoad, "garbage").ok());
  EXPECT_TRUE(InitOrCheckMetadata(s, {}).status().IsCorruption());
}

TEST(Open, SchemaVersionIsACompareAndSet) {
  auto store = Open("mem://");
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(SetSchemaVersion(**store, kInitialSchemaVersion, 2).ok());
  EXPECT_TRUE(SetSchemaVersion(**store, kInitialSchemaVersion, 3).IsPredicateFailed());
  auto md = ReadMetadata(**store);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->schema_version, 2);
}

TEST(Open, EmbeddersRegisterTheirOwnDrivers) {
  auto factory = [](const Uri& uri, const OpenOptions& options) {
    return Open("mem://", options);  // a driver built from another one
  };
  ASSERT_TRUE(RegisterDriver("custom", factory).ok());
  EXPECT_TRUE(RegisterDriver("custom", factory).IsAlreadyExists());
  auto store = Open("custom://anything");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->driver(), "mem");
  auto drivers = RegisteredDrivers();
  EXPECT_NE(std::find(drivers.begin(), drivers.end(), "custom"), drivers.end());
  EXPECT_NE(std::find(drivers.begin(), drivers.end(), "rocks"), drivers.end());
}

}  // namespace
}  // namespace refkv::kv
