// kv::Store: the partitioned key-value contract every refkv driver implements.
//
// A store holds [partition, key, value] triplets of raw bytes. Partitions and keys are
// non-empty byte strings (any byte, 0x00 and 0xFF included); values may be empty.
// Keys within a partition are ordered bytewise (memcmp order, shorter first on a tie).
//
// Five verbs carry all correctness: Get, Set, SetIf, Delete, Scan. DeleteIf,
// DeleteRange, DropPartition, MultiGet and the atomic batch Write are conveniences that
// drivers implement efficiently; refkv's upper layers must stay correct on a store that
// offers only the five verbs.
//
// Thread-safety: every method of a Store may be called concurrently from any number of
// threads. SetIf and DeleteIf are linearizable per key (and, for shared drivers such as
// PostgreSQL, across processes and machines). Iterators are not thread-safe and must
// not outlive the store that created them.
//
// Errors: every non-OK Status names the partition and key involved in printable form.
// Empty partition or key -> InvalidArgument. A write that found the file system full ->
// NoSpace (never a crash); what was acknowledged before it is kept.
//
// Limits: a write (Set, SetIf, the puts of Write and InsertNew, IngestSstFiles,
// PreparePartitions) of a partition name longer than kMaxPartitionBytes, a key longer
// than kMaxKeyBytes or a value longer than kMaxValueBytes is InvalidArgument naming the
// limit, the size and the partition and key, and writes nothing. Reads, deletes, scans and
// drops take any size, so data written before the limits existed stays readable and
// removable. Every format (dump files, SST exports) carries exactly what the limits allow.
#ifndef REFKV_ENGINE_STORE_H_
#define REFKV_ENGINE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace refkv::kv {

// Why these numbers:
// - partition + key: PostgreSQL's primary-key btree on (partition, key) takes index
//   tuples of at most 2704 bytes (8 KiB pages; a tuple is partition + key + 16 bytes of
//   headers, and random bytes do not compress): 512 + 2048 fit, 1024 + 2048 fail.
// - key: 2048 bytes leave the ref store's paths 2016 bytes (a staging key is a 32-byte
//   token + the path), more than an object store's key (S3, GCS, Azure: 1024 bytes).
// - value: a record with a maximal partition, key and value must fit in one 64 MiB dump
//   block (format/DUMP_FORMAT.md); 63 MiB leaves room for the partition, key and lengths.
//   The ref store needs no more: it keeps committed ranges as 1 MiB chunks.
inline constexpr size_t kMaxPartitionBytes = 512;
inline constexpr size_t kMaxKeyBytes = 2048;
inline constexpr size_t kMaxValueBytes = size_t{63} << 20;

// The reserved partition that holds the store's own metadata (store id, format and
// schema versions, migration state). User code must not write it directly.
inline constexpr std::string_view kMetaPartition = "__refkv_meta";

// A condition for SetIf / DeleteIf, evaluated atomically with the write.
class Predicate {
 public:
  enum class Kind { kAbsent, kExists, kEquals };

  // Holds only if the key does not exist.
  static Predicate Absent() { return Predicate(Kind::kAbsent, {}); }
  // Holds only if the key exists (with any value, the empty value included).
  static Predicate Exists() { return Predicate(Kind::kExists, {}); }
  // Holds only if the key exists and its value equals `value` byte for byte.
  static Predicate Equals(std::string_view value) {
    return Predicate(Kind::kEquals, std::string(value));
  }

  Kind kind() const { return kind_; }
  // The expected value; meaningful for kEquals only.
  const std::string& value() const { return value_; }

  // True if the predicate holds for a key whose current value is `current`
  // (nullptr: the key does not exist).
  bool HoldsFor(const std::string* current) const;
  // The same for a driver that has the current value as a view: `present` false means
  // the key does not exist (`current` is then ignored). The one evaluation of Kind.
  bool Holds(bool present, std::string_view current) const;

  // "absent", "exists" or "equals(<printable bytes>)", for error messages.
  std::string ToString() const;

 private:
  Predicate(Kind kind, std::string value) : kind_(kind), value_(std::move(value)) {}
  Kind kind_;
  std::string value_;
};

// A group of writes applied atomically within one partition by Store::Write.
class WriteBatch {
 public:
  struct Op {
    enum class Kind { kPut, kDelete };
    Kind kind;
    std::string key;
    std::string value;  // empty for kDelete
  };

  void Put(std::string_view key, std::string_view value) {
    ops_.push_back({Op::Kind::kPut, std::string(key), std::string(value)});
  }
  void Delete(std::string_view key) { ops_.push_back({Op::Kind::kDelete, std::string(key), {}}); }
  void Clear() { ops_.clear(); }

  // Operations in insertion order; a later op on the same key wins.
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

// The range of a Scan: keys in [start, end). An empty `end` means no upper bound.
struct ScanOptions {
  std::string start;  // first key yielded is the first key >= start
  std::string end;    // exclusive upper bound; empty = to the end of the partition
  // Hint: how many entries a driver fetches per round trip (0 = driver default).
  // Drivers that page (PostgreSQL) grow their pages up to this size.
  size_t batch_size = 0;

  // Every key that starts with `prefix`.
  static ScanOptions Prefix(std::string_view prefix);
};

// Returns the smallest key greater than every key that starts with `prefix`, or ""
// when no such key exists (the prefix is all 0xFF bytes): usable as ScanOptions::end.
std::string PrefixUpperBound(std::string_view prefix);

// A cursor over one partition's entries in key order, within the scan's bounds.
// It sees a consistent view of the partition as of the Scan call, unaffected by later
// writes, unless the driver documents otherwise (PostgreSQL: per page).
class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  // True while positioned at an entry. False at the end or after an error.
  virtual bool Valid() const = 0;
  // Positions at the first key >= max(key, start of the scan); forwards or backwards.
  virtual void Seek(std::string_view key) = 0;
  // Advances. Precondition: Valid().
  virtual void Next() = 0;
  // Precondition: Valid(). The views stay valid until the next Seek/Next.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // OK unless iteration stopped on an error; check it when Valid() turns false.
  virtual Status status() const = 0;
};

// What a driver reports about itself (`refkv store info`).
struct StoreProperty {
  std::string name;
  std::string value;
};

// Store::EstimateRange.
struct SizeEstimate {
  uint64_t keys = 0;
  uint64_t bytes = 0;
};

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // The driver name ("mem", "rocks", "postgres").
  virtual std::string_view driver() const = 0;

  // True if other processes, on this or other machines, may have the same store open
  // for writing at the same time (PostgreSQL: nodes sharing one database). False where
  // the store's own lock keeps every other process out (rocks) or the store lives in
  // one process (mem). The ref store runs a node heartbeat on shared stores
  // (migrate/nodes.h). kv::StoreWrapper forwards it.
  virtual bool shared() const { return false; }

  // The value of `key`. NotFound if it does not exist.
  virtual Result<std::string> Get(std::string_view partition, std::string_view key) = 0;

  // Looks up many keys of one partition in one batched call. The result has one entry
  // per key, in order: a value or NotFound (or another error for that key). The outer
  // Status fails only if the whole call failed. Default: a loop of Get.
  virtual Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                            const std::vector<std::string>& keys);

  // Writes `value` unconditionally, creating the partition if needed.
  virtual Status Set(std::string_view partition, std::string_view key, std::string_view value) = 0;

  // Writes `value` only if `predicate` holds for the current value, atomically.
  // PredicateFailed (nothing written) if it does not hold. UnknownOutcome if the driver
  // lost contact with the server after sending the write and cannot tell whether it
  // happened.
  virtual Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
                       const Predicate& predicate) = 0;

  // Removes `key`. OK whether or not it existed (idempotent).
  virtual Status Delete(std::string_view partition, std::string_view key) = 0;

  // Removes `key` only if `predicate` holds (Absent: a no-op that succeeds only if the
  // key is absent). PredicateFailed otherwise.
  virtual Status DeleteIf(std::string_view partition, std::string_view key,
                          const Predicate& predicate) = 0;

  // Removes every key k of the partition with from <= k < to. An empty `to` means to the
  // end of the partition. One call (a range tombstone, one statement); OK if empty.
  virtual Status DeleteRange(std::string_view partition, std::string_view from,
                             std::string_view to) = 0;

  // Removes the whole partition and every key in it. OK if it does not exist.
  virtual Status DropPartition(std::string_view partition) = 0;

  // Applies every op of `batch` to `partition` atomically: all or nothing. Each op is
  // within the limits (CheckBatch); the batch as a whole has the driver's ceiling
  // (PostgreSQL: its values travel as one bytea[] parameter, at most 1 GB), so bulk
  // writers bound their batches in bytes too.
  virtual Status Write(std::string_view partition, const WriteBatch& batch) = 0;

  // An iterator over the partition within `options`' bounds, positioned at the first
  // key >= options.start. A partition that does not exist scans as empty.
  // The iterator must be destroyed before the store.
  virtual Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                                 const ScanOptions& options) = 0;

  // Every partition that holds or held data (kMetaPartition included), sorted.
  virtual Result<std::vector<std::string>> ListPartitions() = 0;

  // Creates `partitions` ahead of use, in one batch where a partition has a real cost
  // (a RocksDB column family: one at a time costs O(existing partitions), a batch about
  // 0.5 ms each). Optional: writing to a partition creates it anyway. InvalidArgument,
  // nothing created, for an empty name or one beyond kMaxPartitionBytes. Default: only
  // that check.
  virtual Status PreparePartitions(const std::vector<std::string>& partitions);

  // Adds the entries of `files` (RocksDB SST files written by rocksdb::SstFileWriter
  // with the default bytewise comparator; keys are the partition's keys, without any
  // driver prefix) to `partition`, creating it if needed, without re-writing them
  // through the write path (RocksDB: IngestExternalFile). An ingested key overwrites
  // an existing one; ingestion is atomic per call (all files or none). `move`: the
  // driver may move (hard-link) the files instead of copying them; the caller must
  // not use them afterwards. The files must be verified by the caller (RocksDB checks
  // their structure, not every block checksum nor what the keys mean) and checked
  // against the limits (CheckWrite; the driver checks only the partition's name).
  // Unsupported if the driver has no such path (the caller then streams through
  // Write). Cost: a copy of the files, no memtable, no WAL; concurrent writers of the
  // partition wait for it.
  virtual Status IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                                bool move) {
    return Status::Unsupported("driver '" + std::string(driver()) + "' cannot ingest SST files");
  }

  // Bulk load: adds the Put ops of `batch` to `partition` when the caller knows none of
  // their keys exists yet (a copy into an empty partition: `kv migrate`), atomically.
  // AlreadyExists, nothing written, if a key exists already or appears twice in the
  // batch; InvalidArgument for a Delete op or an empty key; UnknownOutcome as Write.
  // Unsupported by drivers without a faster path than Write (the default): callers
  // then use Write. PostgreSQL: COPY FROM STDIN into the table, ~3x an upsert Write.
  virtual Status InsertNew(std::string_view partition, const WriteBatch& batch) {
    return Status::Unsupported("driver '" + std::string(driver()) + "' has no bulk insert");
  }

  // Driver-specific facts for `store info` (path, mapping, sizes ...).
  virtual std::vector<StoreProperty> Properties() { return {}; }

  // About how many entries, and how many bytes of keys and values, `partition` holds in
  // [start, end) (end empty: to its end), for plans and free-space checks. Cheap: no
  // read of table files (RocksDB: the memtables' entries counted in memory plus table
  // properties scaled to the range; both mappings). Approximate: within a small factor
  // for entries; bytes are as stored (table files compressed). Unsupported where a driver has no
  // cheap estimate (the caller guesses otherwise). A missing partition is {0, 0}.
  virtual Result<SizeEstimate> EstimateRange(std::string_view partition, std::string_view start,
                                             std::string_view end) {
    return Status::Unsupported("driver '" + std::string(driver()) + "' has no size estimate");
  }

  // Makes every write acknowledged before this call durable (fsync / flush WAL); OK means
  // they survive power loss. Writes acknowledged later are not covered. No-op where writes
  // are already durable (mem has nothing to sync; PostgreSQL commits every statement).
  // Cost (rocks, sync=false): one WAL fsync, none if nothing was written since the last
  // Sync; concurrent callers each wait for an fsync that covers their writes.
  virtual Status Sync() { return Status::OK(); }

  // Writes a consistent, openable copy of the whole store into the new directory `dir`
  // (the migration runner's backup). RocksDB: a checkpoint of hard links, near instant
  // on the same file system; restore by opening `dir` as the store. AlreadyExists if
  // `dir` exists; Unsupported by drivers without files (the default).
  virtual Status Checkpoint(std::string_view dir) {
    return Status::Unsupported("the '" + std::string(driver()) + "' driver cannot checkpoint");
  }

  // Releases the store's resources and locks. Later calls fail. Idempotent; the
  // destructor closes too, ignoring errors.
  virtual Status Close() = 0;
};

// Validates the arguments shared by every verb; drivers call it first.
// InvalidArgument naming the verb if the partition or key is empty.
Status CheckPartitionAndKey(std::string_view verb, std::string_view partition,
                            std::string_view key);
Status CheckPartition(std::string_view verb, std::string_view partition);

// The one check of the limits, for verbs that store a value (drivers call it first, as
// above; formats call it for every record they write or import). CheckPartitionAndKey,
// then InvalidArgument if the partition, key or value exceeds kMaxPartitionBytes,
// kMaxKeyBytes or kMaxValueBytes, naming the verb, the limit, the size, the partition
// and the key (printable, truncated).
Status CheckWrite(std::string_view verb, std::string_view partition, std::string_view key,
                  std::string_view value);
// CheckPartition and the partition's limit, for verbs that create a partition.
Status CheckWritePartition(std::string_view verb, std::string_view partition);
// For Write: CheckPartition, then CheckWrite for every put and CheckPartitionAndKey for
// every delete (a delete takes a key of any length, as Delete does).
Status CheckBatch(std::string_view verb, std::string_view partition, const WriteBatch& batch);

// The errors of the contract, written once for every driver (their messages are pinned
// by tests and scripts):
// NotFound "key '<key>' not found in partition '<partition>'" (Get, MultiGet).
Status KeyNotFound(std::string_view partition, std::string_view key);
// PredicateFailed "predicate <predicate> does not hold for key '<key>' in partition
// '<partition>'" (SetIf, DeleteIf).
Status PredicateNotHeld(std::string_view partition, std::string_view key,
                        const Predicate& predicate);
// SetIf / DeleteIf: OK if `predicate` holds for the key's current value (`present`
// false: the key does not exist), else PredicateNotHeld. Drivers that evaluate the
// predicate elsewhere (PostgreSQL: in SQL) report its failure with PredicateNotHeld.
Status EvaluatePredicate(std::string_view partition, std::string_view key,
                         const Predicate& predicate, bool present, std::string_view current);

// Printable form of arbitrary bytes for messages: printable ASCII as is, everything
// else as \xNN, truncated to `max_len` bytes of input with "...".
std::string Printable(std::string_view bytes, size_t max_len = 64);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_STORE_H_
