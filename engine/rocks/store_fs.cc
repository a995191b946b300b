#include "engine/rocks/store_fs.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace refkv::kv::rocks {
namespace {

// Caps the preallocation step RocksDB asks for (see store_fs.h).
class CappedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  explicit CappedFile(std::unique_ptr<rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)) {}

  void SetPreallocationBlockSize(size_t size) override {
    FSWritableFileOwnerWrapper::SetPreallocationBlockSize(std::min(size, kMaxPreallocation));
  }
};

// The info log: every write is attempted, none reports a failure (see store_fs.h).
class InfoLogFile final : public CappedFile {
 public:
  using CappedFile::CappedFile;

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Append(data, options, dbg));
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Append(data, options, info, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::PositionedAppend(data, offset, options, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::PositionedAppend(data, offset, options, info, dbg));
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Truncate(size, options, dbg));
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Close(options, dbg));
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Flush(options, dbg));
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Sync(options, dbg));
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::Fsync(options, dbg));
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    return Ok(CappedFile::RangeSync(offset, nbytes, options, dbg));
  }

 private:
  static rocksdb::IOStatus Ok(rocksdb::IOStatus s) {
    s.PermitUncheckedError();
    return rocksdb::IOStatus::OK();
  }
};

class StoreFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit StoreFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}

  static const char* kClassName() { return "RefkvStoreFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
    if (!s.ok()) return s;
    if (IsInfoLog(fname)) {
      *result = std::make_unique<InfoLogFile>(std::move(file));
    } else {
      *result = std::make_unique<CappedFile>(std::move(file));
    }
    return s;
  }

  // FileSystemWrapper hands this to the wrapped file system, whose logger would open
  // its file there, past NewWritableFile above. FileSystem's own implementation opens
  // it through this file system.
  rocksdb::IOStatus NewLogger(const std::string& fname, const rocksdb::IOOptions& options,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override {
    return FileSystem::NewLogger(fname, options, result, dbg);
  }

 private:
  // RocksDB names the info log of a store "LOG" in its directory (db_log_dir is unset),
  // and no other file so.
  static bool IsInfoLog(std::string_view fname) {
    size_t slash = fname.find_last_of('/');
    return fname.substr(slash == std::string_view::npos ? 0 : slash + 1) == "LOG";
  }
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewStoreFileSystem(std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<StoreFileSystem>(std::move(base));
}

}  // namespace refkv::kv::rocks
