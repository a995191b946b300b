// Internal: the dump reader (DUMP_FORMAT.md), over a file or bytes in memory.
// Used by VerifyDump, InspectDump, ImportDump and the fuzz target.
//
// With threads > 1, blocks are read ahead on the calling thread and their checksums
// and decompression run on `threads` workers (at most 2 * threads blocks and ~64 MiB
// ahead); records are still checked and returned in file order, and every error is
// the one a single-threaded pass reports, for the same block.
//
// Thread-safety: a DumpReader is used by one thread at a time (the workers are
// internal).
#ifndef REFKV_FORMAT_DUMP_READER_H_
#define REFKV_FORMAT_DUMP_READER_H_

#include <xxhash.h>

#include <condition_variable>
#include <cstdint>
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

// Random-access bytes of fixed size, read mostly sequentially.
class Source {
 public:
  virtual ~Source() = default;
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  // Reads exactly `n` bytes at `offset` into *out. Precondition: offset + n <= size().
  // IOError if the file fails; Corruption if it shrank under us.
  virtual Status Read(uint64_t offset, size_t n, std::string* out) = 0;
};

// A file read through io::File with `io.queue_depth` chunks of 1 MiB read ahead.
Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path, const io::FileOptions& io);
// Bytes owned by the caller, which must outlive the source.
std::unique_ptr<Source> NewMemorySource(std::string_view bytes, std::string name);

struct Record {
  std::string_view partition;
  std::string_view key;
  std::string_view value;
};

class DumpReader {
 public:
  // Reads and checks the header, the trailer and the footer index. Errors: Corruption
  // naming the region and offset, VersionMismatch, and the source's errors.
  // threads: 1 decodes on the calling thread; 1..kMaxDumpThreads.
  static Result<std::unique_ptr<DumpReader>> Open(std::unique_ptr<Source> source,
                                                  unsigned threads = 1);
  ~DumpReader();
  DumpReader(const DumpReader&) = delete;
  DumpReader& operator=(const DumpReader&) = delete;

  // What the header and footer say (file_bytes included).
  const DumpInfo& info() const { return info_; }

  // Reads, checks and decodes the next block into *records (views valid until the
  // next call). Returns false when every block has been read. Corruption names the
  // block number and its byte offset.
  Result<bool> NextBlock(std::vector<Record>* records);

  // After NextBlock returned false: compares the pass's per-partition counts and
  // checksums, totals and the whole-file checksum with the footer.
  Status Finish();

  uint64_t offset() const { return offset_; }
  uint64_t records_read() const { return records_read_; }
  uint64_t blocks_read() const { return block_number_; }

 private:
  explicit DumpReader(std::unique_ptr<Source> source);
  Status ReadHeader();
  Status ReadFooter();
  Status BlockError(uint64_t offset, const std::string& what) const;

  // One block on its way: read (header checked, payload in memory), then decoded
  // (checksum checked, decompressed) on a worker or the calling thread.
  struct Fetched {
    uint64_t number = 0, start = 0, end = 0;
    std::string header, compressed, block;
    uint32_t usize = 0;
    Status status;  // the first error of this block (then nothing after it is read)
    bool done = false;
  };
  // Reads the block at fetch_offset_ into *f and advances fetch_offset_.
  void Fetch(Fetched* f);
  static void Decode(const std::string& name, void* dctx, Fetched* f);
  void WorkerLoop();
  void StopWorkers();
  Status OnRecord(const Record& record, std::string_view encoding);
  void ClosePartition();

  std::unique_ptr<Source> source_;
  DumpInfo info_;
  uint64_t header_end_ = 0;
  uint64_t blocks_end_ = 0;
  uint64_t footer_file_checksum_ = 0;
  uint64_t footer_uncompressed_ = 0;

  uint64_t offset_ = 0;
  uint64_t block_number_ = 0;
  uint64_t records_read_ = 0;
  uint64_t uncompressed_read_ = 0;
  XXH64_state_t* file_hash_ = nullptr;
  void* dctx_ = nullptr;  // ZSTD_DCtx
  std::string block_;     // the records NextBlock's views point into

  // Read-ahead and decoding.
  uint64_t fetch_offset_ = 0, fetch_number_ = 0;
  bool fetch_failed_ = false;
  uint64_t ahead_bytes_ = 0;  // compressed + uncompressed bytes of blocks in ahead_
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Fetched> ahead_;
  uint64_t popped_ = 0, claimed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;

  // The partition being read and those finished.
  bool in_partition_ = false;
  DumpPartition current_;
  XXH64_state_t* part_hash_ = nullptr;
  std::string last_key_;
  std::vector<DumpPartition> seen_;
};

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_DUMP_READER_H_
