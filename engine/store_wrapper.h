// kv::StoreWrapper: a Store that forwards every call to another Store (as RocksDB's
// StackableDB). Subclasses override only the verbs they change (count, delay, fail,
// log ...); everything else reaches the wrapped store unchanged, including the verbs
// with a default in kv::Store (MultiGet, PreparePartitions, IngestSstFiles, InsertNew,
// Properties, EstimateRange, Sync, Checkpoint) and shared().
//
//   class CountingStore : public kv::StoreWrapper {
//    public:
//     using StoreWrapper::StoreWrapper;
//     Status Set(std::string_view p, std::string_view k, std::string_view v) override {
//       ++sets;
//       return StoreWrapper::Set(p, k, v);
//     }
//     std::atomic<int> sets{0};
//   };
//
// Ownership: built on a reference, the wrapper does not own the wrapped store (its owner
// closes and destroys it, after the wrapper); built on a unique_ptr, it does (destroyed
// with the wrapper). Either way Close() forwards; a subclass that must leave the wrapped
// store open overrides it.
//
// Thread-safety: that of the wrapped store; the wrapper itself holds no state.
#ifndef REFKV_ENGINE_STORE_WRAPPER_H_
#define REFKV_ENGINE_STORE_WRAPPER_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/store.h"

namespace refkv::kv {

class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(Store& target) : target_(&target) {}
  explicit StoreWrapper(std::unique_ptr<Store> target)
      : owned_(std::move(target)), target_(owned_.get()) {}

  // The wrapped store.
  Store& target() const { return *target_; }

  std::string_view driver() const override { return target_->driver(); }
  bool shared() const override { return target_->shared(); }
  Result<std::string> Get(std::string_view partition, std::string_view key) override {
    return target_->Get(partition, key);
  }
  Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                    const std::vector<std::string>& keys) override {
    return target_->MultiGet(partition, keys);
  }
  Status Set(std::string_view partition, std::string_view key, std::string_view value) override {
    return target_->Set(partition, key, value);
  }
  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const Predicate& predicate) override {
    return target_->SetIf(partition, key, value, predicate);
  }
  Status Delete(std::string_view partition, std::string_view key) override {
    return target_->Delete(partition, key);
  }
  Status DeleteIf(std::string_view partition, std::string_view key,
                  const Predicate& predicate) override {
    return target_->DeleteIf(partition, key, predicate);
  }
  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override {
    return target_->DeleteRange(partition, from, to);
  }
  Status DropPartition(std::string_view partition) override {
    return target_->DropPartition(partition);
  }
  Status Write(std::string_view partition, const WriteBatch& batch) override {
    return target_->Write(partition, batch);
  }
  Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                         const ScanOptions& options) override {
    return target_->Scan(partition, options);
  }
  Result<std::vector<std::string>> ListPartitions() override { return target_->ListPartitions(); }
  Status PreparePartitions(const std::vector<std::string>& partitions) override {
    return target_->PreparePartitions(partitions);
  }
  Status IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                        bool move) override {
    return target_->IngestSstFiles(partition, files, move);
  }
  Status InsertNew(std::string_view partition, const WriteBatch& batch) override {
    return target_->InsertNew(partition, batch);
  }
  std::vector<StoreProperty> Properties() override { return target_->Properties(); }
  Result<SizeEstimate> EstimateRange(std::string_view partition, std::string_view start,
                                     std::string_view end) override {
    return target_->EstimateRange(partition, start, end);
  }
  Status Sync() override { return target_->Sync(); }
  Status Checkpoint(std::string_view dir) override { return target_->Checkpoint(dir); }
  Status Close() override { return target_->Close(); }

 private:
  std::unique_ptr<Store> owned_;  // null when the wrapper does not own the target
  Store* target_;
};

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_STORE_WRAPPER_H_
