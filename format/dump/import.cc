// VerifyDump, InspectDump, ImportDump: passes of the DumpReader.
#include "format/dump/import.h"

#include <chrono>
#include <map>

#include "base/hex.h"
#include "engine/metadata.h"
#include "format/dump.h"
#include "format/dump/reader.h"
#include "format/load/pending_load.h"

namespace refkv::format {
namespace {

using internal::DumpReader;
using internal::Record;

Result<std::unique_ptr<DumpReader>> OpenReader(const std::string& path, const io::FileOptions& io,
                                               unsigned threads = 1) {
  if (threads > kMaxDumpThreads) {
    return Status::InvalidArgument("dump: threads must be 0.." + std::to_string(kMaxDumpThreads) +
                                   ", got " + std::to_string(threads));
  }
  REFKV_ASSIGN_OR_RETURN(auto source, internal::OpenFileSource(path, io));
  return DumpReader::Open(std::move(source), threads == 0 ? DefaultDumpThreads() : threads);
}

void Report(const ProgressCallback& cb, std::string_view phase, const DumpReader& r) {
  if (!cb) return;
  Progress p{phase, r.records_read(), r.offset(), r.info().records, r.info().file_bytes};
  cb(p);
}

// One pass over every block; `on_block` sees each block's records.
template <typename Fn>
Status Pass(DumpReader& reader, std::string_view phase, const ProgressCallback& cb, Fn&& on_block) {
  std::vector<Record> records;
  while (true) {
    REFKV_ASSIGN_OR_RETURN(bool more, reader.NextBlock(&records));
    if (!more) break;
    REFKV_RETURN_IF_ERROR(on_block(records));
    Report(cb, phase, reader);
  }
  return reader.Finish();
}

// Runs `fn(partition, [first, last))` for each run of records of one partition.
template <typename Fn>
Status ForEachPartitionRun(const std::vector<Record>& records, Fn&& fn) {
  size_t i = 0;
  while (i < records.size()) {
    size_t j = i + 1;
    while (j < records.size() && records[j].partition == records[i].partition) ++j;
    REFKV_RETURN_IF_ERROR(fn(records[i].partition, i, j));
    i = j;
  }
  return Status::OK();
}

// Which of records[first, last) exist in `store` (one MultiGet).
Result<std::vector<bool>> Existing(kv::Store& store, std::string_view partition,
                                   const std::vector<Record>& records, size_t first, size_t last) {
  std::vector<std::string> keys;
  keys.reserve(last - first);
  for (size_t i = first; i < last; ++i) keys.emplace_back(records[i].key);
  REFKV_ASSIGN_OR_RETURN(auto found, store.MultiGet(partition, keys));
  std::vector<bool> exists(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (found[i].ok()) {
      exists[i] = true;
    } else if (!found[i].status().IsNotFound()) {
      return found[i].status().WithContext("import: looking up existing keys");
    }
  }
  return exists;
}

}  // namespace

Result<OnConflict> ParseOnConflict(std::string_view text) {
  if (text == "fail") return OnConflict::kFail;
  if (text == "skip") return OnConflict::kSkip;
  if (text == "overwrite") return OnConflict::kOverwrite;
  return Status::InvalidArgument("on-conflict must be fail, skip or overwrite, not '" +
                                 std::string(text) + "'");
}

std::string_view OnConflictName(OnConflict mode) {
  switch (mode) {
    case OnConflict::kFail:
      return "fail";
    case OnConflict::kSkip:
      return "skip";
    case OnConflict::kOverwrite:
      return "overwrite";
  }
  return "?";
}

Result<DumpInfo> InspectDump(const std::string& path, const io::FileOptions& io) {
  REFKV_ASSIGN_OR_RETURN(auto reader, OpenReader(path, io));
  return reader->info();
}

Result<DumpInfo> VerifyDump(const std::string& path, const ProgressCallback& progress,
                            const io::FileOptions& io, unsigned threads) {
  REFKV_ASSIGN_OR_RETURN(auto reader, OpenReader(path, io, threads));
  REFKV_RETURN_IF_ERROR(
      Pass(*reader, "verify", progress, [](const std::vector<Record>&) { return Status::OK(); }));
  return reader->info();
}

Result<DumpInfo> VerifyDumpBytes(std::string_view bytes, std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(auto reader,
                         DumpReader::Open(internal::NewMemorySource(bytes, std::string(name))));
  REFKV_RETURN_IF_ERROR(
      Pass(*reader, "verify", {}, [](const std::vector<Record>&) { return Status::OK(); }));
  return reader->info();
}

Result<ImportSummary> internal::ImportDumpRecords(
    const std::string& path, kv::Store& store, const ImportOptions& options, bool check_conflicts,
    const std::function<Status(const DumpInfo&)>& before_write, bool remove) {
  auto start = std::chrono::steady_clock::now();
  const size_t batch_size = std::max<size_t>(1, options.write_batch);
  ImportSummary summary;

  // Pass 1: verify everything (and, with check_conflicts, look for keys that exist).
  REFKV_ASSIGN_OR_RETURN(auto reader, OpenReader(path, options.io, options.threads));
  Status conflict;
  const bool check = check_conflicts;
  REFKV_RETURN_IF_ERROR(Pass(
      *reader, check ? "check" : "verify", options.progress,
      [&](const std::vector<Record>& records) -> Status {
        // A dump of an older refkv may hold what no store takes now: refuse it here,
        // before pass 2 writes anything.
        for (const auto& r : records) {
          if (r.partition == kv::kMetaPartition) continue;
          Status s = kv::CheckWrite("import", r.partition, r.key, r.value);
          if (!s.ok()) {
            return s.WithContext("dump '" + path + "' block " +
                                 std::to_string(reader->blocks_read() - 1) +
                                 " (beyond this refkv's limits; nothing imported)");
          }
        }
        if (!check || !conflict.ok()) return Status::OK();
        return ForEachPartitionRun(records, [&](std::string_view partition, size_t a, size_t b) {
          if (partition == kv::kMetaPartition || !conflict.ok()) return Status::OK();
          REFKV_ASSIGN_OR_RETURN(auto exists, Existing(store, partition, records, a, b));
          for (size_t i = 0; i < exists.size(); ++i) {
            if (exists[i]) {
              conflict = Status::AlreadyExists(
                  "import: key '" + kv::Printable(records[a + i].key) + "' of partition '" +
                  kv::Printable(partition) +
                  "' already exists in the target (on-conflict=fail); nothing imported");
              break;
            }
          }
          return Status::OK();
        });
      }));
  REFKV_RETURN_IF_ERROR(conflict);
  summary.info = reader->info();
  reader.reset();
  if (before_write) REFKV_RETURN_IF_ERROR(before_write(summary.info));

  // Pass 2: write. The file is re-verified as it is read (it could change in between).
  REFKV_ASSIGN_OR_RETURN(reader, OpenReader(path, options.io, options.threads));
  std::vector<std::string> partitions;
  for (const auto& p : summary.info.partitions) {
    if (p.name != kv::kMetaPartition) partitions.push_back(p.name);
  }
  REFKV_RETURN_IF_ERROR(store.PreparePartitions(partitions));
  Status written =
      Pass(*reader, "import", options.progress, [&](const std::vector<Record>& records) -> Status {
        return ForEachPartitionRun(records, [&](std::string_view partition, size_t a, size_t b) {
          if (partition == kv::kMetaPartition) {
            summary.skipped_meta += b - a;
            return Status::OK();
          }
          for (size_t from = a; from < b; from += batch_size) {
            size_t to = std::min(b, from + batch_size);
            std::vector<bool> exists;
            if (options.on_conflict == OnConflict::kSkip) {
              REFKV_ASSIGN_OR_RETURN(exists, Existing(store, partition, records, from, to));
            }
            kv::WriteBatch batch;
            for (size_t i = from; i < to; ++i) {
              if (!exists.empty() && exists[i - from]) {
                ++summary.skipped;
                continue;
              }
              if (remove) {
                batch.Delete(records[i].key);
              } else {
                batch.Put(records[i].key, records[i].value);
              }
            }
            if (batch.empty()) continue;
            Status s = store.Write(partition, batch);
            if (!s.ok()) {
              return s.WithContext("import: writing partition '" + kv::Printable(partition) + "'");
            }
            (remove ? summary.removed : summary.written) += batch.size();
          }
          return Status::OK();
        });
      });
  if (!written.ok()) {
    return written.WithContext("import stopped after writing " + std::to_string(summary.written) +
                               " records");
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

namespace {

// The pending-load record of an import of the dump at `path` (format/load/pending_load.h):
// the dump is known by its whole-file checksum, wherever it lies.
kv::PendingLoad DumpImportLoad(const std::string& path, const DumpInfo& info,
                               const ImportOptions& options) {
  kv::PendingLoad load;
  load.what = "import of " + path;
  load.identity =
      "dump-import " + HexUint64(info.file_checksum) + " " + std::to_string(info.file_bytes);
  load.mode = std::string(OnConflictName(options.on_conflict));
  std::vector<std::string_view> args{"refkv", "import", path};
  if (options.on_conflict == OnConflict::kSkip) args.insert(args.end(), {"--on-conflict", "skip"});
  if (options.allow_older_schema) args.push_back("--allow-older-schema");
  load.resume = internal::CommandLine(args);
  return load;
}

}  // namespace

Result<ImportSummary> ImportDump(const std::string& path, kv::Store& store,
                                 const ImportOptions& options) {
  // The header and footer (a few reads) name the dump; everything that can refuse runs
  // before the first write.
  REFKV_ASSIGN_OR_RETURN(DumpInfo inspected, InspectDump(path, options.io));
  const kv::PendingLoad load = DumpImportLoad(path, inspected, options);
  REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> pending,
                         internal::CheckPendingLoad(store, load));
  if (options.abort) {
    REFKV_RETURN_IF_ERROR(internal::CheckAbort(pending, load));
    auto removed = internal::ImportDumpRecords(
        path, store, options, /*check_conflicts=*/false,
        [&](const DumpInfo& verified) {
          return verified.file_checksum == inspected.file_checksum
                     ? Status::OK()
                     : Status::Corruption("import: '" + path + "' changed while it was read");
        },
        /*remove=*/true);
    Status s = removed.status();
    if (s.ok()) s = internal::FinishLoad(store);
    kv::PendingLoad again = *pending;
    again.resume += " --abort";
    REFKV_RETURN_IF_ERROR(internal::Unfinished(s, again));
    return removed;
  }
  REFKV_ASSIGN_OR_RETURN(int64_t schema,
                         internal::ImportSchema(store, inspected.header.schema_version,
                                                options.allow_older_schema, "import"));
  // A rerun finishes the interrupted import: the keys it finds are mostly its own, so
  // fail and overwrite continue as overwrite, skip (the mode it recorded) as skip.
  ImportOptions run = options;
  if (pending)
    run.on_conflict = pending->mode == "skip" ? OnConflict::kSkip : OnConflict::kOverwrite;
  bool begun = pending.has_value();
  auto summary = internal::ImportDumpRecords(
      path, store, run, !pending && options.on_conflict == OnConflict::kFail,
      [&](const DumpInfo& verified) -> Status {
        if (verified.file_checksum != inspected.file_checksum) {
          return Status::Corruption("import: '" + path +
                                    "' changed while it was read; nothing was written");
        }
        if (!begun) REFKV_RETURN_IF_ERROR(internal::BeginLoad(store, load));
        begun = true;
        return schema != 0 ? internal::SetImportSchema(store, schema) : Status::OK();
      });
  if (summary.ok()) {
    Status finished = internal::FinishLoad(store);
    if (finished.ok()) {
      summary->schema_set = schema;
      return summary;
    }
    summary = finished;
  }
  if (!begun) return summary.status();
  return internal::Unfinished(summary.status(), pending ? *pending : load);
}

}  // namespace refkv::format
