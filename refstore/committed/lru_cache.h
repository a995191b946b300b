// Internal: a small thread-safe LRU map from id to shared immutable objects.
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
    return it->second->second;
  }

  void Put(std::string id, std::shared_ptr<const V> value) {
    if (capacity_ == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(id);
    if (it != map_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(id, std::move(value));
    map_.emplace(std::move(id), order_.begin());
    while (map_.size() > capacity_) {
      map_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void Erase(std::string_view id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(id));
    if (it == map_.end()) return;
    order_.erase(it->second);
    map_.erase(it);
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const V>>;
  const size_t capacity_;
  std::mutex mu_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> map_;
};

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_LRU_CACHE_H_
