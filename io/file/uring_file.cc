// The io_uring back end: one ring per File; a slot per request in flight (the slot
// index is the SQE's user_data), short transfers resubmitted from the same slot.
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/file/backends.h"

namespace refkv::io::internal {
namespace {

class UringFile final : public File {
 public:
  UringFile(int fd, bool owned, std::string path, unsigned depth)
      : fd_(fd), owned_(owned), path_(std::move(path)), slots_(depth) {
    free_.reserve(depth);
    for (unsigned i = depth; i > 0; --i) free_.push_back(i - 1);
  }
  ~UringFile() override { (void)Close(); }

  io_uring* ring() { return &ring_; }
  // The ring could not be created: nothing to tear down, the caller keeps the descriptor.
  void Abandon() { closed_ = true; }

  Status SubmitReads(std::span<const ReadRequest> requests) override {
    if (closed_) return Closed();
    for (const ReadRequest& r : requests) {
      REFKV_RETURN_IF_ERROR(Queue(false, r.offset, r.buffer.data(), r.buffer.size(), r.tag));
    }
    return SubmitQueued();
  }

  Status SubmitWrites(std::span<const WriteRequest> requests) override {
    if (closed_) return Closed();
    for (const WriteRequest& w : requests) {
      REFKV_RETURN_IF_ERROR(
          Queue(true, w.offset, const_cast<char*>(w.data.data()), w.data.size(), w.tag));
    }
    return SubmitQueued();
  }

  Result<std::vector<Completion>> Reap(size_t min_completions) override {
    if (closed_) return Closed();
    size_t target = std::min(min_completions, InFlight());
    REFKV_RETURN_IF_ERROR(Drain(false));
    while (ready_.size() < target) REFKV_RETURN_IF_ERROR(Drain(true));
    std::vector<Completion> out;
    out.swap(ready_);
    return out;
  }

  size_t InFlight() const override { return active_ + ready_.size(); }

  Status RegisterBuffers(const std::vector<std::span<char>>& buffers) override {
    if (closed_) return Closed();
    if (active_ != 0) return Status::InvalidArgument("io: RegisterBuffers with requests in flight");
    if (!registered_.empty()) {
      io_uring_unregister_buffers(&ring_);
      registered_.clear();
    }
    if (buffers.empty()) return Status::OK();
    std::vector<iovec> iov;
    for (auto b : buffers) iov.push_back({b.data(), b.size()});
    int rc = io_uring_register_buffers(&ring_, iov.data(), static_cast<unsigned>(iov.size()));
    if (rc < 0) return IoErrorAt("register buffers for", path_, 0, 0, -rc);
    registered_ = buffers;
    return Status::OK();
  }

  Status Sync() override {
    if (closed_) return Closed();
    if (::fdatasync(fd_) != 0) return IoErrorAt("fdatasync", path_, 0, 0, errno);
    return Status::OK();
  }

  Result<uint64_t> Size() override {
    if (closed_) return Closed();
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoErrorAt("fstat", path_, 0, 0, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Close() override {
    if (closed_) return Status::OK();
    // Buffers of requests in flight belong to the caller: wait for the kernel to finish.
    while (active_ > 0) {
      if (!Drain(true).ok()) break;
    }
    closed_ = true;
    ready_.clear();
    io_uring_queue_exit(&ring_);
    if (owned_ && ::close(fd_) != 0) return IoErrorAt("close", path_, 0, 0, errno);
    return Status::OK();
  }

  Backend backend() const override { return Backend::kUring; }
  const std::string& path() const override { return path_; }

 private:
  struct Slot {
    bool write = false;
    uint64_t offset = 0;
    char* buf = nullptr;
    size_t len = 0;
    size_t done = 0;
    uint64_t tag = 0;
  };

  Status Closed() const { return Status::InvalidArgument("io: file '" + path_ + "' is closed"); }

  // Takes a free slot (waiting for a completion if all are busy) and prepares its SQE.
  Status Queue(bool write, uint64_t offset, char* buf, size_t len, uint64_t tag) {
    while (free_.empty()) {
      REFKV_RETURN_IF_ERROR(SubmitQueued());
      REFKV_RETURN_IF_ERROR(Drain(true));
    }
    unsigned index = free_.back();
    free_.pop_back();
    slots_[index] = Slot{write, offset, buf, len, 0, tag};
    ++active_;
    if (len == 0) {  // nothing to do: complete at once, no SQE
      Finish(index, Status::OK());
      return Status::OK();
    }
    return Prep(index);
  }

  // Prepares the SQE for the rest of slot `index`'s transfer.
  Status Prep(unsigned index) {
    Slot& s = slots_[index];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      REFKV_RETURN_IF_ERROR(SubmitQueued());
      sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) return Status::Internal("io: no free submission entry");
    }
    char* p = s.buf + s.done;
    unsigned n = static_cast<unsigned>(std::min<size_t>(s.len - s.done, 1u << 30));
    uint64_t off = s.offset + s.done;
    int fixed = FixedIndex(p, n);
    if (s.write) {
      if (fixed >= 0) {
        io_uring_prep_write_fixed(sqe, fd_, p, n, off, fixed);
      } else {
        io_uring_prep_write(sqe, fd_, p, n, off);
      }
    } else {
      if (fixed >= 0) {
        io_uring_prep_read_fixed(sqe, fd_, p, n, off, fixed);
      } else {
        io_uring_prep_read(sqe, fd_, p, n, off);
      }
    }
    io_uring_sqe_set_data64(sqe, index);
    ++queued_;
    return Status::OK();
  }

  int FixedIndex(const char* p, size_t n) const {
    for (size_t i = 0; i < registered_.size(); ++i) {
      const char* b = registered_[i].data();
      if (p >= b && p + n <= b + registered_[i].size()) return static_cast<int>(i);
    }
    return -1;
  }

  Status SubmitQueued() {
    while (queued_ > 0) {
      int rc = io_uring_submit(&ring_);
      if (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY) {
        if (active_ > ready_.size()) REFKV_RETURN_IF_ERROR(Drain(true));
        continue;
      }
      if (rc < 0) return IoErrorAt("submit to", path_, 0, 0, -rc);
      queued_ -= std::min<unsigned>(queued_, static_cast<unsigned>(rc));
    }
    return Status::OK();
  }

  // Processes ready CQEs; with `wait`, blocks for at least one first.
  Status Drain(bool wait) {
    if (wait && queued_ > 0) REFKV_RETURN_IF_ERROR(SubmitQueued());
    io_uring_cqe* cqe = nullptr;
    if (wait) {
      int rc;
      do {
        rc = io_uring_wait_cqe(&ring_, &cqe);
      } while (rc == -EINTR);
      if (rc < 0) return IoErrorAt("wait for completions of", path_, 0, 0, -rc);
    }
    bool resubmit = false;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) {
      unsigned index = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
      int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      resubmit |= OnCompletion(index, res);
    }
    if (resubmit) REFKV_RETURN_IF_ERROR(SubmitQueued());
    return Status::OK();
  }

  // Returns true if the slot was resubmitted.
  bool OnCompletion(unsigned index, int res) {
    Slot& s = slots_[index];
    const char* verb = s.write ? "write" : "read";
    if (res == -EINTR || res == -EAGAIN) {
      Status st = Prep(index);
      if (st.ok()) return true;
      Finish(index, st);
      return false;
    }
    if (res < 0) {
      Finish(index, IoErrorAt(verb, path_, s.offset, s.len, -res));
      return false;
    }
    if (res == 0) {
      // A read at EOF completes short; a write that makes no progress is an error.
      Finish(index, s.write ? IoErrorAt(verb, path_, s.offset, s.len, EIO) : Status::OK());
      return false;
    }
    s.done += static_cast<size_t>(res);
    if (s.done < s.len) {
      Status st = Prep(index);
      if (st.ok()) return true;
      Finish(index, st);
      return false;
    }
    Finish(index, Status::OK());
    return false;
  }

  void Finish(unsigned index, Status status) {
    Slot& s = slots_[index];
    ready_.push_back(Completion{s.tag, s.done, std::move(status)});
    free_.push_back(index);
    --active_;
  }

  int fd_;
  bool owned_;
  bool closed_ = false;
  std::string path_;
  io_uring ring_{};
  std::vector<Slot> slots_;
  std::vector<unsigned> free_;
  size_t active_ = 0;    // slots in use (in the kernel or queued)
  unsigned queued_ = 0;  // SQEs prepared but not yet submitted
  std::vector<Completion> ready_;
  std::vector<std::span<char>> registered_;
};

}  // namespace

Result<std::unique_ptr<File>> NewUringFile(int fd, bool owned, std::string path,
                                           unsigned queue_depth, int* setup_errno) {
  auto file = std::make_unique<UringFile>(fd, owned, std::move(path), queue_depth);
  int rc = io_uring_queue_init(queue_depth, file->ring(), 0);
  if (rc < 0) {
    *setup_errno = -rc;
    file->Abandon();
    return Status::Unsupported("io_uring_setup failed");
  }
  *setup_errno = 0;
  return std::unique_ptr<File>(std::move(file));
}

}  // namespace refkv::io::internal
