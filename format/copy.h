// format/copy.h: copy a whole store (or chosen partitions) from one kv::Store to
// another, e.g. rocks -> postgres, then verify both sides partition by partition
// (record count and xxHash64 of the records, the same checksum a dump's footer holds).
//
// A partition the target does not hold yet is bulk-loaded with Store::InsertNew where
// the driver has it (PostgreSQL: COPY), else written with Store::Write; partitions that
// hold data (a re-run) always go through Write (overwrite semantics).
//
// All or nothing as the target's users see it: before its first write the copy records
// a pending load in the target's metadata partition (engine/metadata.h: the source's
// store id, the partitions, `refkv kv migrate --from .. --to ..`), synced, and deletes
// it once every write is durable (Store::Sync), before the verification. A copy killed
// or failing part way leaves the record: ordinary opens of the target refuse it,
// `refkv check` reports it, and running the same copy again finishes it (as with
// allow_non_empty_target, which it then need not be given) without duplicating or
// losing entries (keys are unique per partition; a re-run rewrites the same values).
// A different copy or import into a target holding the record is refused naming it.
// Keys that exist only in the target are left alone and make the verification fail.
//
// Thread-safety: both stores must be thread-safe (every kv::Store is); `threads`
// partitions are copied in parallel. The source should not change during the copy:
// each partition is read as of its own Scan.
#ifndef REFKV_FORMAT_COPY_H_
#define REFKV_FORMAT_COPY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "format/dump.h"

namespace refkv::format {

struct CopyOptions {
  std::vector<std::string> partitions;  // empty: every partition but kMetaPartition
  // Copy into a target that already holds user data (a re-run); otherwise
  // AlreadyExists naming the first non-empty partition.
  bool allow_non_empty_target = false;
  // Records per Store::Write / InsertNew, and a bound on their key + value bytes
  // (whichever is reached first). Each batch is one transaction on PostgreSQL: 10,000
  // rows per COPY ran 2.7x faster than 1,000 (bench/results/format.md).
  size_t write_batch = 10000;
  size_t write_batch_bytes = 8 << 20;
  unsigned threads = 2;  // partitions copied in parallel, 1..64
  bool verify = true;    // the verification pass at the end
  // Called after each batch, from the copying threads one at a time (serialised).
  ProgressCallback progress;
  // The stores' URIs, for the pending-load record's command that finishes an
  // interrupted copy ("refkv kv migrate --from SOURCE --to TARGET").
  std::string source_name, target_name;
};

// Count and checksum of one partition on one side.
struct PartitionDigest {
  uint64_t records = 0;
  uint64_t bytes = 0;     // encoded record bytes
  uint64_t checksum = 0;  // xxHash64 of the record encodings (DUMP_FORMAT.md)
};

struct PartitionCheck {
  std::string name;
  PartitionDigest source;
  PartitionDigest target;
  bool match() const {
    return source.records == target.records && source.checksum == target.checksum;
  }
};

struct CopySummary {
  uint64_t records = 0;                // records written
  uint64_t bytes = 0;                  // key + value bytes written
  std::vector<PartitionCheck> checks;  // one per partition, when verify
  double seconds = 0;
};

// Scans `partition` of `store` and returns its digest.
Result<PartitionDigest> DigestPartition(kv::Store& store, std::string_view partition);

// Copies and (with verify) checks. OK only if every partition matched. Errors:
// AlreadyExists (non-empty target, another load pending in the target), NotFound (a named
// partition), InvalidArgument (kMetaPartition named, bad options), VersionMismatch (both stores
// have metadata and their schema versions differ), Corruption (verification failed: the message
// names the first partition that differs with both counts; the summary is lost, so
// call DigestPartition to inspect), and either store's errors.
Result<CopySummary> CopyStore(kv::Store& source, kv::Store& target, const CopyOptions& options);

}  // namespace refkv::format

#endif  // REFKV_FORMAT_COPY_H_
