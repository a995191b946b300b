// Striped per-key write locks with a small write-through cache of recent values.
//
// Every writer of a key (Set, SetIf, Delete, DeleteIf, Write) holds the key's stripe
// while it writes; DeleteRange and DropPartition hold every stripe. That makes
// SetIf's read-compare-write atomic with respect to every other write of the key
// without a store-wide lock: SetIf on keys of different stripes run in parallel.
//
// The cache: each stripe remembers the last value written (or "absent") for up to
// kSlots keys, filled and updated under the stripe lock by every writer after its
// RocksDB write succeeded, so a SetIf on a hot key (a branch head) reads the current
// value without a RocksDB Get. Entries name the partition incarnation (Partition::id),
// so a dropped and re-created partition never matches an old entry; DeleteRange
// invalidates its partition's entries while it holds every stripe. Only keys up to
// kMaxKey bytes and values up to kMaxValue bytes are kept: memory is bounded by
// kStripes * kSlots * (kMaxKey + kMaxValue) (about 10 MiB worst case, a few KiB typical).
// Readers (Get, Scan) do not use the cache and take no lock.
//
// Thread-safety: Stripe::mu guards its slots. LockAll/UnlockAll take stripes in index
// order; a writer of several keys takes its stripes in ascending index order too, so
// no two lockers deadlock.
#ifndef REFKV_ENGINE_ROCKS_KEY_STRIPES_H_
#define REFKV_ENGINE_ROCKS_KEY_STRIPES_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace refkv::kv::rocks {

class KeyStripes {
 public:
  static constexpr size_t kStripes = 1024;
  static constexpr size_t kSlots = 2;
  static constexpr size_t kMaxKey = 256;
  static constexpr size_t kMaxValue = 4096;

  struct Slot {
    uint64_t partition_id = 0;  // 0 = empty
    bool present = false;       // false: the key is known to be absent
    std::string key;
    std::string value;
  };

  struct alignas(64) Stripe {
    std::mutex mu;
    Slot slots[kSlots];
    uint8_t victim = 0;

    // Requires mu. The slot caching (partition_id, key), or nullptr.
    Slot* Find(uint64_t partition_id, std::string_view key) {
      for (Slot& s : slots) {
        if (s.partition_id == partition_id && s.key == key) return &s;
      }
      return nullptr;
    }
    // Requires mu. Records that the key now holds `value` (nullptr: absent).
    void Remember(uint64_t partition_id, std::string_view key, const std::string_view* value) {
      Slot* s = Find(partition_id, key);
      if (key.size() > kMaxKey || (value != nullptr && value->size() > kMaxValue)) {
        if (s != nullptr) s->partition_id = 0;
        return;
      }
      if (s == nullptr) {
        s = &slots[victim];
        victim = static_cast<uint8_t>((victim + 1) % kSlots);
        s->partition_id = partition_id;
        s->key.assign(key.data(), key.size());
      }
      s->present = value != nullptr;
      if (value != nullptr) {
        s->value.assign(value->data(), value->size());
      } else {
        s->value.clear();
      }
    }
    // Requires mu. Forgets the key (its write failed or its outcome is unknown).
    void Forget(uint64_t partition_id, std::string_view key) {
      if (Slot* s = Find(partition_id, key)) s->partition_id = 0;
    }
    // Requires mu. Forgets every key of the partition incarnation.
    void ForgetPartition(uint64_t partition_id) {
      for (Slot& s : slots) {
        if (s.partition_id == partition_id) s.partition_id = 0;
      }
    }
  };

  KeyStripes() : stripes_(std::make_unique<Stripe[]>(kStripes)) {}
  KeyStripes(const KeyStripes&) = delete;
  KeyStripes& operator=(const KeyStripes&) = delete;

  // The stripe index of `key` in the partition whose name hashes to `partition_hash`.
  static size_t IndexOf(uint64_t partition_hash, std::string_view key) {
    uint64_t h = HashKey(partition_hash, key);
    return static_cast<size_t>((h ^ (h >> 29)) & (kStripes - 1));
  }

  Stripe& at(size_t index) { return stripes_[index]; }

  void LockAll() {
    for (size_t i = 0; i < kStripes; ++i) stripes_[i].mu.lock();
  }
  void UnlockAll() {
    for (size_t i = kStripes; i-- > 0;) stripes_[i].mu.unlock();
  }
  // Requires LockAll.
  void ForgetPartitionLocked(uint64_t partition_id) {
    for (size_t i = 0; i < kStripes; ++i) stripes_[i].ForgetPartition(partition_id);
  }

 private:
  static uint64_t HashKey(uint64_t seed, std::string_view key) {
    uint64_t h = seed;
    for (unsigned char c : key) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return h;
  }

  std::unique_ptr<Stripe[]> stripes_;
};

// Holds every stripe for its lifetime.
class AllStripesLock {
 public:
  explicit AllStripesLock(KeyStripes& stripes) : stripes_(stripes) { stripes_.LockAll(); }
  ~AllStripesLock() { stripes_.UnlockAll(); }
  AllStripesLock(const AllStripesLock&) = delete;
  AllStripesLock& operator=(const AllStripesLock&) = delete;

 private:
  KeyStripes& stripes_;
};

}  // namespace refkv::kv::rocks

#endif  // REFKV_ENGINE_ROCKS_KEY_STRIPES_H_
