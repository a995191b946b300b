// The io_uring RocksDB file system (io/rocks_fs.h) under the RocksDB driver: MultiGet
// over SST files read with O_DIRECT and a block cache far smaller than the data returns
// the right values (found and missing keys) with the wrapper on and with the fallback
// forced (URI io_uring=false; and the whole binary again under REFKV_IO_URING=0, a
// ctest of its own), and the wrapper really served the batches.
#include "io/rocks_fs.h"

#include <gtest/gtest.h>
#include <rocksdb/sst_file_writer.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "engine/open.h"
#include "tests/support/temp_dir.h"

namespace refkv::io {
namespace {

bool ForcedOff() {
  const char* v = std::getenv("REFKV_IO_URING");
  return v != nullptr && std::strcmp(v, "0") == 0;
}

class RocksFsTest : public ::testing::TestWithParam<bool> {
 protected:
  // 20,000 keys of ~1 KiB (20 MiB) in one ingested SST: every MultiGet misses the 1 MiB
  // block cache and reads data blocks from the file.
  void SetUp() override {
    const std::string sst = dir_.Sub("data.sst");
    rocksdb::Options options;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
    ASSERT_TRUE(writer.Open(sst).ok());
    std::mt19937_64 rng(5);
    for (int i = 0; i < 20000; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%08d", i * 2);  // odd numbers are missing
      std::string value(1000 + rng() % 100, '\0');
      for (auto& c : value) c = static_cast<char>(rng());
      ASSERT_TRUE(writer.Put(key, value).ok());
      data_[key] = value;
    }
    ASSERT_TRUE(writer.Finish().ok());
    auto store =
        kv::Open("rocks://" + dir_.Sub("db") +
                 "?direct_reads=true&block_cache_mb=1&io_uring=" + (GetParam() ? "true" : "false"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->IngestSstFiles("p", {sst}, true).ok());
  }

  refkv::testing::TempDir dir_{"rocks-fs"};
  std::map<std::string, std::string> data_;
  std::unique_ptr<kv::Store> store_;
};

TEST_P(RocksFsTest, MultiGetOfRandomKeys) {
  const RocksFsStats before = GetRocksFsStats();
  std::mt19937_64 rng(7);
  size_t found = 0;
  for (int batch = 0; batch < 200; ++batch) {
    std::vector<std::string> keys;
    for (int i = 0; i < 32; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%08d", static_cast<int>(rng() % 40000));
      keys.push_back(key);
    }
    auto got = store_->MultiGet("p", keys);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto want = data_.find(keys[i]);
      if (want == data_.end()) {
        EXPECT_TRUE((*got)[i].status().IsNotFound()) << keys[i];
      } else {
        ASSERT_TRUE((*got)[i].ok()) << keys[i] << ": " << (*got)[i].status().ToString();
        EXPECT_EQ(*(*got)[i], want->second) << keys[i];
        ++found;
      }
    }
  }
  EXPECT_GT(found, 2000u);
  const RocksFsStats after = GetRocksFsStats();
  const bool uring = GetParam() && !ForcedOff() && RocksUringUsable();
  if (uring) {
    EXPECT_GT(after.uring_batches, before.uring_batches);
    // Batches carry several block reads each.
    EXPECT_GT(after.uring_requests - before.uring_requests,
              2 * (after.uring_batches - before.uring_batches));
  } else {
    EXPECT_EQ(after.uring_batches, before.uring_batches);
  }
  // Single Gets (the non-batched path) agree too.
  for (int i = 0; i < 100; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%08d", static_cast<int>(rng() % 20000) * 2);
    auto got = store_->Get("p", key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, data_.at(key));
  }
}

TEST(RocksFs, DisabledWrapperIsTheBaseFileSystem) {
  auto base = rocksdb::FileSystem::Default();
  RocksFsOptions off;
  off.use_io_uring = false;
  EXPECT_EQ(NewUringFileSystem(base, off).get(), base.get());
  auto fs = NewUringFileSystem(base);
  EXPECT_EQ(fs.get() != base.get(), RocksUringUsable());
  if (ForcedOff()) EXPECT_FALSE(RocksUringUsable());
}

INSTANTIATE_TEST_SUITE_P(Uring, RocksFsTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "uring" : "pread"; });

}  // namespace
}  // namespace refkv::io
