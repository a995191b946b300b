#include "refstore/internal/codec.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "base/coding.h"
#include "base/hex.h"
#include "engine/store.h"

namespace refkv::refstore::internal {
namespace {

void PutField(std::string* out, std::string_view field) {
  PutFixed64(out, field.size());
  out->append(field);
}

void PutInt(std::string* out, int64_t v) { PutFixed64(out, static_cast<uint64_t>(v)); }

}  // namespace

std::string Encode(const google::protobuf::MessageLite& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}

Status Decode(std::string_view bytes, google::protobuf::MessageLite* message,
              std::string_view what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("cannot parse " + std::string(message->GetTypeName()) + " at " +
                              std::string(what) + " (" + std::to_string(bytes.size()) + " bytes)");
  }
  return Status::OK();
}

std::string ComputeCommitId(const pb::Commit& commit) {
  std::string enc;
  PutField(&enc, "refkv-commit-v1");
  PutInt(&enc, commit.parents_size());
  for (const auto& p : commit.parents()) PutField(&enc, p);
  PutField(&enc, commit.committer());
  PutField(&enc, commit.message());
  std::vector<std::pair<std::string, std::string>> meta(commit.metadata().begin(),
                                                        commit.metadata().end());
  std::sort(meta.begin(), meta.end());
  PutInt(&enc, static_cast<int64_t>(meta.size()));
  for (const auto& [k, v] : meta) {
    PutField(&enc, k);
    PutField(&enc, v);
  }
  PutInt(&enc, commit.creation_time_ms());
  PutInt(&enc, commit.generation());
  PutField(&enc, commit.metarange_id());
  PutInt(&enc, commit.folded_tokens_size());
  for (const auto& t : commit.folded_tokens()) PutField(&enc, t);
  XXH128_hash_t h = XXH3_128bits(enc.data(), enc.size());
  return HexUint64(h.high64) + HexUint64(h.low64);
}

RepositoryInfo ToInfo(const pb::Repository& repo) {
  RepositoryInfo info;
  info.name = repo.name();
  info.default_branch = repo.default_branch();
  info.creation_time_ms = repo.creation_time_ms();
  info.instance_id = repo.instance_id();
  info.storage_namespace = repo.storage_namespace();
  return info;
}

BranchInfo ToInfo(const pb::Branch& branch) {
  BranchInfo info;
  info.name = branch.name();
  info.commit_id = branch.commit_id();
  info.sealed_tokens = static_cast<size_t>(branch.sealed_tokens_size());
  return info;
}

CommitInfo ToInfo(const pb::Commit& commit) {
  CommitInfo info;
  info.id = commit.id();
  info.parents.assign(commit.parents().begin(), commit.parents().end());
  info.committer = commit.committer();
  info.message = commit.message();
  info.metadata.insert(commit.metadata().begin(), commit.metadata().end());
  info.creation_time_ms = commit.creation_time_ms();
  info.generation = commit.generation();
  info.metarange_id = commit.metarange_id();
  return info;
}

TagInfo ToInfo(const pb::Tag& tag) {
  TagInfo info;
  info.name = tag.name();
  info.commit_id = tag.commit_id();
  info.creation_time_ms = tag.creation_time_ms();
  return info;
}

}  // namespace refkv::refstore::internal
