// CopyStore: parallel per-partition copy, then a verification pass on both sides.
#include "format/copy.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/hex.h"
#include "engine/metadata.h"
#include "format/dump/encoding.h"
#include "format/load/pending_load.h"

namespace refkv::format {
namespace {

Result<std::vector<std::string>> Choose(kv::Store& source, const CopyOptions& options) {
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, source.ListPartitions());
  std::vector<std::string> out;
  if (options.partitions.empty()) {
    for (auto& p : all) {
      if (p != kv::kMetaPartition) out.push_back(std::move(p));
    }
  } else {
    for (const auto& p : options.partitions) {
      if (p == kv::kMetaPartition) {
        return Status::InvalidArgument("copy: the metadata partition is not copied");
      }
      if (std::find(all.begin(), all.end(), p) == all.end()) {
        return Status::NotFound("copy: partition '" + kv::Printable(p) +
                                "' does not exist in the source");
      }
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status CheckVersions(kv::Store& source, kv::Store& target) {
  auto a = kv::ReadMetadata(source);
  auto b = kv::ReadMetadata(target);
  if (!a.ok() && !a.status().IsNotFound()) return a.status();
  if (!b.ok() && !b.status().IsNotFound()) return b.status();
  if (a.ok() && b.ok() && a->schema_version != b->schema_version) {
    return Status::VersionMismatch("copy: source schema version " +
                                   std::to_string(a->schema_version) + " differs from target's " +
                                   std::to_string(b->schema_version) +
                                   "; migrate one of them first");
  }
  return Status::OK();
}

// The pending-load record of this copy (format/load/pending_load.h): the source is
// known by its store id (its name if it has no metadata) and the partitions chosen.
Result<kv::PendingLoad> CopyLoad(kv::Store& source, const std::vector<std::string>& partitions,
                                 const CopyOptions& options) {
  const std::string from = options.source_name.empty() ? "SOURCE" : options.source_name;
  const std::string to = options.target_name.empty() ? "TARGET" : options.target_name;
  kv::PendingLoad load;
  load.what = "copy from " + from;
  auto md = kv::ReadMetadata(source);
  if (!md.ok() && !md.status().IsNotFound()) return md.status();
  load.identity = "copy " + (md.ok() ? "store " + md->store_id : "uri " + from);
  if (!options.partitions.empty()) {
    std::string names;
    for (const auto& p : partitions) names += p + '\0';
    load.identity += " partitions " + HexUint64(XXH64(names.data(), names.size(), 0));
  }
  std::vector<std::string_view> args{"refkv", "kv", "migrate", "--from", from, "--to", to};
  for (const auto& p : options.partitions) args.insert(args.end(), {"--partition", p});
  load.resume = internal::CommandLine(args);
  return load;
}

// Copies every partition of `partitions` (the pending-load record written).
Status CopyPartitions(kv::Store& source, kv::Store& target,
                      const std::vector<std::string>& partitions, const CopyOptions& options,
                      bool allow_non_empty, CopySummary* out) {
  CopySummary& summary = *out;
  const size_t batch_size = std::max<size_t>(1, options.write_batch);
  REFKV_RETURN_IF_ERROR(target.PreparePartitions(partitions));
  std::mutex mu;  // guards summary, first_error and the progress callback
  Status first_error;
  std::atomic<size_t> next{0};
  Progress progress{"copy"};

  auto copy_one = [&](const std::string& partition) -> Status {
    kv::ScanOptions scan;
    scan.batch_size = batch_size;
    // A partition the target does not hold yet (every partition of a first run: the
    // target was checked empty) is bulk-loaded with InsertNew where the driver has it;
    // a re-run writes partitions that hold data with Write, which overwrites. If
    // InsertNew finds a key (someone wrote meanwhile) or cannot tell whether its
    // batch committed, the batch and the rest of the partition go through Write.
    bool insert_new = !allow_non_empty;
    if (!insert_new) {
      REFKV_ASSIGN_OR_RETURN(auto existing, target.Scan(partition, {}));
      REFKV_RETURN_IF_ERROR(existing->status());
      insert_new = !existing->Valid();
    }
    REFKV_ASSIGN_OR_RETURN(auto it, source.Scan(partition, scan));
    kv::WriteBatch batch;
    uint64_t bytes = 0;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      Status s = Status::Unsupported("");
      if (insert_new) {
        s = target.InsertNew(partition, batch);
        if (s.IsUnsupported() || s.IsAlreadyExists() || s.IsUnknownOutcome()) {
          insert_new = false;
        }
      }
      if (!insert_new) s = target.Write(partition, batch);
      if (!s.ok()) return s.WithContext("copy: partition '" + kv::Printable(partition) + "'");
      std::lock_guard lock(mu);
      summary.records += batch.size();
      summary.bytes += bytes;
      if (options.progress) {
        progress.records = summary.records;
        progress.bytes = summary.bytes;
        options.progress(progress);
      }
      batch.Clear();
      bytes = 0;
      return Status::OK();
    };
    for (; it->Valid(); it->Next()) {
      batch.Put(it->key(), it->value());
      bytes += it->key().size() + it->value().size();
      if (batch.size() >= batch_size || bytes >= options.write_batch_bytes) {
        REFKV_RETURN_IF_ERROR(flush());
      }
    }
    REFKV_RETURN_IF_ERROR(it->status());
    return flush();
  };
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < partitions.size();) {
      {
        std::lock_guard lock(mu);
        if (!first_error.ok()) return;
      }
      Status s = copy_one(partitions[i]);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = s;
        return;
      }
    }
  };
  unsigned n = std::min<unsigned>(options.threads, std::max<size_t>(1, partitions.size()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace

Result<PartitionDigest> DigestPartition(kv::Store& store, std::string_view partition) {
  kv::ScanOptions scan;
  scan.batch_size = 1000;
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(partition, scan));
  internal::RecordHash hash;
  PartitionDigest d;
  for (; it->Valid(); it->Next()) {
    d.bytes += hash.Add(partition, it->key(), it->value());
    ++d.records;
  }
  d.checksum = hash.Digest();
  REFKV_RETURN_IF_ERROR(it->status());
  return d;
}

Result<CopySummary> CopyStore(kv::Store& source, kv::Store& target, const CopyOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (options.threads == 0 || options.threads > 64) {
    return Status::InvalidArgument("copy: threads must be 1..64");
  }
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> partitions, Choose(source, options));
  REFKV_RETURN_IF_ERROR(CheckVersions(source, target));
  CopySummary summary;
  REFKV_ASSIGN_OR_RETURN(kv::PendingLoad load, CopyLoad(source, partitions, options));
  REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> pending,
                         internal::CheckPendingLoad(target, load));
  // A rerun of an interrupted copy finishes it: the data it finds is its own.
  const bool allow_non_empty = options.allow_non_empty_target || pending.has_value();
  if (!allow_non_empty) {
    REFKV_ASSIGN_OR_RETURN(std::string full, internal::FirstNonEmptyPartition(target));
    if (!full.empty()) {
      return Status::AlreadyExists("copy: the target is not empty (partition '" +
                                   kv::Printable(full) +
                                   "' holds data); allow a non-empty target to copy into it "
                                   "anyway (--allow-non-empty)");
    }
  }
  if (!pending) REFKV_RETURN_IF_ERROR(internal::BeginLoad(target, load));
  Status copied = CopyPartitions(source, target, partitions, options, allow_non_empty, &summary);
  if (copied.ok()) copied = internal::FinishLoad(target);
  REFKV_RETURN_IF_ERROR(internal::Unfinished(copied, pending ? *pending : load));

  if (options.verify) {
    Progress vp{"verify", 0, 0, summary.records, 0};
    for (const auto& partition : partitions) {
      PartitionCheck check{partition};
      REFKV_ASSIGN_OR_RETURN(check.source, DigestPartition(source, partition));
      REFKV_ASSIGN_OR_RETURN(check.target, DigestPartition(target, partition));
      if (!check.match()) {
        return Status::Corruption(
            "copy: verification failed for partition '" + kv::Printable(partition) +
            "': source has " + std::to_string(check.source.records) + " records, target " +
            std::to_string(check.target.records) +
            (check.source.records == check.target.records ? " (checksums differ)" : ""));
      }
      vp.records += check.source.records;
      if (options.progress) options.progress(vp);
      summary.checks.push_back(std::move(check));
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace refkv::format
