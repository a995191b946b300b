// Internal: building range SSTs and reading them back, through a RocksDB in-memory Env.
//
// Both directions go through one rocksdb::NewMemEnv owned by SstContext: a builder writes
// its SST into the mem env with SstFileWriter and hands the finished bytes to the
// RangeStore; a reader copies the stored bytes into the mem env and opens them with
// SstFileReader (which needs a file). So both RangeStore implementations are plain byte
// stores and a reader's memory is its SST size (bounded by the manager's reader cache).
//
// Thread-safety: SstContext is thread-safe. A RangeBuilder is used by one thread. A
// RangeReader is immutable after Open and may be shared by threads; each thread makes
// its own iterator.
#ifndef REFKV_REFSTORE_COMMITTED_RANGE_IO_H_
#define REFKV_REFSTORE_COMMITTED_RANGE_IO_H_

#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "engine/result.h"
#include "refstore/committed/committed.h"
#include "refstore/committed/encoding.h"

namespace refkv::refstore::internal {

class SstContext {
 public:
  explicit SstContext(bool compress);
  ~SstContext();
  SstContext(const SstContext&) = delete;
  SstContext& operator=(const SstContext&) = delete;

  rocksdb::Env* env() { return env_.get(); }
  const rocksdb::Options& options() const { return options_; }
  // A fresh file name in the mem env.
  std::string TempName(std::string_view tag);

 private:
  std::unique_ptr<rocksdb::Env> env_;
  rocksdb::Options options_;
  std::atomic<uint64_t> next_{0};
};

// Builds one range: entries in strictly increasing path order.
class RangeBuilder {
 public:
  explicit RangeBuilder(SstContext& ctx) : ctx_(ctx) {}
  ~RangeBuilder();
  RangeBuilder(const RangeBuilder&) = delete;
  RangeBuilder& operator=(const RangeBuilder&) = delete;

  // IOError if the SST writer fails (it should not: it writes to memory).
  Status Add(std::string_view path, std::string_view value);
  bool empty() const { return info_.count == 0; }
  uint64_t count() const { return info_.count; }
  uint64_t bytes() const { return info_.bytes; }
  // Finishes the SST: fills `*info` (id = content hash) and `*sst` (the file bytes) and
  // resets the builder for the next range. Precondition: !empty().
  Status Finish(RangeInfo* info, std::string* sst);

 private:
  SstContext& ctx_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::unique_ptr<RangeHasher> hasher_;
  std::string file_;
  RangeInfo info_;
};

// An opened, verified range.
class RangeReader {
 public:
  // Opens `sst` (the bytes of range `id`). With `verify`, reads it fully once to check
  // that its content hashes to `id` and fills info() (min, max, count, bytes); without,
  // the caller must hash what it reads itself (Apply does, in its single merge pass).
  // Corruption naming `id` if the SST cannot be opened, is empty, or does not match.
  static Result<std::unique_ptr<RangeReader>> Open(SstContext& ctx, std::string_view id,
                                                   std::string_view sst, bool verify = true);
  ~RangeReader();
  RangeReader(const RangeReader&) = delete;
  RangeReader& operator=(const RangeReader&) = delete;

  const RangeInfo& info() const { return info_; }
  // A new iterator (unpositioned) over the range; must not outlive this reader.
  std::unique_ptr<rocksdb::Iterator> NewIterator() const;

 private:
  RangeReader(SstContext& ctx, std::string file) : ctx_(ctx), file_(std::move(file)) {}
  SstContext& ctx_;
  std::string file_;
  std::unique_ptr<rocksdb::SstFileReader> reader_;
  RangeInfo info_;
};

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_RANGE_IO_H_
