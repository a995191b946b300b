#include "base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/periodic_task.h"

namespace refkv {
namespace {

TEST(SystemClockTest, NowIsUnixTimeAndSleepsTakeRealTime) {
  Clock* clock = Clock::System();
  const int64_t ms = clock->NowMs();
  EXPECT_GT(ms, 1'600'000'000'000);  // after 2020
  EXPECT_NEAR(clock->NowMicros() / 1000, ms, 60'000);
  const auto start = std::chrono::steady_clock::now();
  clock->SleepFor(20);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

TEST(SystemClockTest, WaitForReturnsAtOnceOnStop) {
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop = true;
    Clock::System()->Wake();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Clock::System()->WaitFor(600'000, &stop));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(300));
  stopper.join();
}

TEST(ManualClockTest, TimeMovesOnlyWhenAdvanced) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.NowMs(), 1000);
  EXPECT_EQ(clock.NowMicros(), 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(clock.NowMs(), 1000);
  clock.AdvanceMs(250);
  EXPECT_EQ(clock.NowMs(), 1250);
  clock.AdvanceMicros(1500);
  EXPECT_EQ(clock.NowMicros(), 1'251'500);
  clock.SleepFor(0);  // no time to wait for: returns
}

TEST(ManualClockTest, SleepersWakeWhenTimeReachesTheirDeadline) {
  ManualClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(100);
    woke = true;
  });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  clock.AdvanceMs(99);
  // Still asleep: it is the only sleeper and has not returned.
  ASSERT_TRUE(clock.AwaitSleepers(1));
  EXPECT_FALSE(woke.load());
  clock.AdvanceMs(1);
  sleeper.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(clock.sleepers(), 0);
}

TEST(ManualClockTest, WaitForReturnsOnStopWithoutTimeMoving) {
  ManualClock clock;
  std::atomic<bool> stop{false};
  std::atomic<bool> result{false};
  std::thread waiter([&] { result = clock.WaitFor(1000, &stop); });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  stop = true;
  clock.Wake();
  waiter.join();
  EXPECT_TRUE(result.load());
}

TEST(PeriodicTaskTest, RunsOncePerPeriodOfTestTime) {
  ManualClock clock;
  std::atomic<int> calls{0}, firsts{0};
  PeriodicTask task(
      &clock, 10,
      [&] {
        ++calls;
        return true;
      },
      [&] { ++firsts; });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  EXPECT_EQ(firsts.load(), 1);
  EXPECT_EQ(calls.load(), 0);
  for (int i = 1; i <= 5; ++i) {
    clock.AdvanceMs(10);
    // The task called fn and sleeps again before the next period.
    while (calls.load() < i) std::this_thread::yield();
    ASSERT_TRUE(clock.AwaitSleepers(1));
    EXPECT_EQ(calls.load(), i);
  }
  clock.AdvanceMs(9);
  ASSERT_TRUE(clock.AwaitSleepers(1));
  EXPECT_EQ(calls.load(), 5);
  task.Stop();
  EXPECT_EQ(calls.load(), 5);
  task.Stop();  // idempotent
}

TEST(PeriodicTaskTest, StopsPromptlyWhileSleeping) {
  // A period of an hour on the system clock: Stop must not wait for it.
  std::atomic<int> calls{0};
  const auto start = std::chrono::steady_clock::now();
  {
    PeriodicTask task(Clock::System(), 3'600'000, [&] {
      ++calls;
      return true;
    });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(30));
  EXPECT_EQ(calls.load(), 0);
}

TEST(PeriodicTaskTest, FalseFromTheFunctionEndsTheTask) {
  ManualClock clock;
  std::atomic<int> calls{0};
  PeriodicTask task(&clock, 5, [&] { return ++calls < 2; });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  clock.AdvanceMs(5);
  while (calls.load() < 1) std::this_thread::yield();
  ASSERT_TRUE(clock.AwaitSleepers(1));
  clock.AdvanceMs(5);
  while (calls.load() < 2) std::this_thread::yield();
  clock.AdvanceMs(50);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(clock.sleepers(), 0);
}

class Counter {
 public:
  void Add() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++n_;
  }
  int Get() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return n_;
  }

 private:
  Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};

TEST(MutexTest, ExcludesConcurrentUpdates) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Get(), 40000);
  Mutex mu;
  ASSERT_TRUE(mu.TryLock());
  std::thread other([&] { EXPECT_FALSE(mu.TryLock()); });
  other.join();
  mu.Unlock();
}

}  // namespace
}  // namespace refkv
