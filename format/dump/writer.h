// Internal: the streaming dump writer (DUMP_FORMAT.md). Records must arrive grouped
// by partition in ascending partition order, keys strictly ascending within one.
//
// Block writes go through io::File with up to io.queue_depth writes in flight, so
// compressing block N+1 overlaps the write of block N. With threads > 1 blocks are
// compressed on a pool of `threads` workers, at most 2 * threads blocks in flight
// (memory: that many raw and compressed blocks); they are written in order, and the
// file is byte-identical to the one a single thread writes (every block is compressed
// on its own with the same parameters).
//
// Thread-safety: one thread at a time calls the writer (the workers are internal).
#ifndef REFKV_FORMAT_DUMP_WRITER_H_
#define REFKV_FORMAT_DUMP_WRITER_H_

#include <xxhash.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "format/dump.h"
#include "io/file.h"

namespace refkv::format::internal {

struct WriterOptions {
  int zstd_level = 3;
  size_t block_size = kDefaultBlockSize;
  io::FileOptions io = {io::Backend::kAuto, 4};
  // Compression workers; 1 compresses on the calling thread. 1..kMaxDumpThreads.
  unsigned threads = 1;
};

class DumpWriter {
 public:
  // Writes the header into `file`, a new empty file the caller created (export: a
  // temporary from io::File::CreateTemp) and removes if this or a later call fails.
  static Result<std::unique_ptr<DumpWriter>> Create(std::unique_ptr<io::File> file,
                                                    const DumpHeader& header,
                                                    const WriterOptions& options);
  ~DumpWriter();
  DumpWriter(const DumpWriter&) = delete;
  DumpWriter& operator=(const DumpWriter&) = delete;

  // Appends a record. InvalidArgument if it is out of order, has an empty partition or
  // key, or a partition, key or value beyond the kv::Store limits (kv::CheckWrite).
  Status Add(std::string_view partition, std::string_view key, std::string_view value);

  // Writes the last block, the footer and the trailer, waits for every write and
  // fdatasyncs. Returns what the file holds.
  Result<DumpInfo> Finish();

  uint64_t records() const { return records_; }
  uint64_t bytes_written() const { return offset_; }

 private:
  DumpWriter(std::unique_ptr<io::File> file, const WriterOptions& options);
  Status FlushBlock();
  // Compresses `raw` (count records) into a framed block (header + payload).
  static Status CompressBlock(void* cctx, const std::string& raw, uint32_t count, std::string* out);
  // Appends finished blocks from the front of jobs_, in order; waits until at most
  // `keep` jobs are left.
  Status DrainJobs(size_t keep);
  void WorkerLoop();
  void StopWorkers();
  Status Append(std::string bytes);
  Status Reap(size_t keep);
  void ClosePartition();

  std::unique_ptr<io::File> file_;
  WriterOptions options_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  XXH64_state_t* file_hash_ = nullptr;
  XXH64_state_t* part_hash_ = nullptr;
  Status error_;

  DumpInfo info_;
  uint64_t offset_ = 0;
  uint64_t records_ = 0;
  std::string raw_;  // records of the block being built
  uint32_t raw_count_ = 0;
  uint64_t next_tag_ = 0;
  struct Pending {
    uint64_t tag;
    std::string bytes;
    bool done = false;
  };
  std::deque<Pending> pending_;

  // Parallel compression (threads > 1). jobs_ holds the blocks in file order; workers
  // claim them through next_job_ (a count of jobs claimed since the start).
  struct Job {
    std::string raw;
    uint32_t count = 0;
    std::string out;
    Status status;
    bool done = false;
  };
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Job> jobs_;
  uint64_t jobs_popped_ = 0, jobs_claimed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;

  bool in_partition_ = false;
  DumpPartition current_;
  std::string last_key_;
};

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_DUMP_WRITER_H_
