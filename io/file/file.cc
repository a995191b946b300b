// io::File: opening, back-end choice (run-time probe, fallback, REFKV_IO_URING) and
// the synchronous conveniences built on the batched calls.
#include "io/file.h"

#include <fcntl.h>
#include <liburing.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>

#include "base/hex.h"
#include "base/random.h"
#include "io/file/backends.h"

namespace refkv::io {
namespace internal {

Status IoErrorAt(std::string_view verb, const std::string& path, uint64_t offset, size_t length,
                 int err) {
  std::string msg = "io: " + std::string(verb) + " '" + path + "'";
  if (length > 0 || offset > 0) {
    msg += " at offset " + std::to_string(offset) + " (length " + std::to_string(length) + ")";
  }
  msg += ": " + std::string(std::strerror(err));
  bool retryable = err == EAGAIN || err == EINTR;
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  return Status::IOError(msg, retryable);
}

}  // namespace internal

namespace {

bool EnvForbidsUring() {
  const char* v = std::getenv("REFKV_IO_URING");
  return v != nullptr &&
         (std::strcmp(v, "0") == 0 || std::strcmp(v, "false") == 0 || std::strcmp(v, "off") == 0);
}

void LogBackendOnce(Backend backend, const std::string& reason) {
  static std::once_flag once;
  std::call_once(once, [&] {
    if (backend == Backend::kUring) {
      spdlog::debug("refkv io: using io_uring for batched file I/O");
    } else {
      spdlog::debug("refkv io: using pread/pwrite for file I/O ({})", reason);
    }
  });
}

Result<std::unique_ptr<File>> Wrap(int fd, bool owned, const std::string& path,
                                   const FileOptions& options) {
  if (options.queue_depth == 0 || options.queue_depth > 4096) {
    if (owned) ::close(fd);
    return Status::InvalidArgument("io: queue_depth must be 1..4096, got " +
                                   std::to_string(options.queue_depth));
  }
  Backend want = options.backend;
  std::string reason;
  if (want == Backend::kAuto && EnvForbidsUring()) {
    want = Backend::kPosix;
    reason = "forced by REFKV_IO_URING=0";
  }
  if (want == Backend::kPosix && reason.empty()) reason = "forced by FileOptions";
  if (want != Backend::kPosix) {
    int err = 0;
    auto file = internal::NewUringFile(fd, owned, path, options.queue_depth, &err);
    if (file.ok()) {
      LogBackendOnce(Backend::kUring, "");
      return file;
    }
    if (want == Backend::kUring) {
      if (owned) ::close(fd);
      return Status::Unsupported("io: io_uring unavailable for '" + path +
                                 "': io_uring_setup: " + std::strerror(err));
    }
    reason = std::string("io_uring_setup failed: ") + std::strerror(err);
  }
  LogBackendOnce(Backend::kPosix, reason);
  return internal::NewPosixFile(fd, owned, path);
}

Result<std::unique_ptr<File>> OpenPath(const std::string& path, int flags,
                                       const FileOptions& options) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return Status::AlreadyExists("io: open '" + path + "': file exists");
    if (err == ELOOP && (flags & O_NOFOLLOW) != 0) {
      return Status::IOError("io: open '" + path +
                             "': is a symbolic link (refusing to write through it)");
    }
    return internal::IoErrorAt("open", path, 0, 0, err);
  }
  return Wrap(fd, true, path, options);
}

}  // namespace

std::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kUring:
      return "io_uring";
    case Backend::kPosix:
      return "posix";
  }
  return "?";
}

bool UringAvailable() {
  static const bool available = [] {
    io_uring ring;
    if (io_uring_queue_init(2, &ring, 0) < 0) return false;
    io_uring_queue_exit(&ring);
    return true;
  }();
  return available;
}

Result<std::unique_ptr<File>> File::OpenForRead(const std::string& path,
                                                const FileOptions& options) {
  return OpenPath(path, O_RDONLY, options);
}

Result<std::unique_ptr<File>> File::OpenForWrite(const std::string& path, WriteMode mode,
                                                 const FileOptions& options) {
  int flags = O_RDWR | O_NOFOLLOW;
  switch (mode) {
    case WriteMode::kCreateOrTruncate:
      flags |= O_CREAT | O_TRUNC;
      break;
    case WriteMode::kCreateNew:
      flags |= O_CREAT | O_EXCL;
      break;
    case WriteMode::kExisting:
      break;
  }
  return OpenPath(path, flags, options);
}

Result<std::unique_ptr<File>> File::CreateTemp(const std::string& path, std::string* temp_path,
                                               const FileOptions& options) {
  std::mt19937_64& rng = ThreadRng();  // reseeded after fork: no name shared with a parent
  for (int attempt = 0;; ++attempt) {
    std::string name = path + ".tmp-" + HexUint64(rng());
    auto file = OpenForWrite(name, WriteMode::kCreateNew, options);
    // A taken name is someone else's file: leave it and draw another.
    if (file.status().IsAlreadyExists() && attempt < 16) continue;
    if (file.ok()) *temp_path = std::move(name);
    return file;
  }
}

Result<std::unique_ptr<File>> File::Adopt(int fd, const std::string& name,
                                          const FileOptions& options) {
  return Wrap(fd, false, name, options);
}

Status File::ReadBatch(std::span<const ReadRequest> requests, std::vector<size_t>* bytes) {
  if (InFlight() != 0) return Status::InvalidArgument("io: ReadBatch with requests in flight");
  // Tags are replaced by request indexes so results map back to their requests.
  std::vector<ReadRequest> indexed(requests.begin(), requests.end());
  for (size_t i = 0; i < indexed.size(); ++i) indexed[i].tag = i;
  if (bytes) bytes->assign(requests.size(), 0);
  Status first = SubmitReads(indexed);
  size_t first_index = SIZE_MAX;
  while (InFlight() > 0) {
    REFKV_ASSIGN_OR_RETURN(auto done, Reap(InFlight()));
    for (auto& c : done) {
      if (bytes) (*bytes)[c.tag] = c.bytes;
      if (!c.status.ok() && c.tag < first_index) {
        first_index = c.tag;
        first = c.status;
      }
    }
  }
  return first;
}

Status File::WriteBatch(std::span<const WriteRequest> requests) {
  if (InFlight() != 0) return Status::InvalidArgument("io: WriteBatch with requests in flight");
  std::vector<WriteRequest> indexed(requests.begin(), requests.end());
  for (size_t i = 0; i < indexed.size(); ++i) indexed[i].tag = i;
  Status first = SubmitWrites(indexed);
  size_t first_index = SIZE_MAX;
  while (InFlight() > 0) {
    REFKV_ASSIGN_OR_RETURN(auto done, Reap(InFlight()));
    for (auto& c : done) {
      if (!c.status.ok() && c.tag < first_index) {
        first_index = c.tag;
        first = c.status;
      }
    }
  }
  return first;
}

Result<size_t> File::ReadAt(uint64_t offset, std::span<char> buffer) {
  ReadRequest r{offset, buffer, 0};
  std::vector<size_t> bytes;
  REFKV_RETURN_IF_ERROR(ReadBatch(std::span<const ReadRequest>(&r, 1), &bytes));
  return bytes[0];
}

Status File::WriteAt(uint64_t offset, std::string_view data) {
  WriteRequest w{offset, std::span<const char>(data.data(), data.size()), 0};
  return WriteBatch(std::span<const WriteRequest>(&w, 1));
}

}  // namespace refkv::io
