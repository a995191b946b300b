// A kv::Store wrapper that lets a test watch, delay or fail every call to another store:
// the fault-injection seam of the ref store tests.
//
//   InterposedStore faulty(base);
//   faulty.SetHook([&](const Call& c) { return ++n == 7 ? Fault::kFailBefore : Fault::kNone; });
//
// Thread-safety: calls are forwarded concurrently; the hook is called from every calling
// thread and must be thread-safe itself. SetHook must not race with calls.
#ifndef REFKV_TESTS_REFSTORE_INTERPOSED_STORE_H_
#define REFKV_TESTS_REFSTORE_INTERPOSED_STORE_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store.h"

namespace refkv::testing {

struct Call {
  std::string_view verb;  // "get", "multiget", "set", "setif", "delete", "deleteif",
                          // "deleterange", "droppartition", "write", "scan",
                          // "listpartitions", "preparepartitions", "sync"
  std::string_view partition;
  std::string_view key;  // empty where the verb has none
};

enum class Fault {
  kNone,
  kFailBefore,  // nothing happens; the call returns IOError
  kFailAfter,   // the call happens; a write returns UnknownOutcome, a read IOError
};

class InterposedStore final : public kv::Store {
 public:
  explicit InterposedStore(kv::Store& base) : base_(base) {}

  void SetHook(std::function<Fault(const Call&)> hook) { hook_ = std::move(hook); }

  std::string_view driver() const override { return base_.driver(); }
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
  Result<std::unique_ptr<kv::Iterator>> Scan(std::string_view partition,
                                             const kv::ScanOptions& options) override;
  Result<std::vector<std::string>> ListPartitions() override;
  Status PreparePartitions(const std::vector<std::string>& partitions) override;
  Status Sync() override;
  Status Close() override { return Status::OK(); }  // the base is closed by its owner

 private:
  Fault Ask(std::string_view verb, std::string_view partition, std::string_view key) {
    return hook_ ? hook_(Call{verb, partition, key}) : Fault::kNone;
  }
  kv::Store& base_;
  std::function<Fault(const Call&)> hook_;
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

#endif  // REFKV_TESTS_REFSTORE_INTERPOSED_STORE_H_
