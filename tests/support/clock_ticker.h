// Drives a ManualClock in the background as a discrete-event simulation: whenever at least
// `sleepers` threads wait on the clock with a deadline ahead (the periodic tasks and
// waiting loops a test runs: every one of them idle), time moves on by `step_ms`. Time
// stands still while any of them works, so a heartbeat never misses a beat and a wait
// never times out because the machine is slow.
#ifndef REFKV_TESTS_SUPPORT_CLOCK_TICKER_H_
#define REFKV_TESTS_SUPPORT_CLOCK_TICKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "base/clock.h"

namespace refkv::testing {

class ClockTicker {
 public:
  ClockTicker(ManualClock* clock, int64_t step_ms, int sleepers)
      : clock_(clock), step_ms_(step_ms), sleepers_(sleepers) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (clock_->AwaitSleepers(sleepers_.load(), std::chrono::milliseconds(5))) {
          clock_->AdvanceMs(step_ms_);
        }
      }
    });
  }
  ~ClockTicker() { Stop(); }
  ClockTicker(const ClockTicker&) = delete;
  ClockTicker& operator=(const ClockTicker&) = delete;

  void set_sleepers(int n) { sleepers_.store(n); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  ManualClock* const clock_;
  const int64_t step_ms_;
  std::atomic<int> sleepers_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_CLOCK_TICKER_H_
