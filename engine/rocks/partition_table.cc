#include "engine/rocks/partition_table.h"

#include <algorithm>

namespace refkv::kv::rocks {

PartitionTable::PartitionTable() : slots_(std::make_unique<Slot[]>(kBuckets)) {}

std::shared_ptr<Partition> PartitionTable::Find(std::string_view name) const {
  const Slot& slot = SlotFor(name);
  slot.Lock();
  std::shared_ptr<Partition> found;
  if (slot.bucket) {
    for (const auto& p : *slot.bucket) {
      if (p->name == name) {
        found = p;
        break;
      }
    }
  }
  slot.Unlock();
  return found;
}

std::unique_ptr<PartitionTable::Bucket> PartitionTable::Swap(Slot& slot,
                                                             std::unique_ptr<Bucket> next) {
  slot.Lock();
  slot.bucket.swap(next);
  slot.Unlock();
  return next;
}

void PartitionTable::Insert(std::shared_ptr<Partition> partition) {
  Slot& slot = SlotFor(partition->name);
  // Only the (serialised) writer changes slot.bucket, so reading it here is safe.
  auto next = slot.bucket ? std::make_unique<Bucket>(*slot.bucket) : std::make_unique<Bucket>();
  next->push_back(std::move(partition));
  (void)Swap(slot, std::move(next));
  size_.fetch_add(1, std::memory_order_relaxed);
}

void PartitionTable::Erase(std::string_view name) {
  Slot& slot = SlotFor(name);
  if (!slot.bucket) return;
  auto next = std::make_unique<Bucket>();
  bool found = false;
  for (const auto& p : *slot.bucket) {
    if (p->name == name) {
      found = true;
    } else {
      next->push_back(p);
    }
  }
  if (!found) return;
  if (next->empty()) next.reset();
  (void)Swap(slot, std::move(next));
  size_.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<std::shared_ptr<Partition>> PartitionTable::All() const {
  std::vector<std::shared_ptr<Partition>> out;
  for (size_t i = 0; i < kBuckets; ++i) {
    const Slot& slot = slots_[i];
    slot.Lock();
    if (slot.bucket) out.insert(out.end(), slot.bucket->begin(), slot.bucket->end());
    slot.Unlock();
  }
  return out;
}

std::vector<std::string> PartitionTable::Names() const {
  std::vector<std::string> out;
  for (const auto& p : All()) out.push_back(p->name);
  std::sort(out.begin(), out.end());
  return out;
}

void PartitionTable::Clear() {
  for (size_t i = 0; i < kBuckets; ++i) (void)Swap(slots_[i], nullptr);
  size_.store(0, std::memory_order_relaxed);
}

}  // namespace refkv::kv::rocks
