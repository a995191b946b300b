// NewUringFileSystem (io/rocks_fs.h): MultiRead through a per-thread io_uring.
#include <fcntl.h>
#include <liburing.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "io/rocks_fs.h"

namespace refkv::io {
namespace {

std::atomic<uint64_t> g_uring_batches{0};
std::atomic<uint64_t> g_uring_requests{0};
std::atomic<uint64_t> g_fallback_batches{0};

bool ProbeRing() {
  io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) != 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

bool EnvForcesOff() {
  const char* v = std::getenv("REFKV_IO_URING");
  return v != nullptr && std::strcmp(v, "0") == 0;
}

// One ring per thread, created on first use; `ok` false if it could not be created.
// Only its own thread submits and reaps, so the kernel may run completion work when
// that thread waits (SINGLE_ISSUER | DEFER_TASKRUN, kernel 6.1+) instead of
// interrupting it once per completion; older kernels refuse the flags and get a plain
// ring.
struct ThreadRing {
  io_uring ring;
  bool ok = false;
  ThreadRing() {
    for (unsigned flags : {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                           unsigned{IORING_SETUP_COOP_TASKRUN}, 0u}) {
      if (io_uring_queue_init(kRingDepth, &ring, flags) == 0) {
        ok = true;
        return;
      }
    }
  }
  ~ThreadRing() {
    if (ok) io_uring_queue_exit(&ring);
  }
};

io_uring* RingOfThisThread() {
  thread_local ThreadRing tr;
  return tr.ok ? &tr.ring : nullptr;
}

class UringRandomAccessFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  UringRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> base, int fd, std::string path)
      : FSRandomAccessFileOwnerWrapper(std::move(base)), fd_(fd), path_(std::move(path)) {}
  ~UringRandomAccessFile() override { ::close(fd_); }

  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    io_uring* ring = num_reqs > 1 ? RingOfThisThread() : nullptr;
    bool scratch = true;
    for (size_t i = 0; i < num_reqs && ring != nullptr; ++i) scratch &= reqs[i].scratch != nullptr;
    if (ring == nullptr || !scratch) {
      g_fallback_batches.fetch_add(1, std::memory_order_relaxed);
      return target()->MultiRead(reqs, num_reqs, options, dbg);
    }
    g_uring_batches.fetch_add(1, std::memory_order_relaxed);
    g_uring_requests.fetch_add(num_reqs, std::memory_order_relaxed);
    return ReadAll(ring, reqs, num_reqs);
  }

 private:
  rocksdb::IOStatus Error(const rocksdb::FSReadRequest& r, int err) const {
    return rocksdb::IOStatus::IOError("io_uring read of '" + path_ + "' at offset " +
                                      std::to_string(r.offset) + ", length " +
                                      std::to_string(r.len) + ": " + std::strerror(err));
  }

  // Submits every request (in waves of at most kRingDepth), resubmits the rest of
  // short reads, and waits for all. done[i]: bytes read; finished requests leave.
  rocksdb::IOStatus ReadAll(io_uring* ring, rocksdb::FSReadRequest* reqs, size_t n) {
    std::vector<size_t> got(n, 0);
    std::vector<size_t> todo;  // requests to (re)submit
    todo.reserve(n);
    for (size_t i = n; i > 0; --i) {
      reqs[i - 1].status = rocksdb::IOStatus::OK();
      if (reqs[i - 1].len == 0) {
        reqs[i - 1].result = rocksdb::Slice(reqs[i - 1].scratch, 0);
      } else {
        todo.push_back(i - 1);
      }
    }
    size_t in_flight = 0;
    while (!todo.empty() || in_flight > 0) {
      size_t queued = 0;
      while (!todo.empty() && in_flight < kRingDepth) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);
        if (sqe == nullptr) break;
        size_t i = todo.back();
        todo.pop_back();
        io_uring_prep_read(sqe, fd_, reqs[i].scratch + got[i],
                           static_cast<unsigned>(reqs[i].len - got[i]), reqs[i].offset + got[i]);
        io_uring_sqe_set_data64(sqe, i);
        ++in_flight;
        ++queued;
      }
      // Once everything is submitted, wait for every read in flight at once: the
      // caller needs them all, and one wake-up per batch costs far less than one per
      // completion. While requests still wait for ring space, refill after each one.
      unsigned wait_nr = todo.empty() ? static_cast<unsigned>(in_flight) : 1;
      int rc = io_uring_submit_and_wait(ring, wait_nr);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
        if (in_flight == queued && queued > 0) {
          // Nothing reached the kernel: fail the batch (RocksDB retries or reports).
          return rocksdb::IOStatus::IOError("io_uring submit for '" + path_ +
                                            "': " + std::strerror(-rc));
        }
      }
      io_uring_cqe* cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(ring, head, cqe) {
        ++seen;
        size_t i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
        int res = cqe->res;
        --in_flight;
        if (res == -EINTR || res == -EAGAIN) {
          todo.push_back(i);
        } else if (res < 0) {
          reqs[i].status = Error(reqs[i], -res);
          reqs[i].result = rocksdb::Slice(reqs[i].scratch, got[i]);
        } else if (res == 0) {  // end of file
          reqs[i].result = rocksdb::Slice(reqs[i].scratch, got[i]);
        } else {
          got[i] += static_cast<size_t>(res);
          if (got[i] < reqs[i].len) {
            todo.push_back(i);
          } else {
            reqs[i].result = rocksdb::Slice(reqs[i].scratch, got[i]);
          }
        }
      }
      io_uring_cq_advance(ring, seen);
    }
    return rocksdb::IOStatus::OK();
  }

  const int fd_;
  const std::string path_;
};

class UringFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit UringFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}

  static const char* kClassName() { return "RefkvUringFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewRandomAccessFile(const std::string& fname,
                                        const rocksdb::FileOptions& file_opts,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewRandomAccessFile(fname, file_opts, result, dbg);
    if (!s.ok()) return s;
    int flags = O_RDONLY | O_CLOEXEC;
    if (file_opts.use_direct_reads) flags |= O_DIRECT;
    int fd = ::open(fname.c_str(), flags);
    if (fd < 0) return s;  // keep the plain file: MultiRead falls back to its own
    *result = std::make_unique<UringRandomAccessFile>(std::move(*result), fd, fname);
    return s;
  }
};

}  // namespace

bool RocksUringUsable() {
  static const bool usable = [] {
    const char* why = nullptr;
    if (EnvForcesOff()) {
      why = "forced by REFKV_IO_URING=0";
    } else if (!ProbeRing()) {
      why = "io_uring_setup failed";
    }
    if (why == nullptr) {
      spdlog::debug("refkv io: RocksDB MultiRead through io_uring");
    } else {
      spdlog::debug("refkv io: RocksDB MultiRead through pread ({})", why);
    }
    return why == nullptr;
  }();
  return usable;
}

std::shared_ptr<rocksdb::FileSystem> NewUringFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                                        const RocksFsOptions& options) {
  if (!options.use_io_uring || !RocksUringUsable()) return base;
  return std::make_shared<UringFileSystem>(base);
}

RocksFsStats GetRocksFsStats() {
  return {g_uring_batches.load(std::memory_order_relaxed),
          g_uring_requests.load(std::memory_order_relaxed),
          g_fallback_batches.load(std::memory_order_relaxed)};
}

}  // namespace refkv::io
