// SST export/import (format/sst.h, format/SST_FORMAT.md).
#include "format/sst.h"

#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/coding.h"
#include "base/hex.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "format/dump/encoding.h"
#include "format/load/pending_load.h"
#include "format/sst/export_dir.h"
#include "io/file.h"
#include "io/fs.h"

namespace refkv::format {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMaxManifestBytes = 64u << 20;
// The bytes of one Write when an import streams (a batch ends at this or at
// SstImportOptions::write_batch records, whichever comes first).
constexpr size_t kMaxStreamBatchBytes = 64u << 20;

std::string Hex(std::string_view bytes) { return HexEncode(bytes); }

bool Unhex(std::string_view hex, std::string* out) { return HexDecode(hex, out, HexCase::kLower); }

template <typename T>
bool ParseNumber(std::string_view text, T* out, int base = 10) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsNotFound() || s.IsPathNotFound()) return Status::NotFound(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// The size and xxHash64 (seed 0) of a file's bytes, read once, 1 MiB at a time. The
// export digests each file it just wrote (from the page cache); the import digests each
// file before every pass that hands it to RocksDB.
struct FileDigest {
  uint64_t bytes = 0;
  uint64_t checksum = 0;
};

Result<FileDigest> DigestFile(const std::string& path) {
  REFKV_ASSIGN_OR_RETURN(auto file, io::File::OpenForRead(path, {io::Backend::kPosix, 1}));
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, 0);
  std::string buffer(1 << 20, '\0');
  FileDigest digest;
  Status status;
  for (;;) {
    auto got = file->ReadAt(digest.bytes, std::span<char>(buffer.data(), buffer.size()));
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (*got == 0) break;
    XXH64_update(state, buffer.data(), *got);
    digest.bytes += *got;
  }
  digest.checksum = XXH64_digest(state);
  XXH64_freeState(state);
  REFKV_RETURN_IF_ERROR(status);
  return digest;
}

std::string ManifestText(const SstManifest& m) {
  std::ostringstream out;
  out << "refkv-sst-manifest " << m.manifest_version << "\n";
  out << "store_format_version " << m.header.store_format_version << "\n";
  out << "schema_version " << m.header.schema_version << "\n";
  out << "created_at " << m.header.created_at << "\n";
  out << "refkv_version " << Hex(m.header.refkv_version) << "\n";
  out << "source_driver " << Hex(m.header.source_driver) << "\n";
  out << "store_id " << Hex(m.header.store_id) << "\n";
  for (const auto& p : m.partitions) {
    out << "partition " << Hex(p.name) << " " << p.file << " " << p.records << " "
        << HexUint64(p.checksum);
    if (m.manifest_version >= 2) out << " " << p.file_bytes << " " << HexUint64(p.file_checksum);
    out << "\n";
  }
  out << "records " << m.records << "\n";
  std::string body = out.str();
  return body + "checksum " + HexUint64(XXH64(body.data(), body.size(), 0)) + "\n";
}

// Writes the manifest: a temporary of its own (O_EXCL), fdatasync, a rename that never
// replaces (whatever was at the name was removed before the export began), a directory
// fsync. The data files' names were made durable before, so a manifest that survives a
// power loss never names a file that did not.
Status WriteManifest(const std::string& dir, const std::string& text,
                     std::vector<std::string>* created) {
  const std::string path = (fs::path(dir) / kSstManifestName).string();
  std::string tmp;
  REFKV_ASSIGN_OR_RETURN(auto file, io::File::CreateTemp(path, &tmp, {io::Backend::kPosix, 1}));
  created->push_back(tmp);
  REFKV_RETURN_IF_ERROR(file->WriteAt(0, text).WithContext("sst export"));
  REFKV_RETURN_IF_ERROR(file->Sync().WithContext("sst export"));
  REFKV_RETURN_IF_ERROR(file->Close().WithContext("sst export"));
  REFKV_RETURN_IF_ERROR(io::SyncDir(dir).WithContext("sst export"));
  Status renamed = io::Rename(tmp, path, io::RenameMode::kNoReplace);
  if (renamed.IsAlreadyExists()) {
    return Status::AlreadyExists("sst export: a manifest '" + path +
                                 "' appeared while the export ran (another export into the "
                                 "same directory?); it was left alone and this export discarded");
  }
  REFKV_RETURN_IF_ERROR(renamed.WithContext("sst export"));
  created->back() = path;
  return io::SyncDir(dir).WithContext("sst export");
}

// Scans one SST file: block checksums, then every entry; count and hash must match.
template <typename Fn>
Status ScanSst(const std::string& dir, const SstPartition& p, bool pinned, Fn&& on_entry) {
  const std::string path = (fs::path(dir) / p.file).string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::Corruption("sst import: manifest lists '" + p.file + "' (partition '" +
                              kv::Printable(p.name) + "') which is missing in '" + dir + "'");
  }
  // RocksDB asserts (aborts the process) on some malformed tables, for example one whose
  // footer turns block checksums off: a version-2 manifest pins each file's bytes, so a
  // damaged file is refused here, before RocksDB parses it.
  if (pinned) {
    REFKV_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(path));
    if (digest.bytes != p.file_bytes || digest.checksum != p.file_checksum) {
      return Status::Corruption("sst import: '" + path + "' (partition '" + kv::Printable(p.name) +
                                "') does not match the manifest: " + std::to_string(digest.bytes) +
                                " bytes, xxh64 " + HexUint64(digest.checksum) + ", expected " +
                                std::to_string(p.file_bytes) + " bytes, xxh64 " +
                                HexUint64(p.file_checksum));
    }
  }
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  REFKV_RETURN_IF_ERROR(FromRocks(reader.Open(path), "sst import: opening '" + path + "'"));
  REFKV_RETURN_IF_ERROR(
      FromRocks(reader.VerifyChecksum(), "sst import: checksums of '" + path + "'"));
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
  internal::RecordHash hash;
  uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    if (key.empty()) return Status::Corruption("sst import: empty key in '" + path + "'");
    hash.Add(p.name, key, value);
    ++count;
    REFKV_RETURN_IF_ERROR(on_entry(key, value));
  }
  REFKV_RETURN_IF_ERROR(FromRocks(it->status(), "sst import: reading '" + path + "'"));
  if (count != p.records || hash.Digest() != p.checksum) {
    return Status::Corruption("sst import: '" + path + "' holds " + std::to_string(count) +
                              " records, the manifest says " + std::to_string(p.records) +
                              (count == p.records ? " (checksum differs)" : ""));
  }
  return Status::OK();
}

// Everything ExportSst does after PrepareExportDir: the old export removed (overwrite),
// one SST per non-empty partition, the manifest. `created` receives each file made.
Result<SstExportSummary> WriteExport(kv::Store& store, const SstExportOptions& options,
                                     const sst_internal::ExportDir& target,
                                     std::vector<std::string>* created) {
  const fs::path dir(options.dir);
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
  std::vector<std::string> partitions;
  if (options.partitions.empty()) {
    for (auto& p : all) {
      if (p != kv::kMetaPartition) partitions.push_back(p);
    }
  } else {
    for (const auto& p : options.partitions) {
      if (p == kv::kMetaPartition) {
        return Status::InvalidArgument("sst export: the metadata partition cannot be exported");
      }
      if (std::find(all.begin(), all.end(), p) == all.end()) {
        return Status::NotFound("sst export: partition '" + kv::Printable(p) + "' does not exist");
      }
      partitions.push_back(p);
    }
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  // Only what a store may hold (engine/store.h limits), so import can take every export;
  // names first, before any file is written.
  for (const auto& p : partitions) {
    REFKV_RETURN_IF_ERROR(kv::CheckWritePartition("sst export", p));
  }

  SstExportSummary summary;
  SstManifest& m = summary.manifest;
  m.header.created_at = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  m.header.refkv_version = std::string(kv::CodeVersion());
  m.header.source_driver = std::string(store.driver());
  auto md = kv::ReadMetadata(store);
  if (md.ok()) {
    m.header.store_format_version = md->format_version;
    m.header.schema_version = md->schema_version;
    m.header.store_id = md->store_id;
  } else if (!md.status().IsNotFound()) {
    return md.status();
  }

  // The first change to an existing directory.
  REFKV_RETURN_IF_ERROR(sst_internal::RemoveOldExport(target));
  std::unique_ptr<rocksdb::Env> env = sst_internal::NewCreateOnlyEnv();
  rocksdb::Options ropts;
  ropts.env = env.get();
  Progress progress{"export"};
  for (const auto& partition : partitions) {
    const std::string name = sst_internal::DataFileName(m.partitions.size());
    const std::string path = (dir / name).string();
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), ropts);
    kv::ScanOptions scan;
    scan.batch_size = 1000;
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(partition, scan));
    internal::RecordHash hash;
    SstPartition entry{partition, name, 0, 0};
    bool open = false;
    for (; it->Valid(); it->Next()) {
      if (!open) {
        REFKV_RETURN_IF_ERROR(FromRocks(writer.Open(path), "sst export: creating '" + path + "'"));
        created->push_back(path);
        open = true;
      }
      REFKV_RETURN_IF_ERROR(kv::CheckWrite("sst export", partition, it->key(), it->value()));
      rocksdb::Slice key(it->key().data(), it->key().size());
      rocksdb::Slice value(it->value().data(), it->value().size());
      REFKV_RETURN_IF_ERROR(
          FromRocks(writer.Put(key, value), "sst export: writing '" + path + "'"));
      hash.Add(partition, it->key(), it->value());
      ++entry.records;
    }
    REFKV_RETURN_IF_ERROR(it->status());
    if (!open) continue;  // an empty partition has no records to export
    rocksdb::ExternalSstFileInfo info;
    // Finish fdatasyncs the file.
    REFKV_RETURN_IF_ERROR(FromRocks(writer.Finish(&info), "sst export: finishing '" + path + "'"));
    entry.checksum = hash.Digest();
    REFKV_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(path));
    entry.file_bytes = digest.bytes;
    entry.file_checksum = digest.checksum;
    summary.file_bytes += info.file_size;
    m.records += entry.records;
    m.partitions.push_back(std::move(entry));
    if (options.progress) {
      progress.records = m.records;
      progress.bytes = summary.file_bytes;
      options.progress(progress);
    }
  }
  REFKV_RETURN_IF_ERROR(WriteManifest(options.dir, ManifestText(m), created));
  return summary;
}

}  // namespace

Result<SstExportSummary> ExportSst(kv::Store& store, const SstExportOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (options.dir.empty()) return Status::InvalidArgument("sst export: no directory");
  // Every refusal comes before the first change (a missing directory is created).
  REFKV_ASSIGN_OR_RETURN(sst_internal::ExportDir target,
                         sst_internal::PrepareExportDir(options.dir, options.overwrite));
  std::vector<std::string> created;  // paths of the files this export made
  auto fail = [&](Status s) {
    sst_internal::RemoveCreated(target, created);
    return s;
  };
  auto written = WriteExport(store, options, target, &created);
  if (!written.ok()) return fail(written.status());
  written->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return written;
}

Result<SstManifest> ReadSstManifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kSstManifestName).string();
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status::NotFound("sst import: no manifest '" + path + "'");
  if (size > kMaxManifestBytes) {
    return Status::Corruption("sst import: manifest '" + path + "' larger than 64 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto bad = [&](size_t line, const std::string& what) {
    return Status::Corruption("sst import: manifest '" + path + "' line " + std::to_string(line) +
                              ": " + what);
  };
  // The checksum line is last and covers every byte before it.
  size_t cut = text.rfind("checksum ");
  if (cut == std::string::npos || (cut > 0 && text[cut - 1] != '\n')) {
    return bad(0, "no checksum line (truncated?)");
  }
  uint64_t want = 0;
  std::string_view tail = std::string_view(text).substr(cut + 9);
  if (tail.size() != 17 || tail.back() != '\n' || !ParseNumber(tail.substr(0, 16), &want, 16)) {
    return bad(0, "malformed checksum line");
  }
  if (XXH64(text.data(), cut, 0) != want) return bad(0, "manifest checksum mismatch");

  SstManifest m;
  m.checksum = want;
  std::istringstream lines(text.substr(0, cut));
  std::string line;
  size_t n = 0;
  auto field = [&](std::string_view key, std::string* value) -> bool {
    if (!std::getline(lines, line)) return false;
    ++n;
    if (line.compare(0, key.size() + 1, std::string(key) + " ") != 0) return false;
    *value = line.substr(key.size() + 1);
    return true;
  };
  std::string v;
  if (!field("refkv-sst-manifest", &v) || !ParseNumber(v, &m.manifest_version)) {
    return bad(1, "not a refkv SST manifest");
  }
  if (m.manifest_version != kSstManifestVersion && m.manifest_version != 1) {
    if (m.manifest_version > kSstManifestVersion) {
      return Status::VersionMismatch(
          "sst import: manifest version " + std::to_string(m.manifest_version) +
          " is newer than this code's " + std::to_string(kSstManifestVersion));
    }
    return bad(1, "unknown manifest version");
  }
  if (!field("store_format_version", &v) || !ParseNumber(v, &m.header.store_format_version) ||
      !field("schema_version", &v) || !ParseNumber(v, &m.header.schema_version) ||
      !field("created_at", &v) || !ParseNumber(v, &m.header.created_at) ||
      m.header.schema_version < 0) {
    return bad(n, "malformed version fields");
  }
  for (auto [key, out, max] : {std::tuple{"refkv_version", &m.header.refkv_version, 64},
                               std::tuple{"source_driver", &m.header.source_driver, 64},
                               std::tuple{"store_id", &m.header.store_id, 128}}) {
    if (!field(key, &v) || v.size() > 2 * static_cast<size_t>(max) || !Unhex(v, out)) {
      return bad(n, std::string("malformed ") + key);
    }
  }
  uint64_t total = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.rfind("records ", 0) == 0) {
      if (!ParseNumber(std::string_view(line).substr(8), &m.records) || m.records != total) {
        return bad(n, "records total does not match the partitions");
      }
      if (std::getline(lines, line)) return bad(n + 1, "unexpected line after the total");
      return m;
    }
    std::istringstream fields(line);
    std::string tag, name_hex, file, records, checksum, file_bytes, file_checksum, extra;
    fields >> tag >> name_hex >> file >> records >> checksum;
    if (m.manifest_version >= 2) fields >> file_bytes >> file_checksum;
    SstPartition p;
    if (file.find('/') != std::string::npos || file == "." || file == "..") {
      return bad(n, "file name '" + file + "' is not a plain file name");
    }
    if (tag != "partition" || (fields >> extra) || !Unhex(name_hex, &p.name) || p.name.empty() ||
        p.name.size() > internal::kMaxPartitionLen || !sst_internal::IsDataFileName(file) ||
        !ParseNumber(records, &p.records) || p.records == 0 || checksum.size() != 16 ||
        !ParseNumber(checksum, &p.checksum, 16) ||
        (m.manifest_version >= 2 &&
         (!ParseNumber(file_bytes, &p.file_bytes) || file_checksum.size() != 16 ||
          !ParseNumber(file_checksum, &p.file_checksum, 16)))) {
      return bad(n, "malformed partition line");
    }
    if (!m.partitions.empty() && !(m.partitions.back().name < p.name)) {
      return bad(n, "partitions out of order");
    }
    for (const auto& q : m.partitions) {
      if (q.file == file) return bad(n, "file '" + file + "' listed twice");
    }
    p.file = file;
    total += p.records;
    m.partitions.push_back(std::move(p));
  }
  return bad(n, "no records total (truncated?)");
}

Result<SstManifest> VerifySst(const std::string& dir, const ProgressCallback& progress) {
  REFKV_ASSIGN_OR_RETURN(SstManifest m, ReadSstManifest(dir));
  Progress p{"verify", 0, 0, m.records, 0};
  for (const auto& part : m.partitions) {
    REFKV_RETURN_IF_ERROR(ScanSst(dir, part, m.manifest_version >= 2,
                                  [](std::string_view, std::string_view) { return Status::OK(); }));
    p.records += part.records;
    if (progress) progress(p);
  }
  return m;
}

namespace {

// ImportSst's write pass, under the pending-load record.
Status WriteSst(const std::string& dir, const SstManifest& m, kv::Store& store,
                const SstImportOptions& options, OnConflict mode, int64_t schema,
                ImportSummary* out) {
  ImportSummary& summary = *out;
  const size_t batch_size = std::max<size_t>(1, options.write_batch);
  if (schema != 0) REFKV_RETURN_IF_ERROR(internal::SetImportSchema(store, schema));
  std::vector<std::string> names;
  for (const auto& p : m.partitions) {
    if (p.name != kv::kMetaPartition) names.push_back(p.name);
  }
  REFKV_RETURN_IF_ERROR(store.PreparePartitions(names));
  Progress progress{"import", 0, 0, m.records, 0};
  for (const auto& part : m.partitions) {
    if (part.name == kv::kMetaPartition) {
      summary.skipped_meta += part.records;
      continue;
    }
    // fail (checked in pass 1) and overwrite need no per-key decision: hand the whole
    // file to the driver's ingestion path (RocksDB: IngestExternalFile, newest wins)
    // where it has one; skip decides per key and streams.
    if (mode != OnConflict::kSkip && options.ingest) {
      Status s = store.IngestSstFiles(part.name, {(fs::path(dir) / part.file).string()}, false);
      if (s.ok()) {
        summary.written += part.records;
        summary.ingested += part.records;
        progress.records += part.records;
        if (options.progress) options.progress(progress);
        continue;
      }
      if (!s.IsUnsupported()) {
        return s.WithContext("sst import stopped after writing " + std::to_string(summary.written) +
                             " records");
      }
    }
    kv::WriteBatch batch;
    size_t batch_bytes = 0;
    std::vector<std::string> keys;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      kv::WriteBatch out;
      if (mode == OnConflict::kSkip) {
        for (const auto& op : batch.ops()) keys.push_back(op.key);
        REFKV_ASSIGN_OR_RETURN(auto found, store.MultiGet(part.name, keys));
        keys.clear();
        for (size_t i = 0; i < batch.ops().size(); ++i) {
          if (found[i].ok()) {
            ++summary.skipped;
          } else if (found[i].status().IsNotFound()) {
            out.Put(batch.ops()[i].key, batch.ops()[i].value);
          } else {
            return found[i].status();
          }
        }
      }
      const kv::WriteBatch& write = mode == OnConflict::kSkip ? out : batch;
      if (!write.empty()) {
        Status s = store.Write(part.name, write);
        if (!s.ok()) {
          return s.WithContext("sst import stopped after writing " +
                               std::to_string(summary.written) + " records");
        }
      }
      summary.written += write.size();
      batch.Clear();
      batch_bytes = 0;
      return Status::OK();
    };
    REFKV_RETURN_IF_ERROR(ScanSst(
        dir, part, m.manifest_version >= 2, [&](std::string_view key, std::string_view value) {
          batch.Put(key, value);
          batch_bytes += key.size() + value.size();
          // Bytes bound the batch too: values may reach kv::kMaxValueBytes, and a driver's
          // batch has its own ceiling (PostgreSQL: 1 GB per bytea[] parameter).
          return batch.size() >= batch_size || batch_bytes >= kMaxStreamBatchBytes ? flush()
                                                                                   : Status::OK();
        }));
    REFKV_RETURN_IF_ERROR(flush());
    progress.records += part.records;
    if (options.progress) options.progress(progress);
  }
  return Status::OK();
}

// ImportSst with abort: verifies every file, then deletes every key of the export.
Result<ImportSummary> AbortSst(const std::string& dir, const SstManifest& m, kv::Store& store,
                               const SstImportOptions& options,
                               const std::optional<kv::PendingLoad>& pending,
                               const kv::PendingLoad& load) {
  REFKV_RETURN_IF_ERROR(internal::CheckAbort(pending, load));
  REFKV_RETURN_IF_ERROR(VerifySst(dir, options.progress).status());
  ImportSummary summary;
  summary.info.header = m.header;
  summary.info.records = m.records;
  const size_t batch_size = std::max<size_t>(1, options.write_batch);
  Status s;
  for (const auto& part : m.partitions) {
    if (part.name == kv::kMetaPartition || !s.ok()) continue;
    kv::WriteBatch batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      REFKV_RETURN_IF_ERROR(store.Write(part.name, batch));
      summary.removed += batch.size();
      batch.Clear();
      return Status::OK();
    };
    s = ScanSst(dir, part, m.manifest_version >= 2, [&](std::string_view key, std::string_view) {
      batch.Delete(key);
      return batch.size() >= batch_size ? flush() : Status::OK();
    });
    if (s.ok()) s = flush();
  }
  if (s.ok()) s = internal::FinishLoad(store);
  kv::PendingLoad again = *pending;
  again.resume += " --abort";
  REFKV_RETURN_IF_ERROR(internal::Unfinished(s, again));
  return summary;
}

}  // namespace

Result<ImportSummary> ImportSst(const std::string& dir, kv::Store& store,
                                const SstImportOptions& options) {
  auto start = std::chrono::steady_clock::now();
  REFKV_ASSIGN_OR_RETURN(SstManifest m, ReadSstManifest(dir));
  // The pending-load record (format/load/pending_load.h): the export is known by its
  // manifest's checksum. Everything that can refuse runs before the first write.
  kv::PendingLoad load;
  load.what = "import of SST directory " + dir;
  load.identity = "sst-import " + HexUint64(m.checksum) + " " + std::to_string(m.records);
  load.mode = std::string(OnConflictName(options.on_conflict));
  std::vector<std::string_view> args{"refkv", "import", dir};
  if (options.on_conflict == OnConflict::kSkip) args.insert(args.end(), {"--on-conflict", "skip"});
  if (options.allow_older_schema) args.push_back("--allow-older-schema");
  load.resume = internal::CommandLine(args);
  REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> pending,
                         internal::CheckPendingLoad(store, load));
  if (options.abort) return AbortSst(dir, m, store, options, pending, load);
  REFKV_ASSIGN_OR_RETURN(int64_t schema,
                         internal::ImportSchema(store, m.header.schema_version,
                                                options.allow_older_schema, "sst import"));
  // A rerun finishes the interrupted import: fail and overwrite continue as overwrite,
  // skip (the mode it recorded) as skip.
  OnConflict mode = options.on_conflict;
  if (pending) mode = pending->mode == "skip" ? OnConflict::kSkip : OnConflict::kOverwrite;
  ImportSummary summary;
  summary.info.header = m.header;
  summary.info.records = m.records;
  for (const auto& p : m.partitions) {
    summary.info.partitions.push_back({p.name, p.records, p.checksum, 0, 0});
  }
  const size_t batch_size = std::max<size_t>(1, options.write_batch);
  const bool check = mode == OnConflict::kFail;

  // Pass 1: verify every file; with kFail, look every key up (in partitions the
  // target has: a partition it does not have holds no key).
  Progress progress{check ? "check" : "verify", 0, 0, m.records, 0};
  Status conflict;
  std::vector<std::string> existing;
  if (check) {
    REFKV_ASSIGN_OR_RETURN(existing, store.ListPartitions());
    std::sort(existing.begin(), existing.end());
  }
  for (const auto& part : m.partitions) {
    const bool lookup_keys =
        check && std::binary_search(existing.begin(), existing.end(), part.name);
    std::vector<std::string> keys;
    auto lookup = [&]() -> Status {
      if (keys.empty() || !conflict.ok()) return Status::OK();
      REFKV_ASSIGN_OR_RETURN(auto found, store.MultiGet(part.name, keys));
      for (size_t i = 0; i < keys.size(); ++i) {
        if (found[i].ok()) {
          conflict = Status::AlreadyExists("sst import: key '" + kv::Printable(keys[i]) +
                                           "' of partition '" + kv::Printable(part.name) +
                                           "' already exists in the target (on-conflict=fail); "
                                           "nothing imported");
          break;
        }
        if (!found[i].status().IsNotFound()) return found[i].status();
      }
      keys.clear();
      return Status::OK();
    };
    bool skip = part.name == kv::kMetaPartition;
    // An export of an older refkv may hold what no store takes now: refuse it here,
    // before pass 2 writes anything.
    auto beyond = [&](Status s) {
      return s.WithContext("sst import: '" + part.file + "' in '" + dir +
                           "' (beyond this refkv's limits; nothing imported)");
    };
    if (!skip) REFKV_RETURN_IF_ERROR(beyond(kv::CheckWritePartition("import", part.name)));
    REFKV_RETURN_IF_ERROR(ScanSst(
        dir, part, m.manifest_version >= 2, [&](std::string_view key, std::string_view value) {
          if (!skip) REFKV_RETURN_IF_ERROR(beyond(kv::CheckWrite("import", part.name, key, value)));
          if (!lookup_keys || skip || !conflict.ok()) return Status::OK();
          keys.emplace_back(key);
          return keys.size() >= batch_size ? lookup() : Status::OK();
        }));
    REFKV_RETURN_IF_ERROR(lookup());
    progress.records += part.records;
    if (options.progress) options.progress(progress);
  }
  REFKV_RETURN_IF_ERROR(conflict);
  if (!pending) REFKV_RETURN_IF_ERROR(internal::BeginLoad(store, load));
  Status written = WriteSst(dir, m, store, options, mode, schema, &summary);
  if (written.ok()) written = internal::FinishLoad(store);
  REFKV_RETURN_IF_ERROR(internal::Unfinished(written, pending ? *pending : load));
  summary.schema_set = schema;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace refkv::format
