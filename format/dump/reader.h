// Internal: the dump reader (DUMP_FORMAT.md), over a file or bytes in memory.
// Used by VerifyDump, InspectDump, ImportDump and the fuzz target.
//
// Thread-safety: a DumpReader is used by one thread at a time.
#ifndef REFKV_FORMAT_DUMP_READER_H_
#define REFKV_FORMAT_DUMP_READER_H_

#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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
  static Result<std::unique_ptr<DumpReader>> Open(std::unique_ptr<Source> source);
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
  std::string compressed_, block_;

  // The partition being read and those finished.
  bool in_partition_ = false;
  DumpPartition current_;
  XXH64_state_t* part_hash_ = nullptr;
  std::string last_key_;
  std::vector<DumpPartition> seen_;
};

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_DUMP_READER_H_
