// Store::IngestSstFiles for the RocksDB driver: adds SST files to a partition with
// DB::IngestExternalFile instead of re-writing their entries through the memtable.
//
// The files are first staged in PATH/refkv-ingest/ without holding any lock: copied
// ("cf" mapping; the caller's files stay untouched) or rewritten with the partition's
// key prefix ("shared" mapping: every partition shares one column family, so the keys
// of an exported SST cannot go in as they are). The staged files are then ingested
// with move_files (a hard link, no copy) while every key stripe is held, and the
// partition's entries in the SetIf write-through cache are forgotten before the
// stripes are released: no SetIf can compare against a value the ingestion replaced.
// Staged files that a crash left behind are removed by the next writable open
// (rocks_open.cc), once the RocksDB lock is held.
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>

#include "engine/rocks/rocks_store_impl.h"

namespace refkv::kv::rocks {
namespace {

namespace fs = std::filesystem;

// Writes the entries of `from` with `prefix` before every key into a new SST `to`.
Status RewriteWithPrefix(const std::string& from, const std::string& prefix,
                         const std::string& to) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status s = reader.Open(from);
  if (!s.ok()) return FromRocks(s, "rocks ingest: opening '" + from + "'");
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  s = writer.Open(to);
  if (!s.ok()) return FromRocks(s, "rocks ingest: creating '" + to + "'");
  std::string key;
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    key.assign(prefix);
    key.append(it->key().data(), it->key().size());
    s = writer.Put(key, it->value());
    if (!s.ok()) return FromRocks(s, "rocks ingest: writing '" + to + "'");
    ++n;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "rocks ingest: reading '" + from + "'");
  if (n == 0) return Status::OK();  // nothing to ingest; no file
  s = writer.Finish();
  if (!s.ok()) return FromRocks(s, "rocks ingest: finishing '" + to + "'");
  return Status::OK();
}

}  // namespace

Status RocksStore::StageIngest(const Partition& p, const std::vector<std::string>& files, bool move,
                               std::vector<std::string>* ingest, std::vector<std::string>* staged) {
  const fs::path dir = fs::path(path_) / std::string(kIngestStagingDir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("rocks ingest: mkdir '" + dir.string() + "': " + ec.message());
  for (const auto& file : files) {
    if (mapping_ == Mapping::kColumnFamily && move) {
      ingest->push_back(file);
      continue;
    }
    const std::string to =
        (dir / ("staged-" + std::to_string(next_staged_.fetch_add(1)) + ".sst")).string();
    staged->push_back(to);
    if (mapping_ == Mapping::kColumnFamily) {
      fs::copy_file(file, to, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        return Status::IOError("rocks ingest: copying '" + file + "' to '" + to +
                               "': " + ec.message());
      }
      ingest->push_back(to);
    } else {
      REFKV_RETURN_IF_ERROR(RewriteWithPrefix(file, p.prefix, to));
      if (fs::exists(to, ec)) ingest->push_back(to);
    }
  }
  return Status::OK();
}

Status RocksStore::IngestSstFiles(std::string_view partition, const std::vector<std::string>& files,
                                  bool move) {
  REFKV_RETURN_IF_ERROR(CheckWritePartition("ingest", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  if (read_only_) return Status::Unsupported("rocks store '" + path_ + "' is open read-only");
  if (files.empty()) return Status::OK();
  std::vector<std::string> ingest, staged;
  struct Cleanup {
    std::vector<std::string>* files;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& f : *files) fs::remove(f, ec);
    }
  } cleanup{&staged};
  REFKV_ASSIGN_OR_RETURN(std::shared_ptr<Partition> p, Lookup(partition, true));
  // The staged files depend only on the partition's name (its prefix), not on its
  // incarnation: a drop and re-create while staging still ingests into the new one.
  REFKV_RETURN_IF_ERROR(StageIngest(*p, files, move, &ingest, &staged));
  if (ingest.empty()) return Status::OK();
  for (;;) {
    REFKV_ASSIGN_OR_RETURN(p, Lookup(partition, true));
    AllStripesLock all(stripes_);
    if (p->dropped.load(std::memory_order_acquire)) continue;
    rocksdb::IngestExternalFileOptions options;
    options.move_files = true;  // staged files (or the caller's, when `move`)
    options.snapshot_consistency = true;
    options.allow_global_seqno = true;    // newer than every existing entry: overwrite
    options.allow_blocking_flush = true;  // overlapping memtable entries are flushed first
    options.write_global_seqno = false;   // never modify the files in place
    // The caller verified the files (Store::IngestSstFiles); RocksDB still reads and
    // checks each file's footer, properties and index while ingesting. A full second
    // checksum pass cost ~15% of an import (bench/results/format.md).
    options.verify_checksums_before_ingest = false;
    rocksdb::Status s = db_->IngestExternalFile(p->cf, ingest, options);
    stripes_.ForgetPartitionLocked(p->id);
    if (!s.ok()) {
      return Error(
          s, "ingest of " + std::to_string(ingest.size()) + " file(s) from '" + files.front() + "'",
          partition);
    }
    return Status::OK();
  }
}

}  // namespace refkv::kv::rocks
