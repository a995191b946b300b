// RocksStore: the kv::Store of the RocksDB driver (see engine/rocks/rocks_store.h for
// the URI, mappings and durability). Internal to engine/rocks/.
//
// Thread-safety: every Store method may run concurrently except Close, which must not
// race other calls (and requires every iterator to be gone). Reads (Get, MultiGet,
// Scan, ListPartitions) take no lock. Writers take their keys' stripes (KeyStripes);
// DeleteRange and DropPartition take every stripe; creating or dropping a partition
// also takes ddl_mu_, which readers and writers of existing partitions never touch.
#ifndef REFKV_ENGINE_ROCKS_ROCKS_STORE_IMPL_H_
#define REFKV_ENGINE_ROCKS_ROCKS_STORE_IMPL_H_

#include <rocksdb/db.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/rocks/key_stripes.h"
#include "engine/rocks/partition_table.h"
#include "engine/store.h"

namespace refkv::kv::rocks {

enum class Mapping { kColumnFamily, kShared };

std::string_view MappingName(Mapping mapping);

// Keys of the driver's own records in the default column family.
inline constexpr std::string_view kMarkerKey = "refkv/driver";
inline constexpr std::string_view kMarkerValue = "refkv-rocks 1";
inline constexpr std::string_view kMappingKey = "refkv/mapping";
// "shared" mapping: one key per partition, "refkv/partition/" + name -> "".
inline constexpr std::string_view kRegistryPrefix = "refkv/partition/";
// "cf" mapping: the column family of partition P is kCfPrefix + hex(P).
inline constexpr std::string_view kCfPrefix = "p.";
// "shared" mapping: the column family holding every partition's entries.
inline constexpr std::string_view kSharedCf = "shared";
// Directory under the store's path where IngestSstFiles stages copies/rewrites of the
// files it ingests. Anything in it at open was left by a crash and is removed.
inline constexpr std::string_view kIngestStagingDir = "refkv-ingest";

std::string CfNameFor(std::string_view partition);
// The partition of a column family named by CfNameFor, or false for other names.
bool PartitionOfCf(std::string_view cf_name, std::string* partition);
// varint(partition.size()) + partition: the key prefix of a partition in "shared".
std::string SharedPrefix(std::string_view partition);
// Splits a RocksDB key of the "shared" column family into partition and key (views
// into `rocks_key`). False if it is not SharedPrefix(p) + key with non-empty p and key
// (a truncated or over-long varint, a length past the end).
bool DecodeSharedKey(std::string_view rocks_key, std::string_view* partition,
                     std::string_view* key);

// Converts a RocksDB status into ours, naming the operation and what it touched. A full
// file system (RocksDB's NoSpace, or ENOSPC's text inside a status RocksDB wrapped) is
// NoSpace: "<what>: no space left on device (<RocksDB's status>)".
Status FromRocks(const rocksdb::Status& s, std::string_view what);

// Everything RocksStore needs, assembled by OpenRocksStore (rocks_open.cc).
struct RocksParts {
  std::string path;  // canonical
  Mapping mapping = Mapping::kColumnFamily;
  bool sync = false;
  bool read_only = false;
  std::unique_ptr<rocksdb::Env> env;  // over store_fs.h's file system (io_uring or default)
  std::unique_ptr<rocksdb::DB> db;    // uses env: destroyed before it
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;  // owned by db
  rocksdb::ColumnFamilyHandle* shared_cf = nullptr;   // "shared" mapping; owned here
  rocksdb::ColumnFamilyOptions partition_cf_options;  // for new "cf" partitions
  std::vector<std::pair<std::string, rocksdb::ColumnFamilyHandle*>> partitions;  // at open
  std::string pid_file;                 // removed by Close before the LOCK is released
  std::function<void()> release_claim;  // ends the process-wide claim on the path
};

class RocksStore final : public Store {
 public:
  explicit RocksStore(RocksParts parts);
  ~RocksStore() override;

  std::string_view driver() const override { return "rocks"; }
  Result<std::string> Get(std::string_view partition, std::string_view key) override;
  Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                    const std::vector<std::string>& keys) override;
  Status Set(std::string_view partition, std::string_view key, std::string_view value) override;
  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const Predicate& predicate) override;
  Status Delete(std::string_view partition, std::string_view key) override;
  Status DeleteIf(std::string_view partition, std::string_view key,
                  const Predicate& predicate) override;
  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override;
  Status DropPartition(std::string_view partition) override;
  Status Write(std::string_view partition, const WriteBatch& batch) override;
  Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                         const ScanOptions& options) override;
  Result<std::vector<std::string>> ListPartitions() override;
  Status PreparePartitions(const std::vector<std::string>& partitions) override;
  // rocks_ingest.cc. "cf": the files are copied into the store's staging directory,
  // "shared": rewritten there with the partition's key prefix; then ingested (moved)
  // while every key stripe is held, and the partition's cached values forgotten.
  Status IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                        bool move) override;
  std::vector<StoreProperty> Properties() override;
  Result<SizeEstimate> EstimateRange(std::string_view partition, std::string_view start,
                                     std::string_view end) override;
  Status Sync() override;
  Status Checkpoint(std::string_view dir) override;  // rocks_checkpoint.cc
  Status Close() override;

 private:
  // The live incarnation of `partition`, creating it if `create`; nullptr if it does
  // not exist and !create.
  Result<std::shared_ptr<Partition>> Lookup(std::string_view partition, bool create);
  // Requires ddl_mu_. Makes a Partition for an existing column family / registry entry.
  std::shared_ptr<Partition> MakePartition(std::string name, rocksdb::ColumnFamilyHandle* cf);
  // The RocksDB key of `key` in `p`: `key` itself in "cf", p.prefix + key in "shared"
  // (built in `buf`).
  static rocksdb::Slice RocksKey(const Partition& p, std::string_view key, std::string& buf);

  // Shared body of Set / SetIf / Delete / DeleteIf. `value` nullptr deletes;
  // `predicate` nullptr writes unconditionally.
  Status WriteOne(std::string_view verb, std::string_view partition, std::string_view key,
                  const std::string_view* value, const Predicate* predicate);

  // Prepares `files` for ingestion into `p` (rocks_ingest.cc): the paths to ingest
  // and the staged copies to remove afterwards.
  Status StageIngest(const Partition& p, const std::vector<std::string>& files, bool move,
                     std::vector<std::string>* ingest, std::vector<std::string>* staged);

  Status CheckOpen() const;
  Status Error(const rocksdb::Status& s, std::string_view verb, std::string_view partition,
               std::string_view key = {}) const;
  // Returns `status`, remembering a NoSpace one for Close.
  Status Noted(Status status) const;

  const std::string path_;
  const Mapping mapping_;
  const bool sync_;
  const bool read_only_;
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (declared first)
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* shared_cf_;
  rocksdb::ColumnFamilyOptions partition_cf_options_;
  const std::string pid_file_;
  std::function<void()> release_claim_;
  rocksdb::WriteOptions write_options_;
  rocksdb::ReadOptions read_options_;
  rocksdb::ReadOptions multiget_options_;  // read_options_ + async_io

  std::atomic<bool> closed_{false};
  // A write failed for lack of space: RocksDB stopped writing (its background error);
  // Close reports its complaint about the unfinished WAL as NoSpace.
  mutable std::atomic<bool> no_space_{false};
  // The highest sequence number a Sync() has made durable: Sync skips the fsync when no
  // write was acknowledged since (see RocksStore::Sync).
  std::atomic<uint64_t> synced_seq_{0};
  std::mutex sync_mu_;              // one Sync fsyncs at a time; callers that waited skip theirs
  std::mutex ddl_mu_;               // serialises creating and dropping partitions
  uint64_t next_partition_id_ = 1;  // guarded by ddl_mu_
  std::atomic<uint64_t> next_staged_{0};  // names of staged ingestion files
  PartitionTable table_;
  KeyStripes stripes_;
};

}  // namespace refkv::kv::rocks

#endif  // REFKV_ENGINE_ROCKS_ROCKS_STORE_IMPL_H_
