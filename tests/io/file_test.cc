// The same tests run on both back ends of io::File (io_uring, pread/pwrite).
#include "io/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace refkv::io {
namespace {

class FileTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kUring && !UringAvailable()) {
      REFKV_SKIP_UNLESS_REQUIRED("io_uring not available here");
    }
  }
  FileOptions Options(unsigned depth = 8) const { return {GetParam(), depth}; }
  testing::TempDir dir_{"io"};
};

TEST_P(FileTest, ManyRandomWritesAndReads) {
  const std::string path = dir_.Sub("data");
  auto file = File::OpenForWrite(path, WriteMode::kCreateNew, Options(4));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->backend(), GetParam());

  // Model: the file's expected contents. Writes of random pieces at random offsets,
  // non-overlapping within a batch (their order within a batch is unspecified).
  std::mt19937_64 rng(42);
  const size_t kSize = 1 << 20;
  std::string model(kSize, '\0');
  for (int round = 0; round < 5; ++round) {
    std::vector<std::string> pieces;
    std::vector<WriteRequest> writes;
    const size_t kSlots = 100, kSlot = kSize / kSlots;
    for (size_t slot = 0; slot < kSlots; ++slot) {
      if (rng() % 2) continue;
      size_t len = 1 + rng() % kSlot;
      size_t off = slot * kSlot + rng() % (kSlot - len + 1);
      std::string piece(len, '\0');
      for (auto& c : piece) c = static_cast<char>(rng());
      model.replace(off, len, piece);
      pieces.push_back(std::move(piece));
      writes.push_back({off, {}, slot});
    }
    for (size_t i = 0; i < writes.size(); ++i) writes[i].data = pieces[i];
    // More requests than the queue depth: Submit must wait for room internally.
    ASSERT_TRUE((*file)->SubmitWrites(writes).ok());
    EXPECT_EQ((*file)->InFlight(), writes.size());
    size_t seen = 0;
    while ((*file)->InFlight() > 0) {
      auto done = (*file)->Reap(1);
      ASSERT_TRUE(done.ok()) << done.status().ToString();
      for (auto& c : *done) {
        ASSERT_TRUE(c.status.ok()) << c.status.ToString();
        ++seen;
      }
    }
    EXPECT_EQ(seen, writes.size());
  }
  ASSERT_TRUE((*file)->WriteAt(kSize - 1, std::string(1, model.back())).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());

  auto reader = File::OpenForRead(path, Options(16));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(*(*reader)->Size(), kSize);
  std::vector<std::string> bufs(300);
  std::vector<ReadRequest> reads;
  for (size_t i = 0; i < bufs.size(); ++i) {
    size_t len = 1 + rng() % 20000;
    uint64_t off = rng() % (kSize - len);
    bufs[i].assign(len, 'x');
    reads.push_back({off, bufs[i], 1000 + i});
  }
  ASSERT_TRUE((*reader)->SubmitReads(reads).ok());
  size_t got = 0;
  while ((*reader)->InFlight() > 0) {
    auto done = (*reader)->Reap(3);
    ASSERT_TRUE(done.ok());
    for (auto& c : *done) {
      ASSERT_TRUE(c.status.ok()) << c.status.ToString();
      ASSERT_GE(c.tag, 1000u);
      size_t i = c.tag - 1000;
      ASSERT_EQ(c.bytes, bufs[i].size());
      ASSERT_EQ(bufs[i], model.substr(reads[i].offset, bufs[i].size())) << "read " << i;
      ++got;
    }
  }
  EXPECT_EQ(got, reads.size());
}

TEST_P(FileTest, ShortReadsAtEndOfFile) {
  const std::string path = dir_.Sub("short");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(100, 'a');
  }
  auto file = File::OpenForRead(path, Options());
  ASSERT_TRUE(file.ok());
  std::string a(20, '\0'), b(20, '\0'), c(20, '\0'), d(0, '\0');
  std::vector<ReadRequest> reads = {{90, a, 0}, {100, b, 1}, {5000, c, 2}, {0, d, 3}};
  std::vector<size_t> bytes;
  ASSERT_TRUE((*file)->ReadBatch(reads, &bytes).ok());
  EXPECT_EQ(bytes, (std::vector<size_t>{10, 0, 0, 0}));
  EXPECT_EQ(a.substr(0, 10), std::string(10, 'a'));
  auto n = (*file)->ReadAt(0, std::span<char>(c));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 20u);
}

TEST_P(FileTest, MissingFileIsNotFoundNamingThePath) {
  auto file = File::OpenForRead(dir_.Sub("nope"), Options());
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().IsNotFound());
  EXPECT_NE(file.status().message().find(dir_.Sub("nope")), std::string::npos);
  auto again = File::OpenForWrite(dir_.Sub("nope"), WriteMode::kExisting, Options());
  EXPECT_TRUE(again.status().IsNotFound());
  ASSERT_TRUE(File::OpenForWrite(dir_.Sub("x"), WriteMode::kCreateNew, Options()).ok());
  EXPECT_TRUE(File::OpenForWrite(dir_.Sub("x"), WriteMode::kCreateNew, Options())
                  .status()
                  .IsAlreadyExists());
}

TEST_P(FileTest, BadDescriptorFailsPerRequestNamingFileAndOffset) {
  // A descriptor number that is not open (not a just-closed one: the ring's own fd
  // would reuse it).
  int fd = 1000;
  while (::fcntl(fd, F_GETFD) != -1) ++fd;
  auto file = File::Adopt(fd, "stale-fd", Options());
  ASSERT_TRUE(file.ok());
  std::string buf(64, '\0');
  auto r = (*file)->ReadAt(4096, std::span<char>(buf));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIOError());
  EXPECT_NE(r.status().message().find("stale-fd"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("offset 4096"), std::string::npos);
  Status w = (*file)->WriteAt(7, "abc");
  EXPECT_TRUE(w.IsIOError());
  EXPECT_NE(w.message().find("offset 7"), std::string::npos) << w.ToString();
}

TEST_P(FileTest, WriteToReadOnlyDescriptorFails) {
  const std::string path = dir_.Sub("ro");
  { std::ofstream(path) << "hello"; }
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  auto file = File::Adopt(fd, path, Options());
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE((*file)->WriteAt(0, "x").IsIOError());
  ASSERT_TRUE((*file)->Close().ok());
  ::close(fd);
}

TEST_P(FileTest, RegisteredBuffers) {
  const std::string path = dir_.Sub("reg");
  auto file = File::OpenForWrite(path, WriteMode::kCreateOrTruncate, Options(8));
  ASSERT_TRUE(file.ok());
  std::string arena(64 * 4096, '\0');
  for (size_t i = 0; i < arena.size(); ++i) arena[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE((*file)->RegisterBuffers({std::span<char>(arena)}).ok());
  std::vector<WriteRequest> writes;
  for (size_t i = 0; i < 64; ++i) {
    writes.push_back({i * 4096, std::span<const char>(arena.data() + i * 4096, 4096), i});
  }
  ASSERT_TRUE((*file)->WriteBatch(writes).ok());
  std::string back(arena.size(), '\0');
  ASSERT_TRUE((*file)->RegisterBuffers({std::span<char>(back)}).ok());
  std::vector<ReadRequest> reads;
  for (size_t i = 0; i < 64; ++i) {
    reads.push_back({i * 4096, std::span<char>(back.data() + i * 4096, 4096), i});
  }
  ASSERT_TRUE((*file)->ReadBatch(reads).ok());
  EXPECT_EQ(back, arena);
}

TEST_P(FileTest, ReapZeroDoesNotBlockAndBadQueueDepthIsRefused) {
  auto bad = File::OpenForWrite(dir_.Sub("q"), WriteMode::kCreateOrTruncate, Options(0));
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  auto file = File::OpenForWrite(dir_.Sub("q"), WriteMode::kCreateOrTruncate, Options(2));
  ASSERT_TRUE(file.ok());
  auto none = (*file)->Reap(0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto more = (*file)->Reap(5);  // nothing in flight: returns at once
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, FileTest, ::testing::Values(Backend::kUring, Backend::kPosix),
                         [](const auto& info) {
                           return info.param == Backend::kUring ? "Uring" : "Posix";
                         });

TEST(FileBackend, EnvironmentForcesTheFallback) {
  testing::TempDir dir("io-env");
  ::setenv("REFKV_IO_URING", "0", 1);
  auto file = File::OpenForWrite(dir.Sub("f"), WriteMode::kCreateNew, {});
  ::unsetenv("REFKV_IO_URING");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->backend(), Backend::kPosix);
  auto autof = File::OpenForRead(dir.Sub("f"), {});
  ASSERT_TRUE(autof.ok());
  EXPECT_EQ((*autof)->backend(), UringAvailable() ? Backend::kUring : Backend::kPosix);
}

}  // namespace
}  // namespace refkv::io
