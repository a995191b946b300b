// The migration lease (internal): one record in kMetaPartition ("migration/lease"),
// written only with SetIf, so one holder at a time; its epoch grows by one on every
// acquisition, takeover and forced unlock, so a stale holder can always tell.
//
// Acquire waits (polling) up to a timeout for a held lease. A lease is taken over
// without any command when it has expired, or at once when its holder is a process on
// this host that no longer exists. While held, a PeriodicTask renews the expiry every
// ttl/4 (SetIf on the exact record last written). All time (expiry, the wait, the
// renewal period) is the given Clock's. A holder whose lease expired
// without anyone taking it over (a late renewal) renews it on its next Check.
//
// Thread-safety: Check may be called from any thread; Release once, by the owner.
#ifndef REFKV_MIGRATE_LEASE_H_
#define REFKV_MIGRATE_LEASE_H_

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/periodic_task.h"
#include "migrate/migrate.h"

namespace refkv::kv::migrate {

class Lease {
 public:
  // Busy naming the holder if it is still held after `timeout_ms`. `clock` (nullptr: the
  // system clock) must outlive the lease.
  static Result<std::unique_ptr<Lease>> Acquire(Store& store, int64_t ttl_ms, int64_t timeout_ms,
                                                bool renew, Clock* clock);
  ~Lease();  // releases, ignoring errors
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // The fence: OK only if this holder's record is still the lease. One Get (plus one
  // SetIf renewing it first if it expired by the local clock). Busy (naming the new
  // holder) otherwise, for good.
  Status Check() EXCLUDES(mu_, write_mu_);
  // Stops renewing and marks the lease released (SetIf on our record). Idempotent.
  Status Release() EXCLUDES(mu_, write_mu_);

  int64_t epoch() const { return info_.epoch; }
  const std::string& holder_id() const { return info_.holder_id; }

 private:
  Lease(Store& store, LeaseInfo info, std::string raw, bool renew, Clock* clock);
  // One renewal: SetIf(equals the record we last wrote). Busy if taken over.
  Status RenewOnce() EXCLUDES(mu_, write_mu_);
  Status Lost(std::string why) REQUIRES(mu_);

  Store& store_;
  Clock* const clock_;
  const LeaseInfo info_;  // holder, host, pid, epoch, ttl (expiry as first written)
  Mutex write_mu_;        // serialises renewals (the renewer's and Check's); before mu_
  Mutex mu_;
  std::string raw_ GUARDED_BY(mu_);  // the record as last written by us
  int64_t expiry_ms_ GUARDED_BY(mu_);
  bool released_ GUARDED_BY(mu_) = false;
  std::string lost_ GUARDED_BY(mu_);  // why the lease is lost; "" while held
  std::unique_ptr<PeriodicTask> renewer_;
};

// Unlock (see migrate/migrate.h); `clock` judges expiry (nullptr: the system clock).
Status UnlockLease(Store& store, bool force, Clock* clock);

// The lease record, or nullopt if there is none.
Result<std::optional<LeaseInfo>> ReadLease(Store& store);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_LEASE_H_
