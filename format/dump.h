// format/dump.h: export a store to a refkv dump file, verify and inspect dumps, and
// import them into any kv::Store. The file format is specified in
// format/DUMP_FORMAT.md (header, zstd blocks with xxHash64 checksums, footer index).
//
//   REFKV_ASSIGN_OR_RETURN(auto summary, format::ExportDump(store, {.path = "x.dump"}));
//   REFKV_ASSIGN_OR_RETURN(auto info, format::VerifyDump("x.dump"));
//   REFKV_ASSIGN_OR_RETURN(auto done, format::ImportDump("x.dump", other, {}));
//
// Everything streams: memory stays bounded (a few blocks of <= 64 MiB each, the
// footer index, read-ahead/write-behind buffers) whatever the size of the store.
// File I/O goes through io::File (io_uring when available): export keeps several
// block writes in flight while it compresses the next block; readers keep several
// reads ahead.
//
// The metadata partition (kv::kMetaPartition) is never exported as records: its facts
// are in the header (store id, format and schema version, code version). Import never
// imports records into the target's metadata partition; it writes there only its
// pending-load record and, for an older dump into an empty store, the schema version.
//
// Thread-safety: the functions are reentrant; distinct calls may run concurrently on
// distinct files. The store may be used concurrently, but an export sees each
// partition as of its own Scan (not one snapshot of the whole store), and an import
// assumes nobody else writes the keys it imports while it runs.
#ifndef REFKV_FORMAT_DUMP_H_
#define REFKV_FORMAT_DUMP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "io/file.h"

namespace refkv::format {

inline constexpr uint32_t kDumpFormatVersion = 1;
inline constexpr size_t kDefaultBlockSize = 1 << 20;  // 1 MiB of records before compression
inline constexpr size_t kMaxBlockSize = 64 << 20;     // the largest block a reader accepts
// Compression workers of an export: at most this many.
inline constexpr unsigned kMaxDumpThreads = 16;
// The default number of compression workers: the hardware's concurrency, capped at 8.
unsigned DefaultDumpThreads();

// Where a long operation is. Called from the calling thread, after each block.
struct Progress {
  std::string_view phase;      // "export", "verify", "check" (conflicts), "import"
  uint64_t records = 0;        // records done in this phase
  uint64_t bytes = 0;          // file bytes written (export) or read so far
  uint64_t total_records = 0;  // 0 when not known yet (export)
  uint64_t total_bytes = 0;    // file size; 0 when not known (export)
};
using ProgressCallback = std::function<void(const Progress&)>;

// The dump's header (see DUMP_FORMAT.md).
struct DumpHeader {
  uint32_t format_version = kDumpFormatVersion;
  int64_t store_format_version = 0;  // the source store's KV format version
  int64_t schema_version = 0;        // the source store's schema version (0: no metadata)
  int64_t created_at = 0;            // when the dump was written, unix seconds
  std::string refkv_version;         // the code that wrote the dump
  std::string source_driver;         // "mem", "rocks", "postgres" ...
  std::string store_id;              // the source store's id ("" without metadata)
};

// One partition of the footer index.
struct DumpPartition {
  std::string name;
  uint64_t records = 0;
  uint64_t checksum = 0;  // xxHash64 of the partition's record encodings
  uint64_t first_block = 0;
  uint64_t record_bytes = 0;  // encoded (uncompressed) size of its records
};

// What a dump holds: header, footer index and totals.
struct DumpInfo {
  DumpHeader header;
  std::vector<DumpPartition> partitions;  // in file order (ascending names)
  uint64_t records = 0;
  uint64_t blocks = 0;
  uint64_t uncompressed_bytes = 0;  // sum of block payloads before compression
  uint64_t file_bytes = 0;
  uint64_t file_checksum = 0;  // the footer's whole-file checksum: the dump's identity
};

struct ExportOptions {
  // The file to write. Written to a temporary of its own beside it ("<path>.tmp-<random
  // hex>", created with O_EXCL | O_NOFOLLOW, so no existing file or link is touched),
  // synced, renamed to `path`, and the directory synced: `path` never holds half a dump,
  // and once ExportDump returns OK the file and its name survive a power loss.
  std::string path;
  // Partitions to export; empty: every partition except kv::kMetaPartition. A named
  // partition that does not exist is NotFound; kMetaPartition is InvalidArgument.
  std::vector<std::string> partitions;
  // zstd level, 1..19 (zstd's own range; negative fast levels -5..-1 allowed too).
  int zstd_level = 3;
  // Uncompressed bytes of records per block, 4 KiB .. kMaxBlockSize.
  size_t block_size = kDefaultBlockSize;
  // Replace an existing file (or link: the link itself, never its target) at `path`;
  // otherwise AlreadyExists, also when a file appears at `path` while the export runs
  // (the final rename never replaces then: renameat2 RENAME_NOREPLACE).
  bool overwrite = false;
  // I/O back end and the number of block writes in flight (queue_depth).
  io::FileOptions io = {io::Backend::kAuto, 4};
  // Blocks compressed in parallel on this many workers (0: DefaultDumpThreads(); 1:
  // on the calling thread), at most 2 * threads blocks in flight. The file is
  // byte-identical whatever the count.
  unsigned threads = 0;
  ProgressCallback progress;
};

struct ExportSummary {
  DumpInfo info;
  double seconds = 0;
};

// Writes every record of the chosen partitions of `store` to options.path.
// OK: the file is complete, synced and renamed into place; the summary describes it.
// Errors: InvalidArgument (bad options; a record beyond the kv::Store limits, which
// only an older refkv could have written: the error names it and nothing is exported),
// NotFound (a named partition), AlreadyExists (path exists, !overwrite), IOError
// (the file), and any error of the store's Scan. On error the temporary file is removed
// (only it: nothing this call did not create).
// Cost: one Scan per partition, one zstd compression per block, sequential writes, one
// fsync of the file and one of its directory.
Result<ExportSummary> ExportDump(kv::Store& store, const ExportOptions& options);

// Reads the header, the trailer and the footer index, checking their checksums and
// bounds, without reading the blocks (cheap: a few reads). For `dump inspect`.
// NotFound (no file), IOError, Corruption (naming the region and offset),
// VersionMismatch (a newer format version).
Result<DumpInfo> InspectDump(const std::string& path, const io::FileOptions& io = {});

// A full verification pass over `path`: every check of DUMP_FORMAT.md ("What a reader
// checks"). OK: the file is intact; returns what it holds. Errors as InspectDump; a
// bad block is Corruption naming its number and byte offset. threads: block checksums
// and decompression on this many workers (0: DefaultDumpThreads(); 1: the calling
// thread), reading ahead at most 2 * threads blocks; same result and errors.
Result<DumpInfo> VerifyDump(const std::string& path, const ProgressCallback& progress = {},
                            const io::FileOptions& io = {}, unsigned threads = 0);

// As VerifyDump on bytes in memory (fuzzing, tests). `name` appears in messages.
Result<DumpInfo> VerifyDumpBytes(std::string_view bytes, std::string_view name = "<memory>");

enum class OnConflict {
  kFail,       // if any key of the dump exists in the target, import nothing
  kSkip,       // keep the target's value for keys that exist
  kOverwrite,  // replace the target's value
};
// "fail", "skip", "overwrite" <-> OnConflict. InvalidArgument for anything else.
Result<OnConflict> ParseOnConflict(std::string_view text);
std::string_view OnConflictName(OnConflict mode);

struct ImportOptions {
  OnConflict on_conflict = OnConflict::kFail;
  // Accept a dump whose schema version is older than the target's, into a target that
  // holds no data: the target takes the dump's schema (ImportSummary::schema_set) and
  // `refkv migrate up` brings it forward. Into a target holding data it is refused all
  // the same (data of two schemas cannot be mixed). A newer dump is always refused.
  bool allow_older_schema = false;
  // Roll back instead: an import of this dump that was interrupted (its pending-load
  // record is in the store) and ran with on-conflict fail (so no key of the dump existed
  // before it) is undone by deleting every key of the dump, then the record. NotFound if
  // no import of this dump is pending; InvalidArgument if it ran with skip or overwrite
  // (what it replaced is gone: finish it instead). A schema it set stays.
  bool abort = false;
  // Records per Store::Write call (each call is atomic within one partition).
  size_t write_batch = 1000;
  io::FileOptions io = {io::Backend::kAuto, 4};
  // Block checksums and decompression on this many workers (0: DefaultDumpThreads();
  // 1: the calling thread); as VerifyDump.
  unsigned threads = 0;
  ProgressCallback progress;
};

struct ImportSummary {
  DumpInfo info;
  uint64_t written = 0;       // records written (overwritten ones included)
  uint64_t skipped = 0;       // kSkip: records whose key existed
  uint64_t skipped_meta = 0;  // records of kMetaPartition in the file, never imported
  uint64_t ingested = 0;      // of `written`: added by SST ingestion (ImportSst only)
  uint64_t removed = 0;       // abort: keys of the file deleted
  // The schema the import set the target to (an older file into an empty store with
  // allow_older_schema: `refkv migrate up` brings it forward); 0 if it left it.
  int64_t schema_set = 0;
  double seconds = 0;
};

// Imports the dump at `path` into `store`, all or nothing as the store's users see it:
//   1. a full verification pass (VerifyDump); with kFail it also looks up every key of
//      the dump in the target (MultiGet per block and partition);
//   2. only if the file verified (and, with kFail, no key exists): the pending-load
//      record (engine/metadata.h, kMetaPendingLoad: the dump's whole-file checksum, its
//      path, the mode, the command that finishes it) is written and synced, then a
//      second pass writes the records in batches of options.write_batch with
//      Store::Write; Store::Sync; the record is deleted.
// So a file that fails verification imports nothing, and kFail imports nothing when a
// key exists. An import killed or failing in pass 2 leaves the record: ordinary opens
// refuse the store (naming the import and `refkv import PATH`), `refkv check` reports
// it, and running the same import again (the same dump, wherever it lies) finishes it:
// without the conflict check, fail and overwrite continuing as overwrite, skip (as
// recorded) as skip. Errors: those of VerifyDump (Corruption naming block and offset);
// InvalidArgument naming the block, partition and key of a record beyond the kv::Store
// limits (a dump written by an older refkv; pass 1, so nothing is imported);
// AlreadyExists naming the first conflicting partition and key (kFail), or naming
// another pending load; VersionMismatch when the dump's schema version is newer than
// the target's, or older (see allow_older_schema); any error of the store. An error in
// pass 2 (the store failing, or the file changing between the passes: Corruption) says
// how far it got and what finishes the import.
Result<ImportSummary> ImportDump(const std::string& path, kv::Store& store,
                                 const ImportOptions& options = {});

}  // namespace refkv::format

#endif  // REFKV_FORMAT_DUMP_H_
