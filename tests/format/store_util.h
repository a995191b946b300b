// Test helpers shared by the format tests: random stores and whole-store comparison.
#ifndef REFKV_TESTS_FORMAT_STORE_UTIL_H_
#define REFKV_TESTS_FORMAT_STORE_UTIL_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/store.h"

namespace refkv::testing {

using StoreContents = std::map<std::string, std::map<std::string, std::string>>;

// Every partition except kMetaPartition, fully scanned.
inline StoreContents ReadAll(kv::Store& store) {
  StoreContents out;
  auto parts = store.ListPartitions();
  if (!parts.ok()) return out;
  for (const auto& p : *parts) {
    if (p == kv::kMetaPartition) continue;
    auto it = store.Scan(p, {});
    if (!it.ok()) continue;
    for (; (*it)->Valid(); (*it)->Next()) {
      out[p][std::string((*it)->key())] = std::string((*it)->value());
    }
  }
  return out;
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Fills `store` with `partitions` partitions of random binary names, keys and values
// (values sometimes empty). Returns what it wrote.
inline StoreContents FillRandom(kv::Store& store, std::mt19937_64& rng, int partitions,
                                int max_keys) {
  StoreContents written;
  for (int p = 0; p < partitions; ++p) {
    std::string name = RandomBytes(rng, 1 + rng() % 12);
    if (p == 0) name = std::string("\0\xff", 2);
    int keys = 1 + static_cast<int>(rng() % max_keys);
    for (int k = 0; k < keys; ++k) {
      std::string key = RandomBytes(rng, 1 + rng() % 40);
      std::string value = (rng() % 10 == 0) ? "" : RandomBytes(rng, rng() % 300);
      if (store.Set(name, key, value).ok()) written[name][key] = value;
    }
  }
  return written;
}

// One record beyond each kv::Store limit (engine/store.h), and the name of the limit the
// refusal must cite: what an older refkv let into a store and export must refuse.
struct RecordBeyondALimit {
  std::string partition, key, value, limit;
};
inline std::vector<RecordBeyondALimit> RecordsBeyondTheLimits() {
  return {{std::string(70000, 'p'), "k", "v", "kv::kMaxPartitionBytes"},
          {"p", std::string(kv::kMaxKeyBytes + 1, 'k'), "v", "kv::kMaxKeyBytes"},
          {"p", "k", std::string(kv::kMaxValueBytes + 1, 'v'), "kv::kMaxValueBytes"}};
}

// A store that takes anything, as refkv did before the kv::Store limits (engine/store.h):
// the source of the tests of what export does with data beyond them. Holds its
// partitions in memory; not thread-safe.
class LegacyStore final : public kv::Store {
 public:
  std::string_view driver() const override { return "legacy"; }
  Result<std::string> Get(std::string_view p, std::string_view k) override {
    auto part = data_.find(std::string(p));
    if (part == data_.end()) return Status::NotFound("legacy: no partition");
    auto it = part->second.find(std::string(k));
    if (it == part->second.end()) return Status::NotFound("legacy: no key");
    return it->second;
  }
  Status Set(std::string_view p, std::string_view k, std::string_view v) override {
    data_[std::string(p)][std::string(k)] = std::string(v);
    return Status::OK();
  }
  Status SetIf(std::string_view, std::string_view, std::string_view,
               const kv::Predicate&) override {
    return Status::Unsupported("legacy: setif");
  }
  Status Delete(std::string_view p, std::string_view k) override {
    data_[std::string(p)].erase(std::string(k));
    return Status::OK();
  }
  Status DeleteIf(std::string_view, std::string_view, const kv::Predicate&) override {
    return Status::Unsupported("legacy: deleteif");
  }
  Status DeleteRange(std::string_view, std::string_view, std::string_view) override {
    return Status::Unsupported("legacy: deleterange");
  }
  Status DropPartition(std::string_view p) override {
    data_.erase(std::string(p));
    return Status::OK();
  }
  Status Write(std::string_view, const kv::WriteBatch&) override {
    return Status::Unsupported("legacy: write");
  }
  Result<std::unique_ptr<kv::Iterator>> Scan(std::string_view p,
                                             const kv::ScanOptions& o) override {
    return std::unique_ptr<kv::Iterator>(std::make_unique<Iter>(data_[std::string(p)], o.start));
  }
  Result<std::vector<std::string>> ListPartitions() override {
    std::vector<std::string> out;
    for (const auto& [name, keys] : data_) out.push_back(name);
    return out;
  }
  Status Close() override { return Status::OK(); }

 private:
  using Map = std::map<std::string, std::string>;
  class Iter final : public kv::Iterator {
   public:
    Iter(const Map& map, const std::string& start) : map_(map) { Seek(start); }
    bool Valid() const override { return it_ != map_.end(); }
    void Seek(std::string_view key) override { it_ = map_.lower_bound(std::string(key)); }
    void Next() override { ++it_; }
    std::string_view key() const override { return it_->first; }
    std::string_view value() const override { return it_->second; }
    Status status() const override { return Status::OK(); }

   private:
    const Map& map_;
    Map::const_iterator it_;
  };
  std::map<std::string, Map> data_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_FORMAT_STORE_UTIL_H_
