// The pread/pwrite back end: every request runs synchronously inside Submit*.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/file/backends.h"

namespace refkv::io::internal {
namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, bool owned, std::string path)
      : fd_(fd), owned_(owned), path_(std::move(path)) {}
  ~PosixFile() override { (void)Close(); }

  Status SubmitReads(std::span<const ReadRequest> requests) override {
    if (closed_) return Closed();
    for (const ReadRequest& r : requests) {
      Completion c{r.tag, 0, Status::OK()};
      while (c.bytes < r.buffer.size()) {
        ssize_t n = ::pread(fd_, r.buffer.data() + c.bytes, r.buffer.size() - c.bytes,
                            static_cast<off_t>(r.offset + c.bytes));
        if (n < 0) {
          if (errno == EINTR) continue;
          c.status = IoErrorAt("read", path_, r.offset, r.buffer.size(), errno);
          break;
        }
        if (n == 0) break;  // end of file
        c.bytes += static_cast<size_t>(n);
      }
      ready_.push_back(std::move(c));
    }
    return Status::OK();
  }

  Status SubmitWrites(std::span<const WriteRequest> requests) override {
    if (closed_) return Closed();
    for (const WriteRequest& w : requests) {
      Completion c{w.tag, 0, Status::OK()};
      while (c.bytes < w.data.size()) {
        ssize_t n = ::pwrite(fd_, w.data.data() + c.bytes, w.data.size() - c.bytes,
                             static_cast<off_t>(w.offset + c.bytes));
        if (n < 0) {
          if (errno == EINTR) continue;
          c.status = IoErrorAt("write", path_, w.offset, w.data.size(), errno);
          break;
        }
        if (n == 0) {
          c.status = IoErrorAt("write", path_, w.offset, w.data.size(), EIO);
          break;
        }
        c.bytes += static_cast<size_t>(n);
      }
      ready_.push_back(std::move(c));
    }
    return Status::OK();
  }

  Result<std::vector<Completion>> Reap(size_t) override {
    std::vector<Completion> out;
    out.swap(ready_);
    return out;
  }

  size_t InFlight() const override { return ready_.size(); }

  Status RegisterBuffers(const std::vector<std::span<char>>&) override { return Status::OK(); }

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
    closed_ = true;
    ready_.clear();
    if (owned_ && ::close(fd_) != 0) return IoErrorAt("close", path_, 0, 0, errno);
    return Status::OK();
  }

  Backend backend() const override { return Backend::kPosix; }
  const std::string& path() const override { return path_; }

 private:
  Status Closed() const { return Status::InvalidArgument("io: file '" + path_ + "' is closed"); }

  int fd_;
  bool owned_;
  bool closed_ = false;
  std::string path_;
  std::vector<Completion> ready_;
};

}  // namespace

std::unique_ptr<File> NewPosixFile(int fd, bool owned, std::string path) {
  return std::make_unique<PosixFile>(fd, owned, std::move(path));
}

}  // namespace refkv::io::internal
