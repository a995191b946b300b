// FaultFileSystem: a RocksDB FileSystem (a FileSystemWrapper over the real one) that
// simulates power loss and injects I/O errors, for tests and the stress tool. Installed
// under a rocks store through io::SetRocksBaseFileSystem (io/rocks_fs.h; ScopedFaultFs
// below), it sees every file of the store and of its committed-range directory.
//
// Power loss. It records, per file opened for writing, how many bytes were written and
// how many were synced (Sync/Fsync; RangeSync does not count), and, per directory, the
// names created or renamed into it since its last directory fsync. DropUnsyncedData
// then does what a power cut does to those files: each is truncated to its synced size
// (with `tear`, to a random length between the synced size and its full size: the last
// unsynced writes torn), each name not yet made durable by a directory fsync is removed,
// a rename whose directory was not synced is undone (a durable file renamed away gets its
// old name back; a durable file replaced by a rename gets its old contents back). Not
// modelled: deletions (a deleted file never comes back), new directories, a file's
// size-only metadata.
//
// The sequence in one process: PowerOff() (every mutating call fails from now on, so the
// store writes nothing more), close the store, DropUnsyncedData(), PowerOn() (what is on
// disk is the durable state now), reopen. In a child process that dies instead:
// PowerOff(), DropUnsyncedData(), _exit (no file is closed through RocksDB, which would
// write again).
//
// I/O errors. InjectError(spec) fails the spec.nth operation of the kinds in spec.ops
// (optionally only on paths containing spec.path_contains) with EIO (IOError) or ENOSPC
// (NoSpace), once or, with `sticky`, that one and every later one (a dead device, a full
// disk) until ClearError. The message names the operation and the file:
// "injected EIO: write of '/tmp/x/db/000004.log'". OpCount counts the operations seen, to
// sweep an injection over every operation of a workload.
//
// Thread-safety: every method may be called from any thread, as RocksDB's threads do.
#ifndef REFKV_TESTS_SUPPORT_FAULT_FS_H_
#define REFKV_TESTS_SUPPORT_FAULT_FS_H_

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace refkv::testing {

// Operation kinds (a bit each, to make masks).
enum FaultOp : unsigned {
  kFaultRead = 1,      // Read, PositionedRead, MultiRead of a file
  kFaultWrite = 2,     // Append, PositionedAppend, Truncate
  kFaultSync = 4,      // Sync, Fsync, RangeSync of a file
  kFaultRename = 8,    // RenameFile, LinkFile
  kFaultDirSync = 16,  // the fsync of a directory
  kFaultCreate = 32,   // opening a file for writing
  kFaultDelete = 64,   // DeleteFile
  kFaultAll = 127,
};
const char* FaultOpName(FaultOp op);

enum class FaultError { kEio, kNoSpace };

struct FaultSpec {
  unsigned ops = 0;  // mask of FaultOp; 0 injects nothing
  uint64_t nth = 1;  // the nth matching operation (from 1, counted from InjectError) fails
  FaultError error = FaultError::kEio;
  bool sticky = false;        // and every matching one after it
  std::string path_contains;  // only operations on paths containing this ("" = all)
};

struct PowerLossReport {
  uint64_t files_truncated = 0;
  uint64_t bytes_dropped = 0;
  uint64_t names_removed = 0;
  uint64_t renames_undone = 0;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());
  ~FaultFileSystem() override;

  static const char* kClassName() { return "RefkvFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // --- power loss ---
  // Every mutating call fails with IOError("... power is off") from now until PowerOn;
  // a call running now finishes first.
  void PowerOff();
  // Drops what was not durable (see above). Call with the power off, once nothing will
  // write through a handle opened before (store closed, or the process about to _exit).
  PowerLossReport DropUnsyncedData(bool tear, uint64_t seed);
  // Forgets the records (what is on disk is durable now) and lets calls through again.
  void PowerOn();
  bool powered() const;

  // --- I/O errors ---
  void InjectError(const FaultSpec& spec);
  void ClearError();
  // Errors injected since InjectError; the last one's message.
  uint64_t injected() const;
  std::string last_injected() const;
  // Operations of the kinds in `ops` seen since construction or ResetCounts.
  uint64_t OpCount(unsigned ops) const;
  void ResetCounts();

  // --- FileSystem ---
  rocksdb::IOStatus NewSequentialFile(const std::string& fname, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& fname,
                                        const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetChildren(const std::string& dir, const rocksdb::IOOptions& options,
                                std::vector<std::string>* result,
                                rocksdb::IODebugContext* dbg) override;
  // The logger opens its file through this file system (not the wrapped one's).
  rocksdb::IOStatus NewLogger(const std::string& fname, const rocksdb::IOOptions& options,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override {
    return FileSystem::NewLogger(fname, options, result, dbg);
  }

  // --- for the file and directory wrappers (fault_fs.cc) ---
  // Counts the operation and returns the injected error if it is the chosen one, or the
  // power-off error for a mutating operation with the power off.
  rocksdb::IOStatus Check(FaultOp op, const std::string& path);
  std::shared_mutex& power_mutex() { return power_mu_; }
  void Written(const std::string& path, uint64_t end, bool truncate);
  void Synced(const std::string& path);
  void DirSynced(const std::string& dir);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  struct DirState {
    std::set<std::string> new_names;  // created or renamed in, not durable yet
    // Undo on power loss, in reverse order: rename `first` back to `second`.
    std::vector<std::pair<std::string, std::string>> undo_renames;
  };
  rocksdb::IOStatus OpenWritable(const std::string& path, bool existed, bool truncated,
                                 std::unique_ptr<rocksdb::FSWritableFile> file,
                                 std::unique_ptr<rocksdb::FSWritableFile>* result);
  void NoteNewName(const std::string& path);

  // Held shared by every mutating call, exclusively by PowerOff: no call straddles it.
  std::shared_mutex power_mu_;
  std::atomic<bool> powered_{true};

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::map<std::string, DirState> dirs_;
  uint64_t displaced_seq_ = 0;
  FaultSpec spec_;
  uint64_t matched_ = 0;
  uint64_t injected_ = 0;
  std::string last_injected_;
  std::map<FaultOp, uint64_t> counts_;
};

// Installs a FaultFileSystem under every rocks store opened while it lives
// (io::SetRocksBaseFileSystem); restores the default when destroyed.
class ScopedFaultFs {
 public:
  ScopedFaultFs();
  ~ScopedFaultFs();
  ScopedFaultFs(const ScopedFaultFs&) = delete;
  ScopedFaultFs& operator=(const ScopedFaultFs&) = delete;
  FaultFileSystem& operator*() const { return *fs_; }
  FaultFileSystem* operator->() const { return fs_.get(); }
  const std::shared_ptr<FaultFileSystem>& get() const { return fs_; }

 private:
  std::shared_ptr<FaultFileSystem> fs_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_FAULT_FS_H_
