#include "tests/support/fault_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "io/rocks_fs.h"

namespace refkv::testing {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// "/a//b/" -> "/a/b": RocksDB and refkv spell one directory in more than one way.
std::string Normalize(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

constexpr const char* kDisplacedTag = ".faultfs-displaced-";

IOStatus PowerIsOff(FaultOp op, const std::string& path) {
  return IOStatus::IOError(std::string("fault fs: ") + FaultOpName(op) + " of '" + path +
                           "': power is off");
}

class FaultSequentialFile final : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> file, FaultFileSystem* fs,
                      std::string path)
      : FSSequentialFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}

  IOStatus Read(size_t n, const IOOptions& options, Slice* result, char* scratch,
                IODebugContext* dbg) override {
    IOStatus s = fs_->Check(kFaultRead, path_);
    if (!s.ok()) return s;
    return FSSequentialFileOwnerWrapper::Read(n, options, result, scratch, dbg);
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions& options, Slice* result,
                          char* scratch, IODebugContext* dbg) override {
    IOStatus s = fs_->Check(kFaultRead, path_);
    if (!s.ok()) return s;
    return FSSequentialFileOwnerWrapper::PositionedRead(offset, n, options, result, scratch, dbg);
  }

 private:
  FaultFileSystem* const fs_;
  const std::string path_;
};

class FaultRandomAccessFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> file, FaultFileSystem* fs,
                        std::string path)
      : FSRandomAccessFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}

  IOStatus Read(uint64_t offset, size_t n, const IOOptions& options, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    IOStatus s = fs_->Check(kFaultRead, path_);
    if (!s.ok()) return s;
    return FSRandomAccessFileOwnerWrapper::Read(offset, n, options, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus s = fs_->Check(kFaultRead, path_);
    if (!s.ok()) return s;
    return FSRandomAccessFileOwnerWrapper::MultiRead(reqs, num_reqs, options, dbg);
  }
  // Async reads would bypass the count: RocksDB falls back to Read on NotSupported.
  IOStatus ReadAsync(rocksdb::FSReadRequest&, const IOOptions&,
                     std::function<void(const rocksdb::FSReadRequest&, void*)>, void*, void**,
                     rocksdb::IOHandleDeleter*, IODebugContext*) override {
    return IOStatus::NotSupported("fault fs: no async reads");
  }

 private:
  FaultFileSystem* const fs_;
  const std::string path_;
};

class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultFileSystem* fs,
                    std::string path, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)), size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return Write(data.size(), std::nullopt,
                 [&] { return FSWritableFileOwnerWrapper::Append(data, options, dbg); });
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return Write(data.size(), std::nullopt,
                 [&] { return FSWritableFileOwnerWrapper::Append(data, options, info, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return Write(data.size(), offset, [&] {
      return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
    });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Write(data.size(), offset, [&] {
      return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
    });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    std::shared_lock lock(fs_->power_mutex());
    IOStatus s = fs_->Check(kFaultWrite, path_);
    if (s.ok()) s = FSWritableFileOwnerWrapper::Truncate(size, options, dbg);
    if (s.ok()) {
      size_ = size;
      fs_->Written(path_, size_, /*truncate=*/true);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return FSWritableFileOwnerWrapper::Sync(options, dbg); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return FSWritableFileOwnerWrapper::Fsync(options, dbg); });
  }
  // sync_file_range: starts write-back, promises nothing; can fail like a sync.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    std::shared_lock lock(fs_->power_mutex());
    IOStatus s = fs_->Check(kFaultSync, path_);
    if (!s.ok()) return s;
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }
  // Fsync through the file system's handle (RocksDB calls it for files it closes).
  bool IsSyncThreadSafe() const override { return true; }

 private:
  template <typename Fn>
  IOStatus Write(size_t bytes, std::optional<uint64_t> offset, Fn&& write) {
    std::shared_lock lock(fs_->power_mutex());
    IOStatus s = fs_->Check(kFaultWrite, path_);
    if (!s.ok()) return s;
    s = write();
    if (s.ok()) {
      size_ = std::max(size_, offset.value_or(size_) + bytes);
      fs_->Written(path_, size_, /*truncate=*/false);
    }
    return s;
  }
  template <typename Fn>
  IOStatus SyncWith(Fn&& sync) {
    std::shared_lock lock(fs_->power_mutex());
    IOStatus s = fs_->Check(kFaultSync, path_);
    if (s.ok()) s = sync();
    if (s.ok()) fs_->Synced(path_);
    return s;
  }

  FaultFileSystem* const fs_;
  const std::string path_;
  uint64_t size_;
};

class FaultDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, FaultFileSystem* fs, std::string path)
      : FSDirectoryWrapper(std::move(dir)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return FSDirectoryWrapper::Fsync(options, dbg); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    return SyncWith(
        [&] { return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options); });
  }

 private:
  template <typename Fn>
  IOStatus SyncWith(Fn&& sync) {
    std::shared_lock lock(fs_->power_mutex());
    IOStatus s = fs_->Check(kFaultDirSync, path_);
    if (s.ok()) s = sync();
    if (s.ok()) fs_->DirSynced(path_);
    return s;
  }

  FaultFileSystem* const fs_;
  const std::string path_;
};

}  // namespace

const char* FaultOpName(FaultOp op) {
  switch (op) {
    case kFaultRead:
      return "read";
    case kFaultWrite:
      return "write";
    case kFaultSync:
      return "sync";
    case kFaultRename:
      return "rename";
    case kFaultDirSync:
      return "directory sync";
    case kFaultCreate:
      return "create";
    case kFaultDelete:
      return "delete";
    default:
      return "operation";
  }
}

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::PowerOff() {
  std::unique_lock lock(power_mu_);
  powered_ = false;
}

bool FaultFileSystem::powered() const { return powered_; }

PowerLossReport FaultFileSystem::DropUnsyncedData(bool tear, uint64_t seed) {
  std::unique_lock power(power_mu_);
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  PowerLossReport report;
  for (const auto& [path, state] : files_) {
    if (state.size <= state.synced) continue;
    uint64_t keep = state.synced;
    if (tear) keep += rng() % (state.size - state.synced + 1);
    if (::truncate(path.c_str(), static_cast<off_t>(keep)) == 0) {
      ++report.files_truncated;
      report.bytes_dropped += state.size - keep;
    }
  }
  for (auto& [dir, state] : dirs_) {
    for (const std::string& name : state.new_names) {
      if (::unlink((dir + "/" + name).c_str()) == 0) ++report.names_removed;
    }
    for (auto it = state.undo_renames.rbegin(); it != state.undo_renames.rend(); ++it) {
      if (::rename(it->first.c_str(), it->second.c_str()) == 0) ++report.renames_undone;
    }
  }
  return report;
}

void FaultFileSystem::PowerOn() {
  std::unique_lock power(power_mu_);
  std::lock_guard lock(mu_);
  // Backups of displaced files whose restore did not happen (their rename was synced):
  // garbage now.
  for (const auto& [dir, state] : dirs_) {
    for (const auto& [from, to] : state.undo_renames) {
      if (from.find(kDisplacedTag) != std::string::npos) ::unlink(from.c_str());
    }
  }
  files_.clear();
  dirs_.clear();
  powered_ = true;
}

void FaultFileSystem::InjectError(const FaultSpec& spec) {
  std::lock_guard lock(mu_);
  spec_ = spec;
  matched_ = 0;
  injected_ = 0;
  last_injected_.clear();
}

void FaultFileSystem::ClearError() { InjectError(FaultSpec{}); }

uint64_t FaultFileSystem::injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

std::string FaultFileSystem::last_injected() const {
  std::lock_guard lock(mu_);
  return last_injected_;
}

uint64_t FaultFileSystem::OpCount(unsigned ops) const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [op, count] : counts_) {
    if ((ops & op) != 0) total += count;
  }
  return total;
}

void FaultFileSystem::ResetCounts() {
  std::lock_guard lock(mu_);
  counts_.clear();
}

IOStatus FaultFileSystem::Check(FaultOp op, const std::string& path) {
  if (op != kFaultRead && !powered_) return PowerIsOff(op, path);
  std::lock_guard lock(mu_);
  ++counts_[op];
  if ((spec_.ops & op) == 0) return IOStatus::OK();
  if (!spec_.path_contains.empty() && path.find(spec_.path_contains) == std::string::npos) {
    return IOStatus::OK();
  }
  ++matched_;
  if (matched_ < spec_.nth || (matched_ > spec_.nth && !spec_.sticky)) return IOStatus::OK();
  ++injected_;
  bool nospace = spec_.error == FaultError::kNoSpace;
  last_injected_ = std::string("injected ") + (nospace ? "ENOSPC" : "EIO") + ": " +
                   FaultOpName(op) + " of '" + path + "'";
  return nospace ? IOStatus::NoSpace(last_injected_) : IOStatus::IOError(last_injected_);
}

void FaultFileSystem::Written(const std::string& path, uint64_t end, bool truncate) {
  std::lock_guard lock(mu_);
  FileState& state = files_[path];
  state.size = end;
  if (truncate) state.synced = std::min(state.synced, end);
}

void FaultFileSystem::Synced(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it != files_.end()) it->second.synced = it->second.size;
}

void FaultFileSystem::DirSynced(const std::string& dir) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return;
  for (const auto& [from, to] : it->second.undo_renames) {
    if (from.find(kDisplacedTag) != std::string::npos) ::unlink(from.c_str());
  }
  dirs_.erase(it);
}

void FaultFileSystem::NoteNewName(const std::string& path) {
  dirs_[DirOf(path)].new_names.insert(BaseOf(path));
}

IOStatus FaultFileSystem::OpenWritable(const std::string& path, bool existed, bool truncated,
                                       std::unique_ptr<rocksdb::FSWritableFile> file,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result) {
  uint64_t size = 0;
  if (existed && !truncated && !target()->GetFileSize(path, IOOptions(), &size, nullptr).ok()) {
    size = 0;
  }
  {
    std::lock_guard lock(mu_);
    auto known = files_.find(path);
    // A file this file system did not see written is durable as found; a truncated one
    // lost its contents for good.
    uint64_t synced = known == files_.end() ? size : std::min(known->second.synced, size);
    files_[path] = FileState{size, truncated ? 0 : synced};
    if (!existed) NoteNewName(path);
  }
  *result = std::make_unique<FaultWritableFile>(std::move(file), this, path, size);
  return IOStatus::OK();
}

IOStatus FaultFileSystem::NewSequentialFile(const std::string& fname,
                                            const rocksdb::FileOptions& options,
                                            std::unique_ptr<rocksdb::FSSequentialFile>* result,
                                            IODebugContext* dbg) {
  std::string path = Normalize(fname);
  IOStatus s = Check(kFaultRead, path);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  s = target()->NewSequentialFile(fname, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FaultSequentialFile>(std::move(file), this, path);
  return s;
}

IOStatus FaultFileSystem::NewRandomAccessFile(const std::string& fname,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                              IODebugContext* dbg) {
  std::string path = Normalize(fname);
  IOStatus s = Check(kFaultRead, path);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  s = target()->NewRandomAccessFile(fname, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FaultRandomAccessFile>(std::move(file), this, path);
  return s;
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& fname,
                                          const rocksdb::FileOptions& options,
                                          std::unique_ptr<rocksdb::FSWritableFile>* result,
                                          IODebugContext* dbg) {
  std::string path = Normalize(fname);
  std::shared_lock power(power_mu_);
  IOStatus s = Check(kFaultCreate, path);
  if (!s.ok()) return s;
  bool existed = target()->FileExists(fname, IOOptions(), nullptr).ok();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  return OpenWritable(path, existed, /*truncated=*/true, std::move(file), result);
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& fname,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  std::string path = Normalize(fname);
  std::shared_lock power(power_mu_);
  IOStatus s = Check(kFaultCreate, path);
  if (!s.ok()) return s;
  bool existed = target()->FileExists(fname, IOOptions(), nullptr).ok();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  return OpenWritable(path, existed, /*truncated=*/false, std::move(file), result);
}

IOStatus FaultFileSystem::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                            const rocksdb::FileOptions& options,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            IODebugContext* dbg) {
  // A rename and a truncating open: recycled WAL files (off in refkv's options).
  IOStatus s = RenameFile(old_fname, fname, options.io_options, dbg);
  if (!s.ok()) return s;
  return NewWritableFile(fname, options, result, dbg);
}

IOStatus FaultFileSystem::NewDirectory(const std::string& name, const IOOptions& options,
                                       std::unique_ptr<rocksdb::FSDirectory>* result,
                                       IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, options, &dir, dbg);
  if (s.ok()) *result = std::make_unique<FaultDirectory>(std::move(dir), this, Normalize(name));
  return s;
}

IOStatus FaultFileSystem::DeleteFile(const std::string& fname, const IOOptions& options,
                                     IODebugContext* dbg) {
  std::string path = Normalize(fname);
  std::shared_lock power(power_mu_);
  IOStatus s = Check(kFaultDelete, path);
  if (!s.ok()) return s;
  s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(path);
    auto it = dirs_.find(DirOf(path));
    if (it != dirs_.end()) it->second.new_names.erase(BaseOf(path));
  }
  return s;
}

IOStatus FaultFileSystem::RenameFile(const std::string& src, const std::string& target_name,
                                     const IOOptions& options, IODebugContext* dbg) {
  std::string from = Normalize(src);
  std::string to = Normalize(target_name);
  std::shared_lock power(power_mu_);
  IOStatus s = Check(kFaultRename, to);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  DirState& from_dir = dirs_[DirOf(from)];
  DirState& to_dir = dirs_[DirOf(to)];
  bool from_new = from_dir.new_names.count(BaseOf(from)) != 0;
  bool to_new = to_dir.new_names.count(BaseOf(to)) != 0;
  // A durable file at `to` is replaced: keep its contents under a hidden name, restored
  // if the power fails before the directory is synced.
  std::string displaced;
  if (!to_new && ::access(to.c_str(), F_OK) == 0) {
    displaced = to + kDisplacedTag + std::to_string(++displaced_seq_);
    if (::link(to.c_str(), displaced.c_str()) != 0) displaced.clear();
  }
  s = target()->RenameFile(src, target_name, options, dbg);
  if (!s.ok()) {
    if (!displaced.empty()) ::unlink(displaced.c_str());
    return s;
  }
  auto file = files_.find(from);
  if (file != files_.end()) {
    FileState state = file->second;
    files_.erase(file);
    files_[to] = state;
  }
  if (from_new) {
    from_dir.new_names.erase(BaseOf(from));
    to_dir.new_names.insert(BaseOf(to));
  } else {
    to_dir.undo_renames.emplace_back(to, from);
  }
  if (!displaced.empty()) to_dir.undo_renames.emplace_back(displaced, to);
  return s;
}

IOStatus FaultFileSystem::LinkFile(const std::string& src, const std::string& target_name,
                                   const IOOptions& options, IODebugContext* dbg) {
  std::string to = Normalize(target_name);
  std::shared_lock power(power_mu_);
  IOStatus s = Check(kFaultRename, to);
  if (!s.ok()) return s;
  s = target()->LinkFile(src, target_name, options, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    NoteNewName(to);
  }
  return s;
}

IOStatus FaultFileSystem::GetChildren(const std::string& dir, const IOOptions& options,
                                      std::vector<std::string>* result, IODebugContext* dbg) {
  IOStatus s = target()->GetChildren(dir, options, result, dbg);
  if (s.ok()) {
    std::erase_if(*result, [](const std::string& name) {
      return name.find(kDisplacedTag) != std::string::npos;
    });
  }
  return s;
}

ScopedFaultFs::ScopedFaultFs() : fs_(std::make_shared<FaultFileSystem>()) {
  io::SetRocksBaseFileSystem(fs_);
}

ScopedFaultFs::~ScopedFaultFs() { io::SetRocksBaseFileSystem(nullptr); }

}  // namespace refkv::testing
