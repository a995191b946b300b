// Internal: a small thread-safe LRU map from id to shared immutable objects, bounded by
// the sum of the entries' charges (1 per entry unless the caller says otherwise).
//
// Values are shared_ptr because the cache and the readers that took a value out of it
// (iterators, a running Apply) share ownership: an evicted value stays alive until its
// last reader lets go.
#ifndef REFKV_REFSTORE_COMMITTED_LRU_CACHE_H_
#define REFKV_REFSTORE_COMMITTED_LRU_CACHE_H_

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace refkv::refstore::internal {

template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The cached value or nullptr; a hit becomes the most recently used.
  std::shared_ptr<const V> Get(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(id));
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // Inserts or replaces; evicts the least recently used entries while the total charge
  // exceeds the capacity (an entry larger than the capacity is not kept).
  void Put(std::string id, std::shared_ptr<const V> value, size_t charge = 1) {
    if (charge > capacity_) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(id);
    if (it != map_.end()) {
      used_ -= it->second->charge;
      order_.erase(it->second);
      map_.erase(it);
    }
    order_.push_front(Entry{id, std::move(value), charge});
    map_.emplace(std::move(id), order_.begin());
    used_ += charge;
    while (used_ > capacity_) {
      used_ -= order_.back().charge;
      map_.erase(order_.back().id);
      order_.pop_back();
    }
  }

  // Makes the entry the least recently used (the next to be evicted), if present: for a
  // value the caller expects no one to ask for again soon, kept while there is room.
  void Demote(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(id));
    if (it == map_.end()) return;
    order_.splice(order_.end(), order_, it->second);
  }

  void Erase(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(id));
    if (it == map_.end()) return;
    used_ -= it->second->charge;
    order_.erase(it->second);
    map_.erase(it);
  }

 private:
  struct Entry {
    std::string id;
    std::shared_ptr<const V> value;
    size_t charge;
  };
  const size_t capacity_;
  size_t used_ = 0;
  std::mutex mu_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> map_;
};

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_LRU_CACHE_H_
