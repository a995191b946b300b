#include "tests/refstore/interposed_store.h"

namespace refkv::testing {
namespace {

Status Injected(std::string_view verb, std::string_view partition, std::string_view key) {
  return Status::IOError("injected fault: " + std::string(verb) + " " + kv::Printable(partition) +
                         "/" + kv::Printable(key));
}

Status AfterWrite(const Status& s, Fault fault, std::string_view verb, std::string_view partition,
                  std::string_view key) {
  if (fault != Fault::kFailAfter) return s;
  return Status::UnknownOutcome("injected fault after " + std::string(verb) + " " +
                                kv::Printable(partition) + "/" + kv::Printable(key));
}

}  // namespace

#define REFKV_INTERPOSE_(verb, partition, key) \
  Fault fault = Ask(verb, partition, key);     \
  if (fault == Fault::kFailBefore) return Injected(verb, partition, key);

Result<std::string> InterposedStore::Get(std::string_view partition, std::string_view key) {
  REFKV_INTERPOSE_("get", partition, key);
  auto r = base_.Get(partition, key);
  if (fault == Fault::kFailAfter) return Injected("get", partition, key);
  return r;
}

Result<std::vector<Result<std::string>>> InterposedStore::MultiGet(
    std::string_view partition, const std::vector<std::string>& keys) {
  REFKV_INTERPOSE_("multiget", partition, keys.empty() ? std::string_view() : keys[0]);
  auto r = base_.MultiGet(partition, keys);
  if (fault == Fault::kFailAfter) return Injected("multiget", partition, "");
  return r;
}

Status InterposedStore::Set(std::string_view partition, std::string_view key,
                            std::string_view value) {
  REFKV_INTERPOSE_("set", partition, key);
  return AfterWrite(base_.Set(partition, key, value), fault, "set", partition, key);
}

Status InterposedStore::SetIf(std::string_view partition, std::string_view key,
                              std::string_view value, const kv::Predicate& predicate) {
  REFKV_INTERPOSE_("setif", partition, key);
  return AfterWrite(base_.SetIf(partition, key, value, predicate), fault, "setif", partition, key);
}

Status InterposedStore::Delete(std::string_view partition, std::string_view key) {
  REFKV_INTERPOSE_("delete", partition, key);
  return AfterWrite(base_.Delete(partition, key), fault, "delete", partition, key);
}

Status InterposedStore::DeleteIf(std::string_view partition, std::string_view key,
                                 const kv::Predicate& predicate) {
  REFKV_INTERPOSE_("deleteif", partition, key);
  return AfterWrite(base_.DeleteIf(partition, key, predicate), fault, "deleteif", partition, key);
}

Status InterposedStore::DeleteRange(std::string_view partition, std::string_view from,
                                    std::string_view to) {
  REFKV_INTERPOSE_("deleterange", partition, from);
  return AfterWrite(base_.DeleteRange(partition, from, to), fault, "deleterange", partition, from);
}

Status InterposedStore::DropPartition(std::string_view partition) {
  REFKV_INTERPOSE_("droppartition", partition, "");
  return AfterWrite(base_.DropPartition(partition), fault, "droppartition", partition, "");
}

Status InterposedStore::Write(std::string_view partition, const kv::WriteBatch& batch) {
  REFKV_INTERPOSE_("write", partition, "");
  return AfterWrite(base_.Write(partition, batch), fault, "write", partition, "");
}

Result<std::unique_ptr<kv::Iterator>> InterposedStore::Scan(std::string_view partition,
                                                            const kv::ScanOptions& options) {
  REFKV_INTERPOSE_("scan", partition, options.start);
  auto r = base_.Scan(partition, options);
  if (fault == Fault::kFailAfter) return Injected("scan", partition, options.start);
  return r;
}

Result<std::vector<std::string>> InterposedStore::ListPartitions() {
  REFKV_INTERPOSE_("listpartitions", "", "");
  auto r = base_.ListPartitions();
  if (fault == Fault::kFailAfter) return Injected("listpartitions", "", "");
  return r;
}

Status InterposedStore::PreparePartitions(const std::vector<std::string>& partitions) {
  REFKV_INTERPOSE_("preparepartitions", partitions.empty() ? "" : partitions[0], "");
  return AfterWrite(base_.PreparePartitions(partitions), fault, "preparepartitions", "", "");
}

Status InterposedStore::Sync() {
  REFKV_INTERPOSE_("sync", "", "");
  return AfterWrite(base_.Sync(), fault, "sync", "", "");
}

}  // namespace refkv::testing
