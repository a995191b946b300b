#include "engine/mem/mem_store.h"

#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace refkv::kv {
namespace {

using Map = std::map<std::string, std::string, std::less<>>;

// One partition's entries plus the number of live iterators reading them. A writer
// that finds readers copies the map first, so iterators keep their snapshot. The count
// (not shared_ptr::use_count, a relaxed load) gives the writer an acquire that pairs
// with each iterator's release when it is destroyed: its reads happen before the
// writer's in-place writes.
struct Snapshot {
  Map map;
  mutable std::atomic<int> readers{0};
};

class MemIterator final : public Iterator {
 public:
  // Requires the store's lock held (shared) while constructing: a writer must see the
  // reader count go up before it can mutate the map.
  MemIterator(std::shared_ptr<const Snapshot> snapshot, std::string lower, std::string upper)
      : snapshot_(std::move(snapshot)),
        map_(&snapshot_->map),
        lower_(std::move(lower)),
        upper_(std::move(upper)) {
    snapshot_->readers.fetch_add(1, std::memory_order_relaxed);
    it_ = map_->end();
  }
  ~MemIterator() override { snapshot_->readers.fetch_sub(1, std::memory_order_release); }

  bool Valid() const override { return it_ != map_->end(); }

  void Seek(std::string_view key) override {
    it_ = map_->lower_bound(key < std::string_view(lower_) ? std::string_view(lower_) : key);
    CheckUpper();
  }

  void Next() override {
    ++it_;
    CheckUpper();
  }

  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  void CheckUpper() {
    if (it_ != map_->end() && !upper_.empty() && it_->first >= upper_) it_ = map_->end();
  }

  std::shared_ptr<const Snapshot> snapshot_;
  const Map* map_;
  std::string lower_, upper_;
  Map::const_iterator it_;
};

class MemStore final : public Store {
 public:
  std::string_view driver() const override { return "mem"; }

  Result<std::string> Get(std::string_view partition, std::string_view key) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("get", partition, key));
    std::shared_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    const std::string* value = Find(partition, key);
    if (value == nullptr) return KeyNotFound(partition, key);
    return *value;
  }

  Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                    const std::vector<std::string>& keys) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("multiget", partition));
    std::vector<Result<std::string>> out;
    out.reserve(keys.size());
    std::shared_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    for (const auto& key : keys) {
      Status arg = CheckPartitionAndKey("multiget", partition, key);
      if (!arg.ok()) {
        out.emplace_back(std::move(arg));
        continue;
      }
      const std::string* value = Find(partition, key);
      if (value == nullptr) {
        out.emplace_back(KeyNotFound(partition, key));
      } else {
        out.emplace_back(*value);
      }
    }
    return out;
  }

  Status Set(std::string_view partition, std::string_view key, std::string_view value) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("set", partition, key, value));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    Map& map = Writable(partition);
    map.insert_or_assign(std::string(key), std::string(value));
    return Status::OK();
  }

  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("setif", partition, key, value));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    const std::string* current = Find(partition, key);
    REFKV_RETURN_IF_ERROR(EvaluatePredicate(partition, key, predicate, current != nullptr,
                                            current != nullptr ? *current : std::string_view()));
    Writable(partition).insert_or_assign(std::string(key), std::string(value));
    return Status::OK();
  }

  Status Delete(std::string_view partition, std::string_view key) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("delete", partition, key));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    if (Find(partition, key) != nullptr) EraseKey(partition, key);
    return Status::OK();
  }

  Status DeleteIf(std::string_view partition, std::string_view key,
                  const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("deleteif", partition, key));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    const std::string* current = Find(partition, key);
    REFKV_RETURN_IF_ERROR(EvaluatePredicate(partition, key, predicate, current != nullptr,
                                            current != nullptr ? *current : std::string_view()));
    if (current != nullptr) EraseKey(partition, key);
    return Status::OK();
  }

  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("deleterange", partition));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) return Status::OK();
    if (!to.empty() && to <= from) return Status::OK();
    const Map& current = p->second->map;
    auto first = current.lower_bound(from);
    auto last = to.empty() ? current.end() : current.lower_bound(to);
    if (first == last) return Status::OK();
    Map& map = Writable(partition);
    map.erase(map.lower_bound(from), to.empty() ? map.end() : map.lower_bound(to));
    return Status::OK();
  }

  Status DropPartition(std::string_view partition) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("droppartition", partition));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    auto p = partitions_.find(partition);
    if (p != partitions_.end()) partitions_.erase(p);
    return Status::OK();
  }

  Status Write(std::string_view partition, const WriteBatch& batch) override {
    REFKV_RETURN_IF_ERROR(CheckBatch("write", partition, batch));
    std::unique_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    if (batch.empty()) return Status::OK();
    Map& map = Writable(partition);
    for (const auto& op : batch.ops()) {
      if (op.kind == WriteBatch::Op::Kind::kPut) {
        map.insert_or_assign(op.key, op.value);
      } else {
        map.erase(op.key);
      }
    }
    return Status::OK();
  }

  Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                         const ScanOptions& options) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("scan", partition));
    std::unique_ptr<MemIterator> it;
    {
      std::shared_lock lock(mu_);
      REFKV_RETURN_IF_ERROR(CheckOpen());
      auto p = partitions_.find(partition);
      it = std::make_unique<MemIterator>(p == partitions_.end() ? EmptySnapshot() : p->second,
                                         options.start, options.end);
    }
    it->Seek(options.start);
    return std::unique_ptr<Iterator>(std::move(it));
  }

  Result<std::vector<std::string>> ListPartitions() override {
    std::shared_lock lock(mu_);
    REFKV_RETURN_IF_ERROR(CheckOpen());
    std::vector<std::string> out;
    for (const auto& [name, map] : partitions_) out.push_back(name);
    return out;
  }

  std::vector<StoreProperty> Properties() override {
    std::shared_lock lock(mu_);
    size_t keys = 0;
    for (const auto& [name, snapshot] : partitions_) keys += snapshot->map.size();
    return {{"partitions", std::to_string(partitions_.size())},
            {"keys", std::to_string(keys)},
            {"persistence", "none"}};
  }

  Status Close() override {
    std::unique_lock lock(mu_);
    closed_ = true;
    partitions_.clear();
    return Status::OK();
  }

 private:
  static std::shared_ptr<const Snapshot> EmptySnapshot() {
    static const auto* empty = new std::shared_ptr<const Snapshot>(std::make_shared<Snapshot>());
    return *empty;
  }

  Status CheckOpen() const {
    return closed_ ? Status::IOError("mem store is closed") : Status::OK();
  }

  // Requires mu_ held (shared or exclusive).
  const std::string* Find(std::string_view partition, std::string_view key) const {
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) return nullptr;
    const Map& map = p->second->map;
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }

  // Requires mu_ held exclusively. Copies the partition's map first if an iterator
  // shares it, so that iterator keeps its snapshot.
  Map& Writable(std::string_view partition) {
    auto p = partitions_.find(partition);
    if (p == partitions_.end()) {
      p = partitions_.emplace(std::string(partition), std::make_shared<Snapshot>()).first;
    } else if (p->second->readers.load(std::memory_order_acquire) > 0) {
      auto copy = std::make_shared<Snapshot>();
      copy->map = p->second->map;
      p->second = std::move(copy);
    }
    return p->second->map;
  }

  void EraseKey(std::string_view partition, std::string_view key) {
    Map& map = Writable(partition);
    auto it = map.find(key);
    if (it != map.end()) map.erase(it);
  }

  std::shared_mutex mu_;
  bool closed_ = false;
  std::map<std::string, std::shared_ptr<Snapshot>, std::less<>> partitions_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenMemStore(const Uri& /*uri*/, const OpenOptions& /*options*/) {
  return std::unique_ptr<Store>(std::make_unique<MemStore>());
}

}  // namespace refkv::kv
