#include "engine/rocks/partition_table.h"

#include <algorithm>

namespace refkv::kv::rocks {

PartitionTable::PartitionTable()
    : buckets_(std::make_unique<std::atomic<std::shared_ptr<const Bucket>>[]>(kBuckets)) {}

std::shared_ptr<Partition> PartitionTable::Find(std::string_view name) const {
  std::shared_ptr<const Bucket> bucket = BucketFor(name).load(std::memory_order_acquire);
  if (!bucket) return nullptr;
  for (const auto& p : *bucket) {
    if (p->name == name) return p;
  }
  return nullptr;
}

void PartitionTable::Insert(std::shared_ptr<Partition> partition) {
  auto& slot = BucketFor(partition->name);
  std::shared_ptr<const Bucket> old = slot.load(std::memory_order_acquire);
  auto next = old ? std::make_shared<Bucket>(*old) : std::make_shared<Bucket>();
  next->push_back(std::move(partition));
  slot.store(std::move(next), std::memory_order_release);
  size_.fetch_add(1, std::memory_order_relaxed);
}

void PartitionTable::Erase(std::string_view name) {
  auto& slot = BucketFor(name);
  std::shared_ptr<const Bucket> old = slot.load(std::memory_order_acquire);
  if (!old) return;
  auto next = std::make_shared<Bucket>();
  bool found = false;
  for (const auto& p : *old) {
    if (p->name == name) {
      found = true;
    } else {
      next->push_back(p);
    }
  }
  if (!found) return;
  slot.store(std::move(next), std::memory_order_release);
  size_.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<std::string> PartitionTable::Names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < kBuckets; ++i) {
    std::shared_ptr<const Bucket> bucket = buckets_[i].load(std::memory_order_acquire);
    if (!bucket) continue;
    for (const auto& p : *bucket) out.push_back(p->name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::shared_ptr<Partition>> PartitionTable::All() const {
  std::vector<std::shared_ptr<Partition>> out;
  for (size_t i = 0; i < kBuckets; ++i) {
    std::shared_ptr<const Bucket> bucket = buckets_[i].load(std::memory_order_acquire);
    if (!bucket) continue;
    out.insert(out.end(), bucket->begin(), bucket->end());
  }
  return out;
}

void PartitionTable::Clear() {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i].store(nullptr, std::memory_order_release);
  size_.store(0, std::memory_order_relaxed);
}

}  // namespace refkv::kv::rocks
