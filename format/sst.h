// format/sst.h: export a store as RocksDB SST files (one per partition) plus a
// checksummed manifest, and import such a directory into any kv::Store.
//
// Layout of an export directory (spec: format/SST_FORMAT.md):
//   MANIFEST.refkv   text manifest: versions, store id, one line per partition
//                    (hex name, file, record count, xxHash64 of the records), checksum
//   refkv-000000.sst ...  one SST per non-empty partition, written by
//                    rocksdb::SstFileWriter with the default (bytewise) comparator:
//                    `sst_dump --file=refkv-000000.sst --command=scan` lists its entries.
//                    RocksDB never names a file so: an export never takes the place of a
//                    store's table files (older exports' "000000.sst" still import).
//
// An export writes only into a missing or empty directory, or (overwrite) into one that
// holds an SST export and nothing else; it never follows a link and creates every file
// with O_EXCL | O_NOFOLLOW (SST_FORMAT.md, "Where an export may write").
//
// Import streams every file through rocksdb::SstFileReader into Store::Write batches,
// after a full verification pass (SST block checksums, every file's record count and
// xxHash64 against the manifest, the manifest's own checksum, schema version), so a
// corrupt or truncated file, a manifest that does not match its files, or a newer
// schema imports nothing. The write pass hands each verified file to
// kv::Store::IngestSstFiles (the RocksDB driver: IngestExternalFile, no re-write
// through the memtable) for on-conflict fail and overwrite, and streams where the
// driver answers Unsupported and for on-conflict skip (which decides per key).
//
// The metadata partition is handled as for dumps (format/dump.h): not exported as
// records, never imported.
//
// Thread-safety: reentrant; see format/dump.h for concurrent use of the store.
#ifndef REFKV_FORMAT_SST_H_
#define REFKV_FORMAT_SST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "format/dump.h"

namespace refkv::format {

// 2: every partition line also pins its file's size and xxHash64 (checked before RocksDB
// parses the file); 1 (still read): without them.
inline constexpr int kSstManifestVersion = 2;
inline constexpr std::string_view kSstManifestName = "MANIFEST.refkv";

struct SstPartition {
  std::string name;
  std::string file;       // plain file name inside the directory ("refkv-000003.sst")
  uint64_t records = 0;   // >= 1
  uint64_t checksum = 0;  // xxHash64 of the records, encoded as in a dump block
  // Manifest version >= 2: the file's size in bytes and xxHash64 (seed 0) of its bytes.
  // Version 1 leaves both 0 (the file is not pinned).
  uint64_t file_bytes = 0;
  uint64_t file_checksum = 0;
};

struct SstManifest {
  int manifest_version = kSstManifestVersion;
  DumpHeader header;                     // the same facts as a dump header (format_version unused)
  std::vector<SstPartition> partitions;  // ascending names
  uint64_t records = 0;
  uint64_t checksum = 0;  // ReadSstManifest: its checksum line, the export's identity
};

struct SstExportOptions {
  // The directory to write: missing (created, with its parents) or empty. Not a
  // symbolic link. The manifest is written last (a temporary of its own, fdatasync,
  // rename, directory fsync): a directory without one is an unfinished export.
  std::string dir;
  std::vector<std::string> partitions;  // empty: all but kMetaPartition
  // Also accept a directory holding an SST export and nothing else (its manifest and
  // the files it names; or, without a manifest, an unfinished export's refkv-*.sst files
  // and manifest temporaries). The old manifest is removed first (directory fsynced),
  // then its files, then the new export is written: a crash leaves a directory without
  // a manifest, never one naming files of two exports.
  bool overwrite = false;
  ProgressCallback progress;
};

struct SstExportSummary {
  SstManifest manifest;
  uint64_t file_bytes = 0;  // all SST files
  double seconds = 0;
};

// Writes one SST per non-empty chosen partition and the manifest. OK: the export is
// complete and durable (files, manifest and their names synced). Errors:
// InvalidArgument (also a partition name, key or value beyond the kv::Store limits,
// which only an older refkv could have written: named, and no manifest is written, so
// nothing importable is left), NotFound (a named partition), AlreadyExists (the
// directory is a link, not a directory, not empty, or with overwrite holds anything but
// an export: the message names the first such entry; or a file appeared at one of the
// export's names while it ran), IOError (RocksDB's writer, the file system), the
// store's errors. Every refusal comes before the first change; on a later error the
// files this call created are removed (only those), and with overwrite the old export
// is already gone.
// Cost: one Scan per partition, one fdatasync per file, two directory fsyncs (four
// with overwrite).
Result<SstExportSummary> ExportSst(kv::Store& store, const SstExportOptions& options);

// Reads and checks the manifest only (its checksum, syntax, bounds, version).
// NotFound (no manifest), Corruption (naming the line), VersionMismatch.
Result<SstManifest> ReadSstManifest(const std::string& dir);

// A full verification pass: the manifest, and every SST file opened with
// rocksdb::SstFileReader, its block checksums verified, scanned, its count and
// xxHash64 compared with the manifest. Corruption names the file.
Result<SstManifest> VerifySst(const std::string& dir, const ProgressCallback& progress = {});

struct SstImportOptions {
  OnConflict on_conflict = OnConflict::kFail;
  bool allow_older_schema = false;
  size_t write_batch = 1000;
  // Use the store's SST ingestion (Store::IngestSstFiles) where it has one; false
  // always streams through Write (a benchmark baseline, a driver bug workaround).
  bool ingest = true;
  // Roll back an interrupted import of this export that ran with on-conflict fail: as
  // ImportOptions::abort.
  bool abort = false;
  ProgressCallback progress;
};

// Imports the export at `dir` into `store`: VerifySst first (with kFail also a
// MultiGet of every key), then a second pass that ingests or writes. Errors and
// guarantees as ImportDump (nothing imported from a directory that fails verification,
// nor from one holding a record beyond the kv::Store limits: pass 1 refuses it with
// InvalidArgument naming the file, partition and key; the schema rules; the second pass
// under the pending-load record, which names the export by its manifest checksum, so a
// killed import is refused by ordinary opens and finished by running it again).
// Streaming writes end a batch at write_batch records or 64 MiB, whichever comes first.
// With ingestion, on-conflict fail checks keys in pass 1 and a key written concurrently
// between the passes is overwritten (as with streaming); each partition is ingested
// atomically, partitions one after another.
Result<ImportSummary> ImportSst(const std::string& dir, kv::Store& store,
                                const SstImportOptions& options = {});

}  // namespace refkv::format

#endif  // REFKV_FORMAT_SST_H_
