// FaultStore: the one fault-injecting kv::Store of the tests. A kv::StoreWrapper that
// asks a hook before every call and can fail it (before or after it happens), kill the
// process right after it, or - the hook sleeping - delay it; it counts every call.
//
//   FaultStore faulty(base);
//   CallCounter counter;
//   counter.Arm(7, /*crash=*/false, Fault::kFailBefore);   // the 7th call fails
//   faulty.SetHook(std::ref(counter));
//   faulty.SetHook([](const Call& c) { return c.verb == "write" ? Fault::kKillAfter : Fault::kNone;
//   }); faulty.SetHook([](const Call&) { std::this_thread::sleep_for(5ms); return Fault::kNone; });
//
// Every verb of kv::Store is interposed except driver(), shared(), Properties(),
// EstimateRange() and Close(): the first four are forwarded; shared() says false (a ref
// store over it then runs no node heartbeat of its own, whose calls at wall-clock times
// would make call counts vary) and Close() closes nothing (the wrapped store's owner
// closes it).
//
// Thread-safety: calls are forwarded concurrently; the hook is called from every calling
// thread and must be thread-safe itself. SetHook must not race with calls.
#ifndef REFKV_TESTS_SUPPORT_FAULT_STORE_H_
#define REFKV_TESTS_SUPPORT_FAULT_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store_wrapper.h"

namespace refkv::testing {

struct Call {
  std::string_view verb;  // "get", "multiget", "set", "setif", "delete", "deleteif",
                          // "deleterange", "droppartition", "write", "insertnew",
                          // "ingestsstfiles", "scan", "listpartitions",
                          // "preparepartitions", "sync", "checkpoint"
  std::string_view partition;
  std::string_view key;  // empty where the verb has none
  bool write = false;    // the verb changes data (everything but the reads, sync, checkpoint)
};

enum class Fault {
  kNone,
  kFailBefore,  // nothing happens; the call returns IOError
  kFailAfter,   // the call happens; a write returns UnknownOutcome, a read IOError
  kKillAfter,   // the call happens, then the process kills itself (SIGKILL)
};

class FaultStore final : public kv::StoreWrapper {
 public:
  explicit FaultStore(kv::Store& base) : StoreWrapper(base) {}

  void SetHook(std::function<Fault(const Call&)> hook) { hook_ = std::move(hook); }

  // Calls made through the store (every interposed verb), and those of them that write.
  int64_t calls() const { return calls_; }
  int64_t writes() const { return writes_; }

  bool shared() const override { return false; }
  Result<std::string> Get(std::string_view partition, std::string_view key) override;
  Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                    const std::vector<std::string>& keys) override;
  Status Set(std::string_view partition, std::string_view key, std::string_view value) override;
  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const kv::Predicate& predicate) override;
  Status Delete(std::string_view partition, std::string_view key) override;
  Status DeleteIf(std::string_view partition, std::string_view key,
                  const kv::Predicate& predicate) override;
  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override;
  Status DropPartition(std::string_view partition) override;
  Status Write(std::string_view partition, const kv::WriteBatch& batch) override;
  Status InsertNew(std::string_view partition, const kv::WriteBatch& batch) override;
  Status IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                        bool move) override;
  Result<std::unique_ptr<kv::Iterator>> Scan(std::string_view partition,
                                             const kv::ScanOptions& options) override;
  Result<std::vector<std::string>> ListPartitions() override;
  Status PreparePartitions(const std::vector<std::string>& partitions) override;
  Status Sync() override;
  Status Checkpoint(std::string_view dir) override;
  Status Close() override { return Status::OK(); }  // the base is closed by its owner

 private:
  Fault Ask(std::string_view verb, std::string_view partition, std::string_view key, bool write);
  std::function<Fault(const Call&)> hook_;
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> writes_{0};
};

// Fails the n-th call (1-based) counted from Arm(), or - with `crash` - every call from
// the n-th on (a process that died at that call). Counts calls while disarmed too
// (Count()), so a dry run measures how many calls an operation makes.
class CallCounter {
 public:
  void Arm(uint64_t n, bool crash, Fault fault) {
    calls_ = 0;
    fail_at_ = n;
    crash_ = crash;
    fault_ = fault;
  }
  void Disarm() { fail_at_ = 0; }
  void Reset() { calls_ = 0; }
  uint64_t Count() const { return calls_; }
  bool Fired() const { return fail_at_ != 0 && calls_ >= fail_at_; }

  Fault operator()(const Call&) {
    uint64_t n = ++calls_;
    if (fail_at_ == 0) return Fault::kNone;
    if (n == fail_at_ || (crash_ && n > fail_at_)) {
      return n == fail_at_ ? fault_ : Fault::kFailBefore;
    }
    return Fault::kNone;
  }

 private:
  std::atomic<uint64_t> calls_{0};
  std::atomic<uint64_t> fail_at_{0};
  bool crash_ = false;
  Fault fault_ = Fault::kFailBefore;
};

// Records every call (verb, partition, key) in order; use as a hook:
//   CallLog log; faulty.SetHook(std::ref(log));
// Thread-safe. Optionally fails every call of one verb (`FailVerb`).
class CallLog {
 public:
  struct Entry {
    std::string verb, partition, key;
  };

  Fault operator()(const Call& c) {
    std::lock_guard lock(mu_);
    calls_.push_back({std::string(c.verb), std::string(c.partition), std::string(c.key)});
    return c.verb == fail_verb_ ? Fault::kFailBefore : Fault::kNone;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }
  void FailVerb(std::string verb) {
    std::lock_guard lock(mu_);
    fail_verb_ = std::move(verb);
  }
  std::vector<Entry> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // How many calls of `verb` were recorded.
  size_t Count(std::string_view verb) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& c : calls_) n += c.verb == verb;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> calls_;
  std::string fail_verb_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_FAULT_STORE_H_
