// The io_uring RocksDB file system (io/rocks_fs.h) under the RocksDB driver: MultiGet
// over SST files read with O_DIRECT and a block cache far smaller than the data returns
// the right values (found and missing keys) with the wrapper on and with the fallback
// forced (URI io_uring=false; and the whole binary again under REFKV_IO_URING=0, a
// ctest of its own), and the wrapper really served the batches.
#include "io/rocks_fs.h"

#include <gtest/gtest.h>
#include <rocksdb/sst_file_writer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "engine/open.h"
#include "tests/support/require.h"
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
  if (GetParam() && !ForcedOff() && !RocksUringUsable() && refkv::testing::AllRequired()) {
    ADD_FAILURE() << "io_uring not usable here (REFKV_REQUIRE_ALL is set: required here)";
  }
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

// MultiRead straight on a file of the wrapper: more requests than the ring holds (waves,
// waits without new submissions), reads past the end, empty requests, direct I/O.
TEST(RocksFs, MultiReadManyRequestsDirect) {
  refkv::testing::TempDir dir{"rocks-fs-raw"};
  const std::string path = dir.Sub("f");
  const size_t kBlock = 4096, kBlocks = 512;
  std::string content(kBlock * kBlocks, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 4096);
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(content.data(), 1, content.size(), f), content.size());
    std::fclose(f);
  }
  for (bool direct : {true, false}) {
    auto fs = NewUringFileSystem(rocksdb::FileSystem::Default());
    rocksdb::FileOptions fo;
    fo.use_direct_reads = direct;
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
    ASSERT_TRUE(fs->NewRandomAccessFile(path, fo, &file, nullptr).ok());
    const size_t n = 300;  // > kRingDepth
    std::vector<rocksdb::FSReadRequest> reqs(n);
    void* mem = nullptr;
    ASSERT_EQ(::posix_memalign(&mem, kBlock, (n + 1) * kBlock), 0);
    std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(mem), &std::free);
    std::mt19937_64 rng(1);
    for (size_t i = 0; i < n; ++i) {
      reqs[i].offset = (rng() % kBlocks) * kBlock;
      reqs[i].len = kBlock;
      reqs[i].scratch = buf.get() + i * kBlock;
    }
    reqs[n - 1].offset = content.size();  // at EOF: 0 bytes
    reqs[n - 2].offset = (kBlocks - 1) * kBlock;
    reqs[n - 2].len = 2 * kBlock;  // crosses EOF: short
    reqs[n - 2].scratch = buf.get() + (n - 2) * kBlock;
    reqs[n - 1].scratch = buf.get() + n * kBlock;
    ASSERT_TRUE(file->MultiRead(reqs.data(), n, rocksdb::IOOptions(), nullptr).ok());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(reqs[i].status.ok()) << i << " " << reqs[i].status.ToString();
      size_t want = std::min<size_t>(
          reqs[i].len, content.size() - std::min<size_t>(content.size(), reqs[i].offset));
      ASSERT_EQ(reqs[i].result.size(), want) << i;
      EXPECT_EQ(
          reqs[i].result.ToStringView(),
          std::string_view(content).substr(std::min<size_t>(reqs[i].offset, content.size()), want))
          << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Uring, RocksFsTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "uring" : "pread"; });

}  // namespace
}  // namespace refkv::io
