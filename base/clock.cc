#include "base/clock.h"

#include <algorithm>
#include <iterator>

namespace refkv {

namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  int64_t MonotonicMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  bool WaitFor(int64_t ms, const std::atomic<bool>* stop) override {
    auto stopped = [stop] { return stop != nullptr && stop->load(); };
    if (ms <= 0) return stopped();
    // The steady clock: a wall-clock step must not stretch or cut a sleep.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, stopped);
    return stopped();
  }

  void Wake() override {
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

int64_t ManualClock::NowMicros() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_micros_;
}

bool ManualClock::WaitFor(int64_t ms, const std::atomic<bool>* stop) {
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t deadline = now_micros_ + std::max<int64_t>(ms, 0) * 1000;
  auto entry = deadlines_.insert(deadline);
  cv_.notify_all();  // AwaitSleepers
  cv_.wait(lock, [&] { return now_micros_ >= deadline || stopped(); });
  deadlines_.erase(entry);
  return stopped();
}

void ManualClock::Wake() {
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_.notify_all();
}

void ManualClock::AdvanceMicros(int64_t micros) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_micros_ += micros;
  }
  cv_.notify_all();
}

int ManualClock::SleepersLocked() const {
  return static_cast<int>(std::distance(deadlines_.upper_bound(now_micros_), deadlines_.end()));
}

int ManualClock::sleepers() {
  std::lock_guard<std::mutex> lock(mu_);
  return SleepersLocked();
}

bool ManualClock::AwaitSleepers(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return SleepersLocked() >= n; });
}

}  // namespace refkv
