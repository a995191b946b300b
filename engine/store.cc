#include "engine/store.h"

#include <cstdio>

#include "base/hex.h"

namespace refkv::kv {

bool Predicate::HoldsFor(const std::string* current) const {
  return current != nullptr ? Holds(true, *current) : Holds(false, {});
}

bool Predicate::Holds(bool present, std::string_view current) const {
  switch (kind_) {
    case Kind::kAbsent:
      return !present;
    case Kind::kExists:
      return present;
    case Kind::kEquals:
      return present && current == value_;
  }
  return false;
}

Status KeyNotFound(std::string_view partition, std::string_view key) {
  return Status::NotFound("key '" + Printable(key) + "' not found in partition '" +
                          Printable(partition) + "'");
}

Status PredicateNotHeld(std::string_view partition, std::string_view key,
                        const Predicate& predicate) {
  return Status::PredicateFailed("predicate " + predicate.ToString() + " does not hold for key '" +
                                 Printable(key) + "' in partition '" + Printable(partition) + "'");
}

Status EvaluatePredicate(std::string_view partition, std::string_view key,
                         const Predicate& predicate, bool present, std::string_view current) {
  if (predicate.Holds(present, current)) return Status::OK();
  return PredicateNotHeld(partition, key, predicate);
}

std::string Predicate::ToString() const {
  switch (kind_) {
    case Kind::kAbsent:
      return "absent";
    case Kind::kExists:
      return "exists";
    case Kind::kEquals:
      return "equals(" + Printable(value_, 32) + ")";
  }
  return "?";
}

ScanOptions ScanOptions::Prefix(std::string_view prefix) {
  ScanOptions options;
  options.start = std::string(prefix);
  options.end = PrefixUpperBound(prefix);
  return options;
}

std::string PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto last = static_cast<unsigned char>(bound.back());
    if (last != 0xFF) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

Result<std::vector<Result<std::string>>> Store::MultiGet(std::string_view partition,
                                                         const std::vector<std::string>& keys) {
  std::vector<Result<std::string>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(Get(partition, key));
  return out;
}

Status CheckPartition(std::string_view verb, std::string_view partition) {
  if (partition.empty()) {
    return Status::InvalidArgument(std::string(verb) + ": partition must not be empty");
  }
  return Status::OK();
}

Status CheckPartitionAndKey(std::string_view verb, std::string_view partition,
                            std::string_view key) {
  REFKV_RETURN_IF_ERROR(CheckPartition(verb, partition));
  if (key.empty()) {
    return Status::InvalidArgument(std::string(verb) + ": key must not be empty (partition '" +
                                   Printable(partition) + "')");
  }
  return Status::OK();
}

namespace {

// "<verb>: <what> is <size> bytes, more than the limit of <limit> bytes (<constant>)".
Status TooLong(std::string_view verb, const std::string& what, size_t size, size_t limit,
               std::string_view constant) {
  return Status::InvalidArgument(std::string(verb) + ": " + what + " is " + std::to_string(size) +
                                 " bytes, more than the limit of " + std::to_string(limit) +
                                 " bytes (" + std::string(constant) + ")");
}

}  // namespace

Status CheckWritePartition(std::string_view verb, std::string_view partition) {
  REFKV_RETURN_IF_ERROR(CheckPartition(verb, partition));
  if (partition.size() > kMaxPartitionBytes) {
    return TooLong(verb, "partition name '" + Printable(partition) + "'", partition.size(),
                   kMaxPartitionBytes, "kv::kMaxPartitionBytes");
  }
  return Status::OK();
}

Status CheckWrite(std::string_view verb, std::string_view partition, std::string_view key,
                  std::string_view value) {
  REFKV_RETURN_IF_ERROR(CheckWritePartition(verb, partition));
  REFKV_RETURN_IF_ERROR(CheckPartitionAndKey(verb, partition, key));
  if (key.size() <= kMaxKeyBytes && value.size() <= kMaxValueBytes) return Status::OK();
  // Only now: the hot path builds no message.
  const std::string where =
      "key '" + Printable(key) + "' of partition '" + Printable(partition) + "'";
  if (key.size() > kMaxKeyBytes) {
    return TooLong(verb, where, key.size(), kMaxKeyBytes, "kv::kMaxKeyBytes");
  }
  return TooLong(verb, "the value of " + where, value.size(), kMaxValueBytes, "kv::kMaxValueBytes");
}

Status CheckBatch(std::string_view verb, std::string_view partition, const WriteBatch& batch) {
  REFKV_RETURN_IF_ERROR(CheckPartition(verb, partition));
  for (const auto& op : batch.ops()) {
    REFKV_RETURN_IF_ERROR(op.kind == WriteBatch::Op::Kind::kPut
                              ? CheckWrite(verb, partition, op.key, op.value)
                              : CheckPartitionAndKey(verb, partition, op.key));
  }
  return Status::OK();
}

Status Store::PreparePartitions(const std::vector<std::string>& partitions) {
  for (const auto& name : partitions) REFKV_RETURN_IF_ERROR(CheckWritePartition("prepare", name));
  return Status::OK();
}

std::string Printable(std::string_view bytes, size_t max_len) {
  std::string out;
  size_t n = bytes.size() < max_len ? bytes.size() : max_len;
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      AppendHexByte(&out, c);
    }
  }
  if (n < bytes.size()) out += "...";
  return out;
}

}  // namespace refkv::kv
