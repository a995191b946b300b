#include "base/random.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

namespace refkv {
namespace {

TEST(RandomTest, SeedsDiffer) {
  std::set<uint64_t> seeds;
  for (int i = 0; i < 100; ++i) seeds.insert(RandomSeed());
  EXPECT_EQ(seeds.size(), 100u);
}

TEST(RandomTest, ThreadsDrawDifferentNumbers) {
  uint64_t here = ThreadRng()();
  uint64_t there = 0;
  std::thread t([&] { there = ThreadRng()(); });
  t.join();
  EXPECT_NE(here, there);
}

TEST(RandomTest, AForkedChildDoesNotRepeatItsParent) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  (void)ThreadRng()();  // seeded in the parent
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    uint64_t v = ThreadRng()();
    (void)!::write(fds[1], &v, sizeof v);
    ::_exit(0);
  }
  uint64_t parent = ThreadRng()(), child = 0;
  ASSERT_EQ(::read(fds[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_NE(parent, child);
}

TEST(RandomTest, SeedFromEnvPrefersTheVariableThenTheFixedSeed) {
  ::unsetenv("REFKV_TEST_SEED_X");
  EXPECT_EQ(SeedFromEnv("REFKV_TEST_SEED_X", 42), 42u);
  ::setenv("REFKV_TEST_SEED_X", "12345", 1);
  EXPECT_EQ(SeedFromEnv("REFKV_TEST_SEED_X", 42), 12345u);
  EXPECT_EQ(SeedFromEnv("REFKV_TEST_SEED_X"), 12345u);
  ::unsetenv("REFKV_TEST_SEED_X");
  EXPECT_NE(SeedFromEnv("REFKV_TEST_SEED_X"), SeedFromEnv("REFKV_TEST_SEED_X"));
}

}  // namespace
}  // namespace refkv
