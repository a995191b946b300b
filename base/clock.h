// Time, behind an interface: the system clock in production, a ManualClock in tests,
// where time moves only when the test says so. Everything that sleeps, renews or judges
// an age by time (the migration lease, node heartbeats, pre-flight liveness) takes a
// Clock*, so its tests do not depend on how fast the machine is.
//
// Thread-safety: every Clock is thread-safe.
#ifndef REFKV_BASE_CLOCK_H_
#define REFKV_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

namespace refkv {

class Clock {
 public:
  virtual ~Clock() = default;

  // Microseconds since the Unix epoch: comparable across processes for the system clock.
  virtual int64_t NowMicros() = 0;
  int64_t NowMs() { return NowMicros() / 1000; }
  // Microseconds from an arbitrary start that never goes back (the steady clock): for
  // measuring intervals within this process. A ManualClock returns its NowMicros.
  virtual int64_t MonotonicMicros() = 0;
  int64_t MonotonicMs() { return MonotonicMicros() / 1000; }

  // Blocks for `ms` of this clock's time (returns at once for ms <= 0).
  void SleepFor(int64_t ms) { (void)WaitFor(ms, nullptr); }
  // Blocks until `ms` of this clock's time have passed or, with `stop`, until *stop is true
  // (whoever sets it then calls Wake()). Returns whether *stop is true (false without one).
  virtual bool WaitFor(int64_t ms, const std::atomic<bool>* stop) = 0;
  // Wakes every WaitFor on this clock to look at its stop flag again.
  virtual void Wake() = 0;

  // The system clock (NowMicros from the wall clock, sleeps on the steady clock); one per
  // process, never destroyed.
  static Clock* System();
};

// A clock for tests: it starts at `start_ms` and moves only by Advance; a WaitFor returns
// when an Advance reaches its deadline (or on its stop flag), never because real time passed.
class ManualClock final : public Clock {
 public:
  // The default start is a fixed, realistic Unix time (2026-01-01).
  explicit ManualClock(int64_t start_ms = 1'767'225'600'000) : now_micros_(start_ms * 1000) {}

  int64_t NowMicros() override;
  int64_t MonotonicMicros() override { return NowMicros(); }
  bool WaitFor(int64_t ms, const std::atomic<bool>* stop) override;
  void Wake() override;

  // Moves time forward and wakes the sleepers whose deadline it reaches.
  void AdvanceMicros(int64_t micros);
  void AdvanceMs(int64_t ms) { AdvanceMicros(ms * 1000); }
  // The number of threads blocked in WaitFor / SleepFor whose deadline is still ahead (a
  // sleeper an Advance reached no longer counts, even before its thread runs again).
  int sleepers();
  // Blocks (in real time, at most `timeout`) until at least `n` threads sleep on this clock
  // with a deadline ahead: lets a test advance time only once the background work it drives
  // is idle, waiting for the next period. True if they do.
  bool AwaitSleepers(int n, std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  int SleepersLocked() const;

  std::mutex mu_;
  std::condition_variable cv_;
  int64_t now_micros_;
  std::multiset<int64_t> deadlines_;  // of the threads in WaitFor
};

}  // namespace refkv

#endif  // REFKV_BASE_CLOCK_H_
