// The migration lease (internal): one record in kMetaPartition ("migration/lease"),
// written only with SetIf, so one holder at a time; its epoch grows by one on every
// acquisition, takeover and forced unlock, so a stale holder can always tell.
//
// Acquire waits (polling) up to a timeout for a held lease. A lease is taken over
// without any command when it has expired, or at once when its holder is a process on
// this host that no longer exists. While held, a background thread renews the expiry
// every ttl/4 (SetIf on the exact record last written). A holder whose lease expired
// without anyone taking it over (a late renewal) renews it on its next Check.
//
// Thread-safety: Check may be called from any thread; Release once, by the owner.
#ifndef REFKV_MIGRATE_LEASE_H_
#define REFKV_MIGRATE_LEASE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "migrate/migrate.h"

namespace refkv::kv::migrate {

class Lease {
 public:
  // Busy naming the holder if it is still held after `timeout_ms`.
  static Result<std::unique_ptr<Lease>> Acquire(Store& store, int64_t ttl_ms, int64_t timeout_ms,
                                                bool renew);
  ~Lease();  // releases, ignoring errors
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // The fence: OK only if this holder's record is still the lease. One Get (plus one
  // SetIf renewing it first if it expired by the local clock). Busy (naming the new
  // holder) otherwise, for good.
  Status Check();
  // Stops renewing and marks the lease released (SetIf on our record). Idempotent.
  Status Release();

  int64_t epoch() const { return info_.epoch; }
  const std::string& holder_id() const { return info_.holder_id; }

 private:
  Lease(Store& store, LeaseInfo info, std::string raw, bool renew);
  void RenewLoop();
  // One renewal: SetIf(equals the record we last wrote). Busy if taken over.
  Status RenewOnce();
  Status Lost(std::string why);  // requires mu_

  Store& store_;
  const LeaseInfo info_;  // holder, host, pid, epoch, ttl (expiry as first written)
  std::mutex write_mu_;   // serialises renewals (the thread's and Check's)
  std::mutex mu_;
  std::condition_variable cv_;
  std::string raw_;        // the record as last written by us; guarded by mu_
  int64_t expiry_ms_;      // guarded by mu_
  bool stop_ = false;      // guarded by mu_
  bool released_ = false;  // guarded by mu_
  std::string lost_;       // why the lease is lost; "" while held; guarded by mu_
  std::thread renewer_;
};

// Unlock (see migrate/migrate.h).
Status UnlockLease(Store& store, bool force);

// The lease record, or nullopt if there is none.
Result<std::optional<LeaseInfo>> ReadLease(Store& store);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_LEASE_H_
