// The RocksDB driver on a full file system: a small tmpfs the test mounts itself (root
// only; skipped with the reason otherwise). Every verb that meets ENOSPC returns NoSpace
// naming the store, RocksDB's asserting paths are never reached (the process used to die
// with SIGABRT in WritableFileWriter::AssertFalseAndGetStatusForPrevError), and once
// space is freed the store reopens with every acknowledged write.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "engine/open.h"
#include "engine/store.h"
#include "tests/support/status_assert.h"
#include "tests/support/tmpfs_mount.h"

namespace refkv::kv {
namespace {

namespace fs = std::filesystem;
using refkv::testing::TmpfsMount;

constexpr size_t kBig = 256 << 10;

// The mapping under test: "" (a column family per partition) or "?partitions=shared".
class RocksFullDiskTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Uri() const { return "rocks://" + fs_.Sub("store") + GetParam(); }
  std::string Path() const { return fs_.Sub("store"); }

  Result<std::unique_ptr<Store>> OpenStore(bool read_only = false) {
    OpenOptions o;
    o.read_only = read_only;
    o.create_if_missing = !read_only;
    return Open(Uri(), o);
  }

  // A NoSpace error that names the store and says what happened.
  void ExpectNoSpace(const Status& s, const std::string& what) {
    EXPECT_TRUE(s.IsNoSpace()) << what << ": " << s.ToString();
    EXPECT_NE(s.message().find("no space left on device"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(Path()), std::string::npos) << s.ToString();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.ToString();
  }

  TmpfsMount fs_{16 << 20, "rocks-full"};
};

TEST_P(RocksFullDiskTest, VerbsReturnNoSpaceAndTheStoreReopensWithEveryAcknowledgedWrite) {
  if (!fs_.mounted()) GTEST_SKIP() << fs_.skip_reason();
  std::map<std::string, std::string> acked;
  {
    auto store_r = OpenStore();
    ASSERT_OK(store_r);
    auto store = std::move(store_r).value();
    for (int i = 0; i < 20; ++i) {
      std::string key = "k" + std::to_string(i), value = "v" + std::to_string(i);
      ASSERT_OK(store->Set("p", key, value));
      acked[key] = value;
    }
    WriteBatch batch;
    batch.Put("b1", "x");
    batch.Put("b2", "y");
    ASSERT_OK(store->Write("p", batch));
    acked["b1"] = "x";
    acked["b2"] = "y";
    ASSERT_OK(store->Sync());

    std::string error;
    ASSERT_TRUE(fs_.FillLeaving(0, &error)) << error;
    // The WAL may hold preallocated room: big values until one does not fit.
    Status failed;
    for (int i = 0; i < 64 && failed.ok(); ++i) {
      std::string key = "big" + std::to_string(i), value(kBig, static_cast<char>('a' + i % 26));
      failed = store->Set("p", key, value);
      if (failed.ok()) acked[key] = value;
    }
    ExpectNoSpace(failed, "set of a big value on a full file system");

    // RocksDB stops writing after that error: every verb reports it, none aborts.
    ExpectNoSpace(store->Set("p", "small", "s"), "set");
    WriteBatch more;
    more.Put("w1", "1");
    ExpectNoSpace(store->Write("p", more), "write");
    ExpectNoSpace(store->SetIf("p", "fresh", "f", Predicate::Absent()), "setif");
    ExpectNoSpace(store->Set("new-partition", "k", "v"), "set in a new partition");
    // Sync used RocksDB's SyncWAL, which asserted on the WAL writer that saw the error.
    ExpectNoSpace(store->Sync(), "sync");
    // Reads go on.
    auto v_r = store->Get("p", "k3");
    ASSERT_OK(v_r);
    std::string v = std::move(v_r).value();
    EXPECT_EQ(v, "v3");
    Status closed = store->Close();
    EXPECT_TRUE(closed.ok() || closed.IsNoSpace()) << closed.ToString();
  }

  // Still full: a read-only open writes nothing, so it works.
  {
    auto store_r = OpenStore(/*read_only=*/true);
    ASSERT_OK(store_r);
    auto store = std::move(store_r).value();
    auto v_r = store->Get("p", "b2");
    ASSERT_OK(v_r);
    std::string v = std::move(v_r).value();
    EXPECT_EQ(v, "y");
    ASSERT_OK(store->Close());
  }

  fs_.Unfill();
  auto store_r = OpenStore();
  ASSERT_OK(store_r);
  auto store = std::move(store_r).value();
  for (const auto& [key, value] : acked) {
    auto got = store->Get("p", key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, value) << key;
  }
  ASSERT_OK(store->Set("p", "after", "1"));
  ASSERT_OK(store->SetIf("p", "fresh", "f", Predicate::Absent()));
  ASSERT_OK(store->Sync());
  ASSERT_OK(store->Close());
}

// Opening for writes writes (a new MANIFEST, WAL, OPTIONS and LOG file), but may also
// free space first (old info logs): either it fails with NoSpace, or the first write does.
TEST_P(RocksFullDiskTest, OpeningAFullFileSystemForWritesIsNoSpaceNowOrAtTheFirstWrite) {
  if (!fs_.mounted()) GTEST_SKIP() << fs_.skip_reason();
  {
    auto store_r = OpenStore();
    ASSERT_OK(store_r);
    auto store = std::move(store_r).value();
    ASSERT_OK(store->Set("p", "k", "v"));
    ASSERT_OK(store->Close());
  }
  std::string error;
  ASSERT_TRUE(fs_.FillLeaving(0, &error)) << error;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a failed open leaves it openable
    auto store = OpenStore();
    if (!store.ok()) {
      ExpectNoSpace(store.status(), "open");
      continue;
    }
    ExpectNoSpace((*store)->Set("p", "big", std::string(4 * kBig, 'b')), "set after the open");
    Status closed = (*store)->Close();
    EXPECT_TRUE(closed.ok() || closed.IsNoSpace()) << closed.ToString();
  }
  fs_.Unfill();
  auto store_r = OpenStore();
  ASSERT_OK(store_r);
  auto store = std::move(store_r).value();
  auto v = store->Get("p", "k");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "v");
  ASSERT_OK(store->Close());
}

// RocksDB preallocates a WAL in steps of 1.1 x write_buffer_size: 70 MiB with the default
// 64 MiB buffer, taken by the store's first write on a file system that has it.
TEST_P(RocksFullDiskTest, AWriteReservesAtMostOnePreallocationStep) {
  TmpfsMount big(96 << 20, "rocks-prealloc");
  if (!big.mounted()) GTEST_SKIP() << big.skip_reason();
  const std::string path = big.Sub("store");
  auto store_r = Open("rocks://" + path + GetParam());
  ASSERT_OK(store_r);
  auto store = std::move(store_r).value();
  ASSERT_OK(store->Set("p", "k", "v"));
  uint64_t allocated = 0;
  for (const auto& e : fs::directory_iterator(path)) {
    struct stat st;
    if (e.path().extension() == ".log" && stat(e.path().c_str(), &st) == 0) {
      allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  EXPECT_LE(allocated, uint64_t{2} << 20) << "bytes allocated to the WAL files";
  ASSERT_OK(store->Close());
}

INSTANTIATE_TEST_SUITE_P(Mappings, RocksFullDiskTest, ::testing::Values("", "?partitions=shared"),
                         [](const auto& info) { return info.param.empty() ? "cf" : "shared"; });

}  // namespace
}  // namespace refkv::kv
