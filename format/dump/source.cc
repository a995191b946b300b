// Sources for the dump reader: a file with read-ahead through io::File, and memory.
#include <deque>
#include <memory>

#include "format/dump/reader.h"

namespace refkv::format::internal {
namespace {

constexpr size_t kChunk = 1 << 20;

class FileSource final : public Source {
 public:
  FileSource(std::unique_ptr<io::File> file, uint64_t size, unsigned ahead)
      : file_(std::move(file)), size_(size), ahead_(ahead) {}
  ~FileSource() override { (void)Drain(); }

  const std::string& name() const override { return file_->path(); }
  uint64_t size() const override { return size_; }

  Status Read(uint64_t offset, size_t n, std::string* out) override {
    out->clear();
    if (n == 0) return Status::OK();
    if (offset + n > size_ || offset + n < offset) {
      return Status::Internal("dump source: read past the end of '" + name() + "'");
    }
    uint64_t first = offset / kChunk, last = (offset + n - 1) / kChunk;
    // Not where the stream is: restart the window there.
    if (window_.empty() || first < window_.front()->index || first > window_.back()->index + 1) {
      REFKV_RETURN_IF_ERROR(Drain());
      window_.clear();
    }
    while (!window_.empty() && window_.front()->index < first) {
      REFKV_RETURN_IF_ERROR(WaitFor(*window_.front()));
      window_.pop_front();
    }
    // Keep `ahead_` chunks beyond `last` in flight.
    uint64_t end_chunk = (size_ + kChunk - 1) / kChunk;
    uint64_t want = std::min<uint64_t>(end_chunk, last + 1 + ahead_);
    std::vector<io::ReadRequest> reqs;
    uint64_t next = window_.empty() ? first : window_.back()->index + 1;
    for (; next < want; ++next) {
      auto chunk = std::make_unique<Chunk>();
      chunk->index = next;
      uint64_t len = std::min<uint64_t>(kChunk, size_ - next * kChunk);
      chunk->buf.resize(len);
      reqs.push_back({next * kChunk, std::span<char>(chunk->buf), next});
      window_.push_back(std::move(chunk));
    }
    if (!reqs.empty()) REFKV_RETURN_IF_ERROR(file_->SubmitReads(reqs));
    out->reserve(n);
    for (auto& chunk : window_) {
      if (chunk->index > last) break;
      REFKV_RETURN_IF_ERROR(WaitFor(*chunk));
      uint64_t base = chunk->index * kChunk;
      uint64_t from = std::max(offset, base), to = std::min(offset + n, base + chunk->buf.size());
      out->append(chunk->buf.data() + (from - base), to - from);
    }
    return Status::OK();
  }

 private:
  struct Chunk {
    uint64_t index = 0;
    std::string buf;
    bool done = false;
    Status status;
  };

  Status WaitFor(Chunk& chunk) {
    while (!chunk.done) {
      REFKV_ASSIGN_OR_RETURN(auto done, file_->Reap(1));
      for (auto& c : done) Complete(c);
    }
    return chunk.status;
  }

  void Complete(io::Completion& c) {
    for (auto& chunk : window_) {
      if (chunk->index != c.tag) continue;
      chunk->done = true;
      chunk->status = std::move(c.status);
      if (chunk->status.ok() && c.bytes != chunk->buf.size()) {
        chunk->status =
            Status::Corruption("dump '" + name() + "': file shrank while reading at offset " +
                               std::to_string(chunk->index * kChunk));
      }
      return;
    }
  }

  // Waits for every read in flight (their buffers are ours).
  Status Drain() {
    Status first;
    while (file_->InFlight() > 0) {
      auto done = file_->Reap(file_->InFlight());
      if (!done.ok()) return done.status();
      for (auto& c : *done) Complete(c);
    }
    return first;
  }

  std::unique_ptr<io::File> file_;
  uint64_t size_;
  unsigned ahead_;
  std::deque<std::unique_ptr<Chunk>> window_;
};

class MemorySource final : public Source {
 public:
  MemorySource(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_.size(); }
  Status Read(uint64_t offset, size_t n, std::string* out) override {
    if (offset + n > bytes_.size() || offset + n < offset) {
      return Status::Internal("dump source: read past the end of '" + name_ + "'");
    }
    out->assign(bytes_.substr(offset, n));
    return Status::OK();
  }

 private:
  std::string_view bytes_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path, const io::FileOptions& io) {
  REFKV_ASSIGN_OR_RETURN(auto file, io::File::OpenForRead(path, io));
  REFKV_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  unsigned ahead = std::max(1u, io.queue_depth > 1 ? io.queue_depth - 1 : 1u);
  return std::unique_ptr<Source>(new FileSource(std::move(file), size, ahead));
}

std::unique_ptr<Source> NewMemorySource(std::string_view bytes, std::string name) {
  return std::make_unique<MemorySource>(bytes, std::move(name));
}

}  // namespace refkv::format::internal
