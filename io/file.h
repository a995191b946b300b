// io::File: batched file I/O. Many reads or writes at given offsets are submitted in
// one call and their completions reaped later, so a caller keeps a queue of requests
// in flight (read-ahead, write-behind) instead of one system call per request.
//
// Two back ends, one interface and one test suite:
//   - io_uring (liburing): one ring per File of `queue_depth` entries; a whole batch
//     goes to the kernel in one io_uring_enter; buffers registered with
//     RegisterBuffers are used with READ_FIXED / WRITE_FIXED (no per-I/O page pinning).
//   - pread/pwrite: each request runs synchronously inside Submit*; Reap hands back
//     the completions. Used when io_uring is missing or forbidden (io_uring_setup fails
//     with ENOSYS on old kernels, EPERM under container seccomp, ENOMEM on a small
//     memlock limit ...), or when forced by FileOptions::backend = kPosix or by the
//     environment variable REFKV_IO_URING=0. The back end chosen is logged once per
//     process at debug level (spdlog), with the reason for a fallback.
//
// The probe is done at run time by actually creating a ring (UringAvailable()).
//
// Semantics shared by both back ends:
//   - A read completes with bytes == length, or fewer only at end of file (a short
//     read in the middle of a file is resubmitted internally). Reading at or past EOF
//     completes OK with 0 bytes.
//   - A write completes with bytes == length or an error (short writes are resubmitted).
//   - Requests in one batch may complete in any order; each carries the caller's tag.
//   - Buffers belong to the caller and must stay valid and untouched until the
//     request's completion has been reaped.
//   - Errors are per request (Completion::status, IOError naming the file, the offset
//     and the length) unless the whole submission failed (then Submit* returns it).
//
// Thread-safety: a File is not thread-safe; one thread submits and reaps at a time.
// Distinct Files are independent.
#ifndef REFKV_IO_FILE_H_
#define REFKV_IO_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace refkv::io {

enum class Backend {
  kAuto,   // io_uring if a ring can be created and REFKV_IO_URING != "0", else kPosix
  kUring,  // io_uring or fail with Unsupported
  kPosix,  // pread/pwrite
};

// "auto", "io_uring" or "posix".
std::string_view BackendName(Backend backend);

struct FileOptions {
  Backend backend = Backend::kAuto;
  // The most requests in flight at once (the ring's size). Submitting more than this
  // blocks inside Submit* until earlier requests complete (their completions are kept
  // for Reap). 1..4096.
  unsigned queue_depth = 32;
};

// OpenForWrite modes. No mode follows a symbolic link at the path itself (O_NOFOLLOW):
// nothing is ever written through a link planted where a file is expected.
enum class WriteMode {
  kCreateOrTruncate,  // create, or truncate an existing file to 0 bytes
  kCreateNew,         // AlreadyExists if anything exists at the path (a link too): O_EXCL
  kExisting,          // open an existing file for writing without truncation; NotFound if missing
};

// One read: up to buffer.size() bytes at `offset` into `buffer`.
struct ReadRequest {
  uint64_t offset = 0;
  std::span<char> buffer;
  uint64_t tag = 0;  // returned in the Completion
};

// One write of all of `data` at `offset`.
struct WriteRequest {
  uint64_t offset = 0;
  std::span<const char> data;
  uint64_t tag = 0;
};

struct Completion {
  uint64_t tag = 0;
  // Bytes transferred: for a read, fewer than requested only at end of file.
  size_t bytes = 0;
  // OK, or IOError naming the file, offset and length.
  Status status;
};

// True if this process can create an io_uring ring (probed once, cached). Does not
// consult REFKV_IO_URING.
bool UringAvailable();

class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  // Closes the descriptor; waits for requests still in flight (their completions are
  // dropped), so buffers may be freed after the destructor returns.
  virtual ~File() = default;

  // Opens `path` for reading. NotFound if it does not exist, IOError otherwise,
  // InvalidArgument for a bad queue depth, Unsupported for kUring without io_uring.
  static Result<std::unique_ptr<File>> OpenForRead(const std::string& path,
                                                   const FileOptions& options = {});
  // Opens `path` for reading and writing (see WriteMode). Errors as OpenForRead, plus
  // AlreadyExists for kCreateNew, and IOError naming the path if it is a symbolic link.
  static Result<std::unique_ptr<File>> OpenForWrite(const std::string& path, WriteMode mode,
                                                    const FileOptions& options = {});
  // Creates a new, empty file beside `path`, named "<path>.tmp-<16 random hex digits>",
  // with O_EXCL | O_NOFOLLOW (kCreateNew): never an existing file, never through a link;
  // a name already taken is retried with another. Sets *temp_path to the name. The
  // caller owns the file: it removes it on failure or renames it into place (io/fs.h).
  static Result<std::unique_ptr<File>> CreateTemp(const std::string& path, std::string* temp_path,
                                                  const FileOptions& options = {});
  // Wraps an already open descriptor (not owned: Close does not close it). For tests
  // of error paths (a bad descriptor) and for callers that open files themselves.
  static Result<std::unique_ptr<File>> Adopt(int fd, const std::string& name,
                                             const FileOptions& options = {});

  // Queues every request and submits them to the kernel (io_uring: one system call
  // per queue_depth requests). Returns once all are submitted; completions are
  // collected by Reap. A non-OK Status means the submission itself failed; requests
  // already accepted still complete and must be reaped.
  virtual Status SubmitReads(std::span<const ReadRequest> requests) = 0;
  virtual Status SubmitWrites(std::span<const WriteRequest> requests) = 0;

  // Waits until at least min(min_completions, InFlight()+ready) completions are
  // available and returns all that are ready (possibly more than asked). Reap(0)
  // never blocks.
  virtual Result<std::vector<Completion>> Reap(size_t min_completions) = 0;

  // Requests submitted whose completions have not been returned by Reap yet.
  virtual size_t InFlight() const = 0;

  // Registers `buffers` with the kernel so requests whose buffer lies inside one of
  // them skip per-request page pinning (io_uring fixed buffers; pays for many small
  // I/Os on the same buffers). Replaces an earlier registration. Precondition:
  // InFlight() == 0. No-op on the posix back end. IOError if the kernel refuses
  // (e.g. RLIMIT_MEMLOCK); requests then still work unregistered.
  virtual Status RegisterBuffers(const std::vector<std::span<char>>& buffers) = 0;

  // fdatasync. Precondition: InFlight() == 0 (or the unfinished writes are not covered).
  virtual Status Sync() = 0;

  // The file's current size in bytes (fstat).
  virtual Result<uint64_t> Size() = 0;

  // Waits for requests in flight, then closes the descriptor (if owned). Idempotent.
  virtual Status Close() = 0;

  // The back end in use: kUring or kPosix.
  virtual Backend backend() const = 0;
  // The path given at open (for messages).
  virtual const std::string& path() const = 0;

  // Convenience, built on the batched calls (require InFlight() == 0):
  // Reads every request and waits for all; the first failing request's Status is
  // returned; `bytes` (optional, one per request) receives the bytes read.
  Status ReadBatch(std::span<const ReadRequest> requests, std::vector<size_t>* bytes = nullptr);
  // Writes every request and waits for all.
  Status WriteBatch(std::span<const WriteRequest> requests);
  // One read; returns the bytes read (< buffer.size() only at EOF).
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer);
  // One write of all of `data`.
  Status WriteAt(uint64_t offset, std::string_view data);
};

}  // namespace refkv::io

#endif  // REFKV_IO_FILE_H_
