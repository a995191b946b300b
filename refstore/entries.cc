// Staged writes, and reads and listings at a ref.
//
// Why a write re-reads its branch: a commit first rotates the branch's staging token,
// then reads the sealed token. A write that read the branch before the rotation but lands
// in the sealed token after the commit read it would be lost. So after writing, the
// writer re-reads the branch; if the token changed, it writes again into the new one (a
// duplicate in the sealed token is harmless: the newer token wins). Per-key
// linearizability of the store makes this sufficient: if the re-read still sees the old
// token, the rotation - and so the commit's read - comes after the write.
//
// Why a read that falls through to committed data re-reads its branch: a commit that
// completes between our read of the branch and our read of its staging may already have
// released the staged entries (DeleteRange) that it moved into a commit we do not read.
// The commit moves the branch head before releasing anything, so an unchanged head on the
// re-read proves the staging we saw was complete.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <map>

#include "refstore/internal/ref_store_impl.h"
#include "refstore/internal/staged.h"

namespace refkv::refstore::internal {
namespace {

constexpr int kMaxReadAttempts = 16;

std::vector<std::string> TokensOf(const pb::Branch& branch) {
  std::vector<std::string> tokens;
  tokens.push_back(branch.staging_token());
  tokens.insert(tokens.end(), branch.sealed_tokens().begin(), branch.sealed_tokens().end());
  return tokens;
}

}  // namespace

Status RefStoreImpl::StageWrite(std::string_view repo_name, std::string_view branch_name,
                                std::string_view path, const pb::StagedEntry& entry) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidatePath(path));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch_name));
  const std::string value = Encode(entry);
  std::string token = state.branch.staging_token();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.Set(repo.staging, StagingKey(token, path), value), "staging path", path));
    REFKV_ASSIGN_OR_RETURN(BranchState now, LoadBranch(repo, branch_name));
    if (now.branch.staging_token() == token) {
      return SyncIf(options_.sync_staged_writes, "staged write of", path);
    }
    token = now.branch.staging_token();
  }
  return Status::Conflict("branch '" + std::string(branch_name) +
                          "' rotated its staging token on every try of a write");
}

Status RefStoreImpl::PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                              std::string_view value) {
  REFKV_RETURN_IF_ERROR(ValidatePath(path));
  REFKV_RETURN_IF_ERROR(ValidateEntryValue(path, value));
  pb::StagedEntry entry;
  entry.set_value(std::string(value));
  return StageWrite(repo, branch, path, entry);
}

Status RefStoreImpl::DeleteEntry(std::string_view repo, std::string_view branch,
                                 std::string_view path) {
  pb::StagedEntry entry;
  entry.set_tombstone(true);
  return StageWrite(repo, branch, path, entry);
}

Result<std::string> RefStoreImpl::GetEntry(std::string_view repo_name, std::string_view ref,
                                           std::string_view path) {
  REFKV_RETURN_IF_ERROR(ValidateReadPath(path));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  auto not_found = [&] {
    return Status::NotFound("path '" + kv::Printable(path) + "' does not exist at '" +
                            std::string(ref) + "' of '" + std::string(repo_name) + "'");
  };
  for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
    REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, ref));
    if (at.branch) {
      // Current token, then sealed tokens newest first: one MultiGet.
      std::vector<std::string> keys;
      for (const auto& token : TokensOf(at.branch->branch)) {
        keys.push_back(StagingKey(token, path));
      }
      REFKV_ASSIGN_OR_RETURN(auto found, store_.MultiGet(repo.staging, keys));
      for (size_t i = 0; i < found.size(); ++i) {
        if (found[i].status().IsNotFound()) continue;
        if (!found[i].ok()) return Annotate(found[i].status(), "staged path", path);
        REFKV_ASSIGN_OR_RETURN(
            auto entry, DecodeStaged(*found[i], repo.staging + "/" + kv::Printable(keys[i])));
        if (!entry) continue;  // an intent over nothing: an older token or committed data decides
        if (entry->kind_case() == pb::StagedEntry::kValue) return entry->value();
        return not_found();
      }
      REFKV_ASSIGN_OR_RETURN(BranchState now, LoadBranch(repo, ref));
      if (now.branch.commit_id() != at.branch->branch.commit_id()) continue;
    }
    auto value = committed_->Get(at.commit.metarange_id(), path);
    if (value.status().IsNotFound()) return not_found();
    if (!value.ok()) return Annotate(value.status(), "committed path", path);
    return value;
  }
  return Status::Conflict("branch '" + std::string(ref) + "' kept committing during a read");
}

namespace {

// Whether the encoded pb::StagedEntry `bytes` holds a value (not a tombstone), read from
// its field tags alone: a value's bytes are skipped, not copied. Parsing agrees with
// Decode: the last field of the oneof wins, unknown fields are skipped, and what Decode
// rejects is rejected here too. nullopt for a record holding a conditional write's intent
// (refstore/internal/staged.h): only a full decode says what it stands for.
Result<std::optional<bool>> StagedHoldsValue(std::string_view bytes, std::string_view what) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  bool value = false, intent = false;
  bool ok = true;
  while (ok) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      ok = in.ConsumedEntireMessage();  // false for a 0 tag before the end
      break;
    }
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (field == pb::StagedEntry::kValueFieldNumber &&
        type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      ok = in.ReadVarint32(&size) && in.Skip(static_cast<int>(size));
      value = true;
    } else if (field == pb::StagedEntry::kTombstoneFieldNumber &&
               type == WireFormatLite::WIRETYPE_VARINT) {
      uint64_t flag = 0;
      ok = in.ReadVarint64(&flag);
      value = false;
    } else if (field == pb::StagedEntry::kIntentFieldNumber) {
      ok = WireFormatLite::SkipField(&in, tag);
      intent = true;
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
  }
  if (!ok) {
    return Status::Corruption("cannot parse " + pb::StagedEntry().GetTypeName() + " at " +
                              std::string(what) + " (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (intent) return std::optional<bool>();
  return std::optional<bool>(value);
}

}  // namespace

Result<std::vector<std::pair<std::string, RefStoreImpl::Staged>>> RefStoreImpl::ReadStaged(
    const Repo& repo, const std::vector<std::string>& tokens, std::string_view prefix,
    std::string_view start, size_t limit, bool names_only) {
  std::map<std::string, Staged, std::less<>> merged;
  for (const auto& token : tokens) {
    kv::ScanOptions scan;
    scan.start = StagingKey(token, std::max(prefix, start));
    scan.end = kv::PrefixUpperBound(StagingKey(token, prefix));
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(repo.staging, scan));
    size_t n = 0;
    for (; it->Valid() && (limit == 0 || n < limit); it->Next(), ++n) {
      std::string path(it->key().substr(token.size()));
      if (merged.count(path)) continue;  // a newer token already decided this path
      if (names_only) {
        REFKV_ASSIGN_OR_RETURN(
            std::optional<bool> holds_value,
            StagedHoldsValue(it->value(), repo.staging + "/" + kv::Printable(it->key())));
        if (holds_value.has_value()) {
          merged.emplace(std::move(path),
                         *holds_value ? Staged(std::string()) : Staged(std::nullopt));
          continue;
        }
        // A conditional write's intent: decoded below, as every record is without names_only.
      }
      REFKV_ASSIGN_OR_RETURN(
          auto entry, DecodeStaged(it->value(), repo.staging + "/" + kv::Printable(it->key())));
      if (!entry) continue;  // an intent over nothing decides nothing
      merged.emplace(std::move(path), entry->kind_case() == pb::StagedEntry::kValue
                                          ? Staged(entry->value())
                                          : Staged(std::nullopt));
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  std::vector<std::pair<std::string, Staged>> out;
  for (auto& [path, staged] : merged) {
    if (limit != 0 && out.size() == limit) break;
    out.emplace_back(path, std::move(staged));
  }
  return out;
}

Result<EntryPage> RefStoreImpl::ListEntries(std::string_view repo_name, std::string_view ref,
                                            const ListEntriesOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  std::string start = options.prefix;
  if (!options.after.empty()) {
    std::string past = options.after + '\0';  // the first path > after
    if (past > start) start = std::move(past);
  }
  const std::string end = options.prefix.empty() ? "" : kv::PrefixUpperBound(options.prefix);
  const size_t limit = options.limit == 0 ? SIZE_MAX : options.limit;
  for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
    REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, ref));
    std::vector<std::pair<std::string, Staged>> staged;
    if (at.branch) {
      REFKV_ASSIGN_OR_RETURN(staged,
                             ReadStaged(repo, TokensOf(at.branch->branch), options.prefix, start,
                                        limit == SIZE_MAX ? 0 : limit, options.names_only));
    }
    // Staging was read up to `limit` paths per token: past the last one we saw, more
    // staged paths may exist, so the page stops there.
    const bool staged_truncated = limit != SIZE_MAX && staged.size() == limit;
    REFKV_ASSIGN_OR_RETURN(auto it, committed_->NewIterator(at.commit.metarange_id(), start, end));
    EntryPage page;
    size_t si = 0;
    std::string last;  // the last path decided (emitted or hidden by a tombstone)
    bool more = false;
    while (true) {
      const bool has_s = si < staged.size();
      const bool has_c = it->Valid();
      if (!has_s && staged_truncated) {
        more = true;
        break;
      }
      if (!has_s && !has_c) break;
      if (page.entries.size() == limit) {
        more = true;
        break;
      }
      int cmp = !has_s ? 1 : !has_c ? -1 : staged[si].first.compare(it->key());
      if (cmp <= 0) {
        last = staged[si].first;
        if (staged[si].second) page.entries.push_back({staged[si].first, *staged[si].second});
        ++si;
        if (cmp == 0) it->Next();
      } else {
        last = std::string(it->key());
        page.entries.push_back(
            {last, options.names_only ? std::string() : std::string(it->value())});
        it->Next();
      }
    }
    REFKV_RETURN_IF_ERROR(Annotate(it->status(), "listing committed data of", ref));
    if (more) page.next_after = last;
    if (at.branch) {
      REFKV_ASSIGN_OR_RETURN(BranchState now, LoadBranch(repo, ref));
      if (now.branch.commit_id() != at.branch->branch.commit_id()) continue;
    }
    return page;
  }
  return Status::Conflict("branch '" + std::string(ref) + "' kept committing during a listing");
}

Result<std::vector<EntryDiff>> RefStoreImpl::DiffUncommitted(std::string_view repo_name,
                                                             std::string_view branch,
                                                             size_t limit) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch));
    REFKV_ASSIGN_OR_RETURN(pb::Commit head, LoadCommit(repo, state.branch.commit_id()));
    REFKV_ASSIGN_OR_RETURN(auto staged, ReadStaged(repo, TokensOf(state.branch), "", "", 0));
    std::vector<EntryDiff> out;
    for (auto& [path, value] : staged) {
      if (limit != 0 && out.size() == limit) break;
      auto committed = committed_->Get(head.metarange_id(), path);
      if (!committed.ok() && !committed.status().IsNotFound()) {
        return Annotate(committed.status(), "committed path", path);
      }
      EntryDiff d;
      d.path = path;
      if (committed.ok()) d.left = *committed;
      d.right = value;
      if (!d.left && !d.right) continue;
      if (d.left && d.right && *d.left == *d.right) continue;
      d.kind = !d.left    ? EntryDiff::Kind::kAdded
               : !d.right ? EntryDiff::Kind::kRemoved
                          : EntryDiff::Kind::kChanged;
      out.push_back(std::move(d));
    }
    REFKV_ASSIGN_OR_RETURN(BranchState now, LoadBranch(repo, branch));
    if (now.branch.commit_id() != state.branch.commit_id()) continue;
    return out;
  }
  return Status::Conflict("branch '" + std::string(branch) + "' kept committing during a diff");
}

}  // namespace refkv::refstore::internal
