#include "migrate/lease.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>

#include "engine/open.h"
#include "migrate/records.h"

namespace refkv::kv::migrate {
namespace {

// A holder that was a process on this host that no longer exists cannot renew:
// its lease is taken over at once instead of after its expiry.
bool HolderIsDeadHere(const LeaseInfo& l) {
  if (l.host != HostName() || l.pid <= 0 || l.pid == getpid()) return false;
  return kill(static_cast<pid_t>(l.pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

Result<std::optional<LeaseInfo>> ReadLease(Store& store) {
  auto raw = store.Get(kMetaPartition, kLeaseKey);
  if (raw.status().IsNotFound()) return std::optional<LeaseInfo>();
  if (!raw.ok()) return raw.status();
  REFKV_ASSIGN_OR_RETURN(LeaseInfo info, DecodeLease(*raw));
  return std::optional<LeaseInfo>(std::move(info));
}

Result<std::unique_ptr<Lease>> Lease::Acquire(Store& store, int64_t ttl_ms, int64_t timeout_ms,
                                              bool renew, Clock* clock) {
  if (ttl_ms <= 0) return Status::InvalidArgument("migration lease ttl must be positive");
  if (clock == nullptr) clock = Clock::System();
  const int64_t deadline = clock->MonotonicMs() + timeout_ms;
  LeaseInfo mine;
  mine.holder_id = NewRandomId();
  mine.host = HostName();
  mine.pid = getpid();
  mine.ttl_ms = ttl_ms;
  mine.code_version = std::string(CodeVersion());
  while (true) {
    auto raw = store.Get(kMetaPartition, kLeaseKey);
    if (!raw.ok() && !raw.status().IsNotFound()) return raw.status();
    int64_t now = clock->NowMs();
    std::optional<LeaseInfo> current;
    if (raw.ok()) {
      REFKV_ASSIGN_OR_RETURN(LeaseInfo info, DecodeLease(*raw));
      current = std::move(info);
    }
    if (!current || !current->held(now) || HolderIsDeadHere(*current)) {
      mine.epoch = current ? current->epoch + 1 : 1;
      mine.expiry_ms = now + ttl_ms;
      std::string encoded = EncodeLease(mine);
      Status s = store.SetIf(kMetaPartition, kLeaseKey, encoded,
                             current ? Predicate::Equals(*raw) : Predicate::Absent());
      if (s.ok()) return std::unique_ptr<Lease>(new Lease(store, mine, encoded, renew, clock));
      if (!s.IsPredicateFailed()) return s;
      continue;  // someone else moved first: look again
    }
    const int64_t now_steady = clock->MonotonicMs();
    if (now_steady >= deadline) {
      return Status::Busy("migration lease is held by " + current->ToString() + "; waited " +
                          std::to_string(timeout_ms) +
                          " ms (lock timeout). If that process is gone, its lease is taken over "
                          "automatically when it expires; 'refkv migrate unlock --force' ends "
                          "it now");
    }
    auto wait = std::min<int64_t>(
        {50, std::max<int64_t>(1, current->expiry_ms - now), deadline - now_steady + 1});
    clock->SleepFor(wait);
  }
}

Lease::Lease(Store& store, LeaseInfo info, std::string raw, bool renew, Clock* clock)
    : store_(store),
      clock_(clock),
      info_(std::move(info)),
      raw_(std::move(raw)),
      expiry_ms_(info_.expiry_ms) {
  if (!renew) return;
  // Errors other than a takeover are retried next period; a lost lease ends the task.
  renewer_ = std::make_unique<PeriodicTask>(clock_, std::max<int64_t>(5, info_.ttl_ms / 4), [this] {
    (void)RenewOnce();
    MutexLock lock(&mu_);
    return lost_.empty() && !released_;
  });
}

Lease::~Lease() { (void)Release(); }

Status Lease::Lost(std::string why) {
  if (lost_.empty()) lost_ = std::move(why);
  return Status(StatusCode::kBusy,
                "migration lease (holder " + info_.holder_id + ", epoch " +
                    std::to_string(info_.epoch) + ") lost: " + lost_ +
                    "; this process stops without writing, the other holder continues",
                /*retryable=*/false);
}

Status Lease::RenewOnce() {
  MutexLock writing(&write_mu_);  // one renewal at a time
  std::string expected;
  {
    MutexLock lock(&mu_);
    if (released_) return Status(StatusCode::kBusy, "migration lease already released", false);
    if (!lost_.empty()) return Lost(lost_);
    expected = raw_;
  }
  LeaseInfo next = info_;
  next.expiry_ms = clock_->NowMs() + info_.ttl_ms;
  std::string encoded = EncodeLease(next);
  // A CaS on the exact record we wrote: it succeeds only if nobody took the lease over,
  // expired or not, so renewing late is as safe as renewing on time.
  Status s = store_.SetIf(kMetaPartition, kLeaseKey, encoded, Predicate::Equals(expected));
  MutexLock lock(&mu_);
  if (s.ok()) {
    raw_ = std::move(encoded);
    expiry_ms_ = next.expiry_ms;
    return Status::OK();
  }
  if (s.IsPredicateFailed()) return Lost("another process took the lease over");
  return s;
}

Status Lease::Check() {
  bool expired = false;
  {
    MutexLock lock(&mu_);
    if (!lost_.empty() || released_) return Lost(released_ ? "already released" : lost_);
    expired = clock_->NowMs() >= expiry_ms_;
  }
  if (expired) {
    // Not renewed in time (a stall, a failed renewal): take it back if nobody else did.
    Status s = RenewOnce();
    if (!s.ok()) {
      if (s.IsBusy()) return s;
      return Status(StatusCode::kBusy,
                    "migration lease (holder " + info_.holder_id +
                        ") expired and could not be "
                        "renewed: " +
                        s.ToString(),
                    false);
    }
  }
  REFKV_ASSIGN_OR_RETURN(std::optional<LeaseInfo> current, ReadLease(store_));
  MutexLock lock(&mu_);
  if (!current || current->holder_id != info_.holder_id || current->epoch != info_.epoch) {
    return Lost(current ? "now " + current->ToString() : "the lease record is gone");
  }
  return Status::OK();
}

Status Lease::Release() {
  std::string expected;
  {
    MutexLock lock(&mu_);
    if (released_) return Status::OK();
    released_ = true;
  }
  if (renewer_ != nullptr) renewer_->Stop();
  {
    MutexLock lock(&mu_);
    expected = raw_;
    if (!lost_.empty()) return Status::OK();  // not ours any more: nothing to release
  }
  LeaseInfo released;
  released.epoch = info_.epoch;
  released.code_version = info_.code_version;
  MutexLock writing(&write_mu_);
  Status s =
      store_.SetIf(kMetaPartition, kLeaseKey, EncodeLease(released), Predicate::Equals(expected));
  return s.IsPredicateFailed() ? Status::OK() : s;
}

Status UnlockLease(Store& store, bool force, Clock* clock) {
  if (clock == nullptr) clock = Clock::System();
  while (true) {
    auto raw = store.Get(kMetaPartition, kLeaseKey);
    if (raw.status().IsNotFound()) return Status::OK();
    if (!raw.ok()) return raw.status();
    REFKV_ASSIGN_OR_RETURN(LeaseInfo current, DecodeLease(*raw));
    if (current.holder_id.empty()) return Status::OK();
    if (current.held(clock->NowMs()) && !force && !HolderIsDeadHere(current)) {
      return Status::Busy("migration lease is held by " + current.ToString() +
                          "; use force to end it (that holder is then refused on its next write)");
    }
    LeaseInfo released;
    released.epoch = current.epoch + 1;  // fences the old holder out
    released.code_version = std::string(CodeVersion());
    Status s =
        store.SetIf(kMetaPartition, kLeaseKey, EncodeLease(released), Predicate::Equals(*raw));
    if (!s.IsPredicateFailed()) return s;
  }
}

}  // namespace refkv::kv::migrate
