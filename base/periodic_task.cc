#include "base/periodic_task.h"

#include <utility>

namespace refkv {

PeriodicTask::PeriodicTask(Clock* clock, int64_t period_ms, std::function<bool()> fn,
                           std::function<void()> first)
    : clock_(clock),
      period_ms_(period_ms > 0 ? period_ms : 1),
      fn_(std::move(fn)),
      first_(std::move(first)) {
  thread_ = std::thread([this] { Loop(); });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Stop() {
  stop_.store(true);
  clock_->Wake();
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Loop() {
  if (first_ && !stop_.load()) first_();
  while (!clock_->WaitFor(period_ms_, &stop_)) {
    if (!fn_()) return;
  }
}

}  // namespace refkv
