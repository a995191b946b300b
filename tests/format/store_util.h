// Test helpers shared by the format tests: random stores and whole-store comparison.
#ifndef REFKV_TESTS_FORMAT_STORE_UTIL_H_
#define REFKV_TESTS_FORMAT_STORE_UTIL_H_

#include <map>
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

}  // namespace refkv::testing

#endif  // REFKV_TESTS_FORMAT_STORE_UTIL_H_
