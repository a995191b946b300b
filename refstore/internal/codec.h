// Protobuf records <-> bytes, records <-> the public structs, and commit ids.
//
// A commit id is the hex XXH3-128 of a stable, length-prefixed encoding of every field of
// the commit but the id (ComputeCommitId): independent of protobuf's wire format, so a
// protobuf upgrade can never change an id. Not a cryptographic hash: ids identify
// content, they do not authenticate it.
//
// Thread-safety: pure functions.
#ifndef REFKV_REFSTORE_INTERNAL_CODEC_H_
#define REFKV_REFSTORE_INTERNAL_CODEC_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "refstore/refstore.h"
#include "refstore/refstore.pb.h"

namespace refkv::refstore::internal {

// Serializes `message`; Internal if protobuf refuses (it does not throw for these).
std::string Encode(const google::protobuf::MessageLite& message);
// Parses `bytes` into `message`. Corruption naming `what` (partition and key) on failure.
Status Decode(std::string_view bytes, google::protobuf::MessageLite* message,
              std::string_view what);

std::string ComputeCommitId(const pb::Commit& commit);

RepositoryInfo ToInfo(const pb::Repository& repo);
BranchInfo ToInfo(const pb::Branch& branch);
CommitInfo ToInfo(const pb::Commit& commit);
TagInfo ToInfo(const pb::Tag& tag);

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_INTERNAL_CODEC_H_
