// `migrate restore` (migrate/backup.h) on synthetic steps: the backup `Up` takes (a
// RocksDB checkpoint, or a dump for mem) brought back over the migrated store; bad
// backups and a store open elsewhere refused with nothing changed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/backup.h"
#include "migrate/migrate.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::migrate::testing {
namespace {

namespace fs = std::filesystem;
constexpr int kRows = 300;

OpenOptions Tooling() {
  OpenOptions o;
  o.code_schema_version = 3;
  o.allow_older_schema = true;
  o.allow_migrating = true;
  return o;
}

RunOptions Fast() {
  RunOptions o;
  o.lease_ttl_ms = 2000;
  o.lock_timeout_ms = 5000;
  return o;
}

kv::migrate::RestoreOptions RestoreOpts() {
  kv::migrate::RestoreOptions o;
  o.open = Tooling();
  o.lease = Fast();
  return o;
}

std::unique_ptr<Store> MustOpen(const std::string& uri, OpenOptions o = Tooling()) {
  auto s = kv::Open(uri, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

Dump MustDump(Store& store, bool meta = true) {
  auto d = DumpAll(store, meta);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Dump{};
}

// Every file under `dir` with its size and contents (a store's files, byte for byte).
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

// Builds a rocks store at schema 1 with content, migrates it up with a backup; returns
// the backup path and the store's content before the migration.
struct Migrated {
  std::string backup;
  Dump before;
};
Migrated UpWithBackup(const std::string& db, const std::string& backup_dir) {
  Migrated m;
  OpenOptions create;
  create.code_schema_version = 1;
  auto store = MustOpen("rocks://" + db, create);
  if (store == nullptr) return m;
  EXPECT_TRUE(Populate(*store, kRows).ok());
  EXPECT_TRUE(store->Close().ok());
  store = MustOpen("rocks://" + db);
  m.before = MustDump(*store);
  RunOptions o = Fast();
  o.backup_dir = backup_dir;
  fs::create_directories(backup_dir);
  auto r = Up(*store, MakeRegistry(), o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) m.backup = r->backup;
  auto md = ReadMetadata(*store);
  EXPECT_TRUE(md.ok() && md->schema_version == 3);
  EXPECT_TRUE(store->Close().ok());
  return m;
}

TEST(MigrateRestoreTest, CheckpointRestoreBringsBackThePreUpgradeStore) {
  refkv::testing::TempDir dir("restore");
  const std::string db = dir.Sub("db");
  Migrated m = UpWithBackup(db, dir.Sub("backups"));
  ASSERT_FALSE(m.backup.empty());
  auto r = kv::migrate::RestoreBackup("rocks://" + db, m.backup, RestoreOpts());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, "checkpoint");
  EXPECT_EQ(r->schema, 1);
  EXPECT_GE(r->records, static_cast<uint64_t>(kRows));
  EXPECT_FALSE(fs::exists(db + ".restore-new"));
  EXPECT_FALSE(fs::exists(db + ".restore-old"));
  EXPECT_TRUE(fs::exists(m.backup));  // the backup stays usable

  auto store = MustOpen("rocks://" + db);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(MustDump(*store), m.before);  // meta partition included: schema 1, ready
  auto content = LogicalContent(*store);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, Expected(kRows));
  auto v = Version(*store, MakeRegistry());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->store_schema, 1);
  EXPECT_EQ(v->state_name, "ready");
  // The restored store migrates again, and a second restore works the same way.
  RunOptions o = Fast();
  o.no_backup = true;
  ASSERT_TRUE(Up(*store, MakeRegistry(), o).ok());
  ASSERT_TRUE(store->Close().ok());
  kv::migrate::RestoreOptions keep = RestoreOpts();
  keep.keep_replaced = true;
  r = kv::migrate::RestoreBackup("rocks://" + db, m.backup, keep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->replaced.empty());
  auto replaced = MustOpen("rocks://" + r->replaced);
  ASSERT_NE(replaced, nullptr);
  EXPECT_EQ(ReadMetadata(*replaced)->schema_version, 3);  // the store as it was
  store = MustOpen("rocks://" + db);
  EXPECT_EQ(MustDump(*store), m.before);
}

TEST(MigrateRestoreTest, BadBackupIsRefusedWithNothingChanged) {
  refkv::testing::TempDir dir("restore-bad");
  const std::string db = dir.Sub("db");
  Migrated m = UpWithBackup(db, dir.Sub("backups"));
  ASSERT_FALSE(m.backup.empty());
  auto files = Files(db);

  auto refused = [&](const std::string& backup) {
    SCOPED_TRACE(backup);
    auto r = kv::migrate::RestoreBackup("rocks://" + db, backup, RestoreOpts());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), StatusReason::kBadBackup) << r.status().ToString();
    EXPECT_NE(r.status().message().find("nothing was changed"), std::string::npos)
        << r.status().ToString();
    EXPECT_EQ(Files(db), files);
    EXPECT_FALSE(fs::exists(db + ".restore-new"));
  };
  refused(dir.Sub("no-such-backup"));
  fs::create_directories(dir.Sub("empty-dir"));
  refused(dir.Sub("empty-dir"));
  { std::ofstream(dir.Sub("junk.dump")) << "not a dump"; }
  refused(dir.Sub("junk.dump"));
  // A checkpoint whose SST files are damaged: every byte after the first KiB flipped.
  const std::string broken = dir.Sub("broken");
  fs::copy(m.backup, broken);
  int damaged = 0;
  for (const auto& e : fs::directory_iterator(broken)) {
    if (e.path().extension() != ".sst") continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (size_t i = 1024; i + 512 < bytes.size(); ++i) bytes[i] = static_cast<char>(~bytes[i]);
    f.seekp(0);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  refused(broken);
  // The store still opens, at schema 3, with its content.
  auto store = MustOpen("rocks://" + db);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadMetadata(*store)->schema_version, 3);
  auto content = LogicalContent(*store);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, Expected(kRows));
}

TEST(MigrateRestoreTest, BackupOfAnotherStoreNeedsForce) {
  refkv::testing::TempDir dir("restore-other");
  Migrated a = UpWithBackup(dir.Sub("a"), dir.Sub("backups-a"));
  Migrated b = UpWithBackup(dir.Sub("b"), dir.Sub("backups-b"));
  ASSERT_FALSE(b.backup.empty());
  auto r = kv::migrate::RestoreBackup("rocks://" + dir.Sub("a"), b.backup, RestoreOpts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("--force"), std::string::npos);
  kv::migrate::RestoreOptions force = RestoreOpts();
  force.force = true;
  ASSERT_TRUE(kv::migrate::RestoreBackup("rocks://" + dir.Sub("a"), b.backup, force).ok());
  auto store = MustOpen("rocks://" + dir.Sub("a"));
  EXPECT_EQ(MustDump(*store), b.before);
}

// The child: holds the store at $REFKV_HOLD_DB open until $REFKV_HOLD_DB.release exists.
TEST(MigrateRestoreTest, DISABLED_HoldStore) {
  const char* db = std::getenv("REFKV_HOLD_DB");
  ASSERT_NE(db, nullptr);
  auto store = MustOpen(std::string("rocks://") + db);
  if (store == nullptr) _exit(3);
  std::ofstream(std::string(db) + ".held") << "1";
  const std::string release = std::string(db) + ".release";
  for (int i = 0; i < 60000 && !fs::exists(release); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  (void)store->Close();
  _exit(0);
}

TEST(MigrateRestoreTest, StoreOpenInAnotherProcessIsRefused) {
  refkv::testing::TempDir dir("restore-busy");
  const std::string db = dir.Sub("db");
  Migrated m = UpWithBackup(db, dir.Sub("backups"));
  ASSERT_FALSE(m.backup.empty());

  pid_t pid =
      refkv::testing::SpawnTest("MigrateRestoreTest.DISABLED_HoldStore", {"REFKV_HOLD_DB=" + db});
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 30000 && !fs::exists(db + ".held"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(fs::exists(db + ".held"));
  auto r = kv::migrate::RestoreBackup("rocks://" + db, m.backup, RestoreOpts());
  std::ofstream(db + ".release") << "1";
  int status = refkv::testing::WaitForChild(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsBusy()) << r.status().ToString();
  EXPECT_EQ(r.status().reason(), StatusReason::kStoreInUse);
  EXPECT_NE(r.status().message().find("pid " + std::to_string(pid)), std::string::npos)
      << r.status().ToString();
  EXPECT_FALSE(fs::exists(db + ".restore-new"));
  auto store = MustOpen("rocks://" + db);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadMetadata(*store)->schema_version, 3);  // untouched
}

TEST(MigrateRestoreTest, InterruptedSwitchIsRepairedByTheNextRestore) {
  refkv::testing::TempDir dir("restore-crash");
  const std::string db = dir.Sub("db");
  Migrated m = UpWithBackup(db, dir.Sub("backups"));
  ASSERT_FALSE(m.backup.empty());
  // As a crash between the two renames of the fallback switch leaves it.
  fs::rename(db, db + ".restore-old");
  fs::create_directories(db + ".restore-new");
  auto r = kv::migrate::RestoreBackup("rocks://" + db, m.backup, RestoreOpts());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->notes.size(), 2u);
  EXPECT_FALSE(fs::exists(db + ".restore-old"));
  EXPECT_FALSE(fs::exists(db + ".restore-new"));
  auto store = MustOpen("rocks://" + db);
  EXPECT_EQ(MustDump(*store), m.before);
}

// Drivers without files: the backup is a dump, restored into an emptied or fresh store.
TEST(MigrateRestoreTest, DumpBackupAndRestoreOnMem) {
  refkv::testing::TempDir dir("restore-dump");
  OpenOptions create;
  create.code_schema_version = 1;
  auto store = MustOpen("mem://", create);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Populate(*store, kRows).ok());
  Dump before = MustDump(*store, false);

  // No hook: the module takes a dump (the mem driver cannot checkpoint) into backup_dir.
  RunOptions o = Fast();
  o.backup_dir = dir.path();
  // A backup_dir that is a file: the dump cannot be written, refused before any write
  // (exit 9).
  RunOptions unwritable = o;
  unwritable.backup_dir = dir.Sub("a-file");
  std::ofstream(unwritable.backup_dir) << "x";
  auto refused = Up(*store, MakeRegistry(), unwritable);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), StatusReason::kBackupFailed) << refused.status().ToString();
  EXPECT_EQ(MustDump(*store, false), before);

  auto up = Up(*store, MakeRegistry(), o);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_TRUE(fs::exists(up->backup)) << up->backup;
  EXPECT_NE(up->backup.find(".dump"), std::string::npos);
  auto st = GetStatus(*store, MakeRegistry());
  ASSERT_TRUE(st.ok());
  ASSERT_FALSE(st->history.empty());
  for (const auto& h : st->history) EXPECT_EQ(h.backup, up->backup);

  // Into the migrated store: refused while it holds data, then with replace.
  kv::migrate::RestoreOptions ro = RestoreOpts();
  auto r = kv::migrate::RestoreDump(*store, up->backup, ro);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("--replace"), std::string::npos);
  ro.replace = true;
  r = kv::migrate::RestoreDump(*store, up->backup, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema, 1);
  EXPECT_EQ(MustDump(*store, false), before);
  auto v = Version(*store, MakeRegistry());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->store_schema, 1);
  EXPECT_EQ(v->state_name, "ready");
  auto content = LogicalContent(*store);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, Expected(kRows));
  // ... which then migrates up again like the original.
  RunOptions again = Fast();
  again.no_backup = true;
  ASSERT_TRUE(Up(*store, MakeRegistry(), again).ok());
  content = LogicalContent(*store);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, Expected(kRows));

  // Into a fresh store (it starts at the newest schema; the restore sets the dump's).
  auto fresh = MustOpen("mem://");
  ASSERT_NE(fresh, nullptr);
  r = kv::migrate::RestoreDump(*fresh, up->backup, RestoreOpts());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(MustDump(*fresh, false), before);
  EXPECT_EQ(ReadMetadata(*fresh)->schema_version, 1);

  // A corrupt dump is refused before anything is written.
  const std::string bad = dir.Sub("bad.dump");
  {
    std::ifstream in(up->backup, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes[bytes.size() / 2] = static_cast<char>(~bytes[bytes.size() / 2]);
    std::ofstream(bad, std::ios::binary) << bytes;
  }
  auto other = MustOpen("mem://");
  r = kv::migrate::RestoreDump(*other, bad, RestoreOpts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), StatusReason::kBadBackup);
  EXPECT_TRUE(MustDump(*other, false).empty());
}

}  // namespace
}  // namespace refkv::kv::migrate::testing
