#include "refstore/internal/keys.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "base/hex.h"
#include "base/random.h"
#include "engine/store.h"

namespace refkv::refstore::internal {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewTimedId() {
  std::mt19937_64& rng = ThreadRng();
  uint64_t a = rng(), b = rng();
  // 12 digits of the time, 4 + 16 random ones: kTimedIdLength.
  return HexUint64(static_cast<uint64_t>(NowMs()), 12) + HexUint64(a, 4) + HexUint64(b);
}

std::optional<int64_t> TimedIdMs(std::string_view id) {
  if (id.size() < kTimedIdLength) return std::nullopt;
  int64_t ms = 0;
  for (size_t i = 0; i < 12; ++i) {
    const int digit = HexDigitValue(id[i], HexCase::kLower);
    if (digit < 0) return std::nullopt;
    ms = ms * 16 + digit;
  }
  return ms;
}

Status ValidateRepoName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxRepoNameBytes && IsAlnum(name[0]);
  for (char c : name) ok = ok && (IsAlnum(c) || c == '.' || c == '_' || c == '-');
  if (!ok) {
    return Status::InvalidArgument("repository name '" + kv::Printable(name) +
                                   "' must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  }
  return Status::OK();
}

Status ValidateRefName(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxRefNameBytes && IsAlnum(name[0]);
  for (char c : name) ok = ok && (IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == '/');
  if (!ok) {
    return Status::InvalidArgument(std::string(what) + " name '" + kv::Printable(name) +
                                   "' must match [A-Za-z0-9][A-Za-z0-9._/-]{0,127}");
  }
  return Status::OK();
}

Status ValidateReadPath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("path must not be empty");
  return Status::OK();
}

Status ValidatePath(std::string_view path) {
  REFKV_RETURN_IF_ERROR(ValidateReadPath(path));
  if (path.size() > kMaxPathBytes) {
    return Status::InvalidArgument("path '" + kv::Printable(path) + "' is " +
                                   std::to_string(path.size()) + " bytes, more than the limit of " +
                                   std::to_string(kMaxPathBytes) +
                                   " bytes (refstore::kMaxPathBytes)");
  }
  return Status::OK();
}

Status ValidateEntryValue(std::string_view path, std::string_view value) {
  if (value.size() > kMaxEntryValueBytes) {
    return Status::InvalidArgument(
        "the value of path '" + kv::Printable(path) + "' is " + std::to_string(value.size()) +
        " bytes, more than the limit of " + std::to_string(kMaxEntryValueBytes) +
        " bytes (refstore::kMaxEntryValueBytes)");
  }
  return Status::OK();
}

std::string RefsPartition(std::string_view repo, std::string_view instance) {
  return std::string(kRepoPartitionPrefix) + std::string(repo) + "/" + std::string(instance) +
         "/refs";
}

std::string StagingPartition(std::string_view repo, std::string_view instance) {
  return std::string(kRepoPartitionPrefix) + std::string(repo) + "/" + std::string(instance) +
         "/staging";
}

bool ParseRepoPartition(std::string_view partition, RepoPartition* out) {
  if (partition.substr(0, kRepoPartitionPrefix.size()) != kRepoPartitionPrefix) return false;
  std::string_view rest = partition.substr(kRepoPartitionPrefix.size());
  size_t a = rest.find('/');
  if (a == std::string_view::npos) return false;
  size_t b = rest.find('/', a + 1);
  if (b == std::string_view::npos) return false;
  out->name = std::string(rest.substr(0, a));
  out->instance = std::string(rest.substr(a + 1, b - a - 1));
  out->kind = std::string(rest.substr(b + 1));
  return true;
}

}  // namespace refkv::refstore::internal
