#include "tests/support/fault_store.h"

#include <signal.h>
#include <unistd.h>

namespace refkv::testing {
namespace {

Status Injected(std::string_view verb, std::string_view partition, std::string_view key) {
  return Status::IOError("injected fault: " + std::string(verb) + " " + kv::Printable(partition) +
                         "/" + kv::Printable(key));
}

void KillIf(Fault fault) {
  if (fault == Fault::kKillAfter) ::kill(::getpid(), SIGKILL);
}

// After a write: kFailAfter turns its outcome into UnknownOutcome; kKillAfter kills.
Status AfterWrite(const Status& s, Fault fault, std::string_view verb, std::string_view partition,
                  std::string_view key) {
  KillIf(fault);
  if (fault != Fault::kFailAfter) return s;
  return Status::UnknownOutcome("injected fault after " + std::string(verb) + " " +
                                kv::Printable(partition) + "/" + kv::Printable(key));
}

// After a read: kFailAfter turns its result into IOError; kKillAfter kills.
template <typename T>
T AfterRead(T r, Fault fault, std::string_view verb, std::string_view partition,
            std::string_view key) {
  KillIf(fault);
  if (fault == Fault::kFailAfter) return Injected(verb, partition, key);
  return r;
}

}  // namespace

Fault FaultStore::Ask(std::string_view verb, std::string_view partition, std::string_view key,
                      bool write) {
  ++calls_;
  if (write) ++writes_;
  return hook_ ? hook_(Call{verb, partition, key, write}) : Fault::kNone;
}

#define REFKV_INTERPOSE_(verb, partition, key, write) \
  Fault fault = Ask(verb, partition, key, write);     \
  if (fault == Fault::kFailBefore) return Injected(verb, partition, key);

Result<std::string> FaultStore::Get(std::string_view partition, std::string_view key) {
  REFKV_INTERPOSE_("get", partition, key, false);
  return AfterRead(StoreWrapper::Get(partition, key), fault, "get", partition, key);
}

Result<std::vector<Result<std::string>>> FaultStore::MultiGet(
    std::string_view partition, const std::vector<std::string>& keys) {
  REFKV_INTERPOSE_("multiget", partition, keys.empty() ? std::string_view() : keys[0], false);
  return AfterRead(StoreWrapper::MultiGet(partition, keys), fault, "multiget", partition, "");
}

Status FaultStore::Set(std::string_view partition, std::string_view key, std::string_view value) {
  REFKV_INTERPOSE_("set", partition, key, true);
  return AfterWrite(StoreWrapper::Set(partition, key, value), fault, "set", partition, key);
}

Status FaultStore::SetIf(std::string_view partition, std::string_view key, std::string_view value,
                         const kv::Predicate& predicate) {
  REFKV_INTERPOSE_("setif", partition, key, true);
  return AfterWrite(StoreWrapper::SetIf(partition, key, value, predicate), fault, "setif",
                    partition, key);
}

Status FaultStore::Delete(std::string_view partition, std::string_view key) {
  REFKV_INTERPOSE_("delete", partition, key, true);
  return AfterWrite(StoreWrapper::Delete(partition, key), fault, "delete", partition, key);
}

Status FaultStore::DeleteIf(std::string_view partition, std::string_view key,
                            const kv::Predicate& predicate) {
  REFKV_INTERPOSE_("deleteif", partition, key, true);
  return AfterWrite(StoreWrapper::DeleteIf(partition, key, predicate), fault, "deleteif", partition,
                    key);
}

Status FaultStore::DeleteRange(std::string_view partition, std::string_view from,
                               std::string_view to) {
  REFKV_INTERPOSE_("deleterange", partition, from, true);
  return AfterWrite(StoreWrapper::DeleteRange(partition, from, to), fault, "deleterange", partition,
                    from);
}

Status FaultStore::DropPartition(std::string_view partition) {
  REFKV_INTERPOSE_("droppartition", partition, "", true);
  return AfterWrite(StoreWrapper::DropPartition(partition), fault, "droppartition", partition, "");
}

Status FaultStore::Write(std::string_view partition, const kv::WriteBatch& batch) {
  REFKV_INTERPOSE_("write", partition, "", true);
  return AfterWrite(StoreWrapper::Write(partition, batch), fault, "write", partition, "");
}

Status FaultStore::InsertNew(std::string_view partition, const kv::WriteBatch& batch) {
  REFKV_INTERPOSE_("insertnew", partition, "", true);
  return AfterWrite(StoreWrapper::InsertNew(partition, batch), fault, "insertnew", partition, "");
}

Status FaultStore::IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                                  bool move) {
  REFKV_INTERPOSE_("ingestsstfiles", partition, "", true);
  return AfterWrite(StoreWrapper::IngestSstFiles(partition, files, move), fault, "ingestsstfiles",
                    partition, "");
}

Result<std::unique_ptr<kv::Iterator>> FaultStore::Scan(std::string_view partition,
                                                       const kv::ScanOptions& options) {
  REFKV_INTERPOSE_("scan", partition, options.start, false);
  return AfterRead(StoreWrapper::Scan(partition, options), fault, "scan", partition, options.start);
}

Result<std::vector<std::string>> FaultStore::ListPartitions() {
  REFKV_INTERPOSE_("listpartitions", "", "", false);
  return AfterRead(StoreWrapper::ListPartitions(), fault, "listpartitions", "", "");
}

Status FaultStore::PreparePartitions(const std::vector<std::string>& partitions) {
  REFKV_INTERPOSE_("preparepartitions", partitions.empty() ? "" : partitions[0], "", true);
  return AfterWrite(StoreWrapper::PreparePartitions(partitions), fault, "preparepartitions", "",
                    "");
}

Status FaultStore::Sync() {
  REFKV_INTERPOSE_("sync", "", "", false);
  return AfterWrite(StoreWrapper::Sync(), fault, "sync", "", "");
}

Status FaultStore::Checkpoint(std::string_view dir) {
  REFKV_INTERPOSE_("checkpoint", "", "", false);
  return AfterWrite(StoreWrapper::Checkpoint(dir), fault, "checkpoint", "", "");
}

#undef REFKV_INTERPOSE_

}  // namespace refkv::testing
