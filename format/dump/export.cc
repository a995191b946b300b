// ExportDump: scan partitions in order into a DumpWriter; a temporary file of our own,
// sync, rename (never replacing without overwrite), directory sync.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "engine/metadata.h"
#include "engine/open.h"
#include "format/dump.h"
#include "format/dump/writer.h"
#include "io/file.h"
#include "io/fs.h"

namespace refkv::format {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The partitions to export, sorted, without kMetaPartition.
Result<std::vector<std::string>> ChoosePartitions(kv::Store& store,
                                                  const std::vector<std::string>& wanted) {
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
  std::vector<std::string> out;
  if (wanted.empty()) {
    for (auto& p : all) {
      if (p != kv::kMetaPartition) out.push_back(std::move(p));
    }
  } else {
    for (const auto& p : wanted) {
      if (p == kv::kMetaPartition) {
        return Status::InvalidArgument("export: the metadata partition '" +
                                       std::string(kv::kMetaPartition) +
                                       "' cannot be exported as records (its facts are in the "
                                       "dump header)");
      }
      if (std::find(all.begin(), all.end(), p) == all.end()) {
        return Status::NotFound("export: partition '" + kv::Printable(p) + "' does not exist");
      }
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

unsigned DefaultDumpThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return std::clamp(n, 1u, 8u);
}

Result<ExportSummary> ExportDump(kv::Store& store, const ExportOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (options.path.empty()) return Status::InvalidArgument("export: no output path");
  std::error_code ec;
  // symlink_status: a link at the path (even a dangling one) exists too.
  if (!options.overwrite && std::filesystem::symlink_status(options.path, ec).type() !=
                                std::filesystem::file_type::not_found) {
    return Status::AlreadyExists("export: '" + options.path +
                                 "' exists (pass --overwrite to replace it)");
  }
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> partitions,
                         ChoosePartitions(store, options.partitions));

  DumpHeader header;
  header.created_at = NowSeconds();
  header.refkv_version = std::string(kv::CodeVersion());
  header.source_driver = std::string(store.driver());
  auto md = kv::ReadMetadata(store);
  if (md.ok()) {
    header.store_format_version = md->format_version;
    header.schema_version = md->schema_version;
    header.store_id = md->store_id;
  } else if (!md.status().IsNotFound()) {
    return md.status().WithContext("export: reading the store's metadata");
  }

  if (options.threads > kMaxDumpThreads) {
    return Status::InvalidArgument("export: threads must be 0.." + std::to_string(kMaxDumpThreads) +
                                   ", got " + std::to_string(options.threads));
  }
  internal::WriterOptions wopts{options.zstd_level, options.block_size, options.io,
                                options.threads == 0 ? DefaultDumpThreads() : options.threads};
  // A temporary of our own (a unique name, O_EXCL): a file of the user's that happens
  // to be called PATH.tmp is never touched, and only this file is removed on failure.
  std::string tmp;
  REFKV_ASSIGN_OR_RETURN(auto file, io::File::CreateTemp(options.path, &tmp, options.io));
  std::unique_ptr<internal::DumpWriter> writer;
  auto fail = [&](Status s) {
    writer.reset();
    file.reset();
    std::filesystem::remove(tmp, ec);
    return s;
  };
  auto created = internal::DumpWriter::Create(std::move(file), header, wopts);
  if (!created.ok()) return fail(created.status());
  writer = std::move(created).value();
  Progress progress{"export"};
  uint64_t last_reported = 0;
  auto report = [&](bool force) {
    if (!options.progress) return;
    if (!force && writer->bytes_written() - last_reported < (1u << 20)) return;
    last_reported = writer->bytes_written();
    progress.records = writer->records();
    progress.bytes = writer->bytes_written();
    options.progress(progress);
  };
  for (const auto& partition : partitions) {
    kv::ScanOptions scan;
    scan.batch_size = 1000;
    auto it = store.Scan(partition, scan);
    if (!it.ok()) return fail(it.status());
    for (; (*it)->Valid(); (*it)->Next()) {
      Status s = writer->Add(partition, (*it)->key(), (*it)->value());
      if (!s.ok()) return fail(s);
      report(false);
    }
    if (!(*it)->status().ok()) {
      return fail((*it)->status().WithContext("export: scanning partition '" +
                                              kv::Printable(partition) + "'"));
    }
  }
  auto info = writer->Finish();
  if (!info.ok()) return fail(info.status());
  report(true);
  writer.reset();  // Finish synced the file
  // Without --overwrite a file that appeared at the path meanwhile is not replaced.
  Status renamed = io::Rename(
      tmp, options.path, options.overwrite ? io::RenameMode::kReplace : io::RenameMode::kNoReplace);
  if (renamed.IsAlreadyExists()) {
    return fail(Status::AlreadyExists("export: '" + options.path +
                                      "' was created by someone else while the export ran; it "
                                      "was left alone and the export discarded"));
  }
  if (!renamed.ok()) return fail(renamed.WithContext("export"));
  // The new name must survive a power loss as well as the bytes (a backup recorded in a
  // migration's history names this file).
  REFKV_RETURN_IF_ERROR(io::SyncParentDir(options.path).WithContext("export"));
  ExportSummary summary;
  summary.info = std::move(*info);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace refkv::format
