// Crash test: a child process writes (sync=true, and sync=false) and reports every acknowledged
// write on a pipe; the parent kills it with SIGKILL at a random moment, reopens the
// store through kv::Open, and checks that every acknowledged write is there.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>
#include <tuple>

#include "base/random.h"
#include "engine/open.h"
#include "engine/rocks/rocks_store.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv {
namespace {

using refkv::testing::ChildProcess;

std::string ValueFor(int round, int i) {
  return "round" + std::to_string(round) + "-value" + std::to_string(i) + std::string(i % 50, 'x');
}

// The child: writes forever (until killed) and reports "<kind> <i>" after each
// acknowledged write: "set" for a Set of k<i>, "batch" for a Write of b<i>.0..3,
// "cas" for a SetIf that advanced the counter to i.
TEST(DISABLED_RocksCrashChild, Write) {
  int fd = refkv::testing::ChildReportFd();
  const char* uri = std::getenv("REFKV_CHILD_URI");
  const char* round_env = std::getenv("REFKV_CHILD_ROUND");
  if (fd < 0 || uri == nullptr || round_env == nullptr) GTEST_SKIP() << "only run as a child";
  int round = std::atoi(round_env);
  auto store = Open(uri);
  if (!store.ok()) {
    refkv::testing::Report(fd, "error " + store.status().ToString());
    return;
  }
  const std::string part = "crash" + std::to_string(round % 2);
  std::string counter = "0";
  if (!(*store)->Set(part, "counter", counter).ok()) return;
  refkv::testing::Report(fd, "open");
  for (int i = 0;; ++i) {
    std::string line;
    switch (i % 3) {
      case 0:
        if (!(*store)->Set(part, "k" + std::to_string(i), ValueFor(round, i)).ok()) return;
        line = "set " + std::to_string(i);
        break;
      case 1: {
        WriteBatch batch;
        for (int j = 0; j < 4; ++j) {
          batch.Put("b" + std::to_string(i) + "." + std::to_string(j), ValueFor(round, i));
        }
        if (!(*store)->Write(part, batch).ok()) return;
        line = "batch " + std::to_string(i);
        break;
      }
      case 2: {
        std::string next = std::to_string(i);
        if (!(*store)->SetIf(part, "counter", next, Predicate::Equals(counter)).ok()) return;
        counter = next;
        line = "cas " + std::to_string(i);
        break;
      }
    }
    if (!refkv::testing::Report(fd, line)) return;
  }
}

// (mapping, sync). With sync=false a process crash must lose nothing either: the WAL
// is written (to the page cache) before a write is acknowledged.
class RocksCrash : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(RocksCrash, AcknowledgedWritesSurviveSigkill) {
  refkv::testing::TempDir dir("rocks-crash");
  const std::string uri = "rocks://" + dir.Sub("db") + "?sync=" + std::get<1>(GetParam()) +
                          "&partitions=" + std::get<0>(GetParam());
  std::mt19937 rng(SeedFromEnv("REFKV_CRASH_SEED", std::nullopt, "rocks crash test"));
  for (int round = 0; round < 4; ++round) {
    ChildProcess child;
    ASSERT_TRUE(
        child.Start("DISABLED_RocksCrashChild.Write",
                    {{"REFKV_CHILD_URI", uri}, {"REFKV_CHILD_ROUND", std::to_string(round)}}));
    std::string line;
    ASSERT_TRUE(child.ReadLine(&line));
    ASSERT_EQ(line, "open") << "round " << round;
    // Let it write for a random while, then kill it mid-write.
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    child.Kill();
    child.Wait();
    // Every line in the pipe was written after its write was acknowledged.
    std::vector<std::pair<std::string, int>> acked;
    while (child.ReadLine(&line)) {
      auto space = line.find(' ');
      ASSERT_NE(space, std::string::npos) << line;
      acked.emplace_back(line.substr(0, space), std::stoi(line.substr(space + 1)));
    }
    ASSERT_FALSE(acked.empty()) << "round " << round << ": the child acknowledged nothing";

    auto store = Open(uri);
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status().ToString();
    const std::string part = "crash" + std::to_string(round % 2);
    int last_cas = 0;
    for (const auto& [kind, i] : acked) {
      if (kind == "set") {
        auto got = (*store)->Get(part, "k" + std::to_string(i));
        ASSERT_TRUE(got.ok()) << "round " << round << " set " << i << ": "
                              << got.status().ToString();
        EXPECT_EQ(*got, ValueFor(round, i));
      } else if (kind == "batch") {
        for (int j = 0; j < 4; ++j) {
          auto got = (*store)->Get(part, "b" + std::to_string(i) + "." + std::to_string(j));
          ASSERT_TRUE(got.ok()) << "round " << round << " batch " << i << "." << j;
          EXPECT_EQ(*got, ValueFor(round, i));
        }
      } else {
        ASSERT_EQ(kind, "cas");
        last_cas = i;
      }
    }
    auto counter = (*store)->Get(part, "counter");
    ASSERT_TRUE(counter.ok());
    // The counter holds the last acknowledged CaS, or one more that was written but
    // not yet reported when the child died.
    int value = std::stoi(*counter);
    int next_cas = last_cas == 0 ? 2 : last_cas + 3;
    EXPECT_TRUE(value == last_cas || value == next_cas) << value << " vs " << last_cas;
    // A batch is all or nothing, acknowledged or not.
    int last = acked.back().second;
    for (int i = last + 1; i <= last + 3; ++i) {
      if (i % 3 != 1) continue;
      int present = 0;
      for (int j = 0; j < 4; ++j) {
        present += (*store)->Get(part, "b" + std::to_string(i) + "." + std::to_string(j)).ok();
      }
      EXPECT_TRUE(present == 0 || present == 4) << "torn batch " << i << ": " << present;
    }
    ASSERT_TRUE((*store)->Close().ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Mappings, RocksCrash,
                         ::testing::Combine(::testing::Values("cf", "shared"),
                                            ::testing::Values("true", "false")));

}  // namespace
}  // namespace refkv::kv
