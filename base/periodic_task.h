// Runs a function every N milliseconds of a Clock's time on its own thread, until stopped:
// the one loop behind the migration lease renewer and the node heartbeat. Driven by a
// ManualClock, the calls happen exactly when a test advances time past each period.
//
// Thread-safety: Stop (and the destructor) from any thread but the task's own.
#ifndef REFKV_BASE_PERIODIC_TASK_H_
#define REFKV_BASE_PERIODIC_TASK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "base/clock.h"

namespace refkv {

class PeriodicTask {
 public:
  // Starts the thread: it calls `first` once at once (if given), then `fn` after every
  // `period_ms` (> 0) of `clock` time, until Stop or until `fn` returns false. A call that
  // runs long delays the next one (no catch-up burst).
  PeriodicTask(Clock* clock, int64_t period_ms, std::function<bool()> fn,
               std::function<void()> first = nullptr);
  // Stops (see Stop).
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // No call starts after Stop begins; a call in progress finishes first; the sleep is cut
  // short at once. Idempotent.
  void Stop();

 private:
  void Loop();

  Clock* const clock_;
  const int64_t period_ms_;
  std::function<bool()> fn_;
  std::function<void()> first_;
  std::atomic<bool> stop_{false};
  std::mutex join_mu_;  // one joiner
  std::thread thread_;
};

}  // namespace refkv

#endif  // REFKV_BASE_PERIODIC_TASK_H_
