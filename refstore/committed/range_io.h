// Internal: building range SSTs and reading them back.
//
// A range is stored as an SST (FORMAT.md), but held in memory decoded: a RangeReader is
// the range's entries in one flat buffer, so point reads are a binary search and a merge
// walks an array, with no SST block decoding on the hot path. Reading a stored range
// decodes its SST once (through a RocksDB in-memory Env, since SstFileReader needs a
// file) and checks its content hash in the same pass; a range this process just built is
// handed over decoded by its builder, with no SST read at all.
//
// Thread-safety: SstContext is thread-safe. A RangeBuilder is used by one thread. A
// RangeReader is immutable after it is made and may be shared by threads; each thread
// makes its own iterator.
#ifndef REFKV_REFSTORE_COMMITTED_RANGE_IO_H_
#define REFKV_REFSTORE_COMMITTED_RANGE_IO_H_

#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
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

// The decoded entries of one range, in path order.
class RangeReader {
 public:
  // Decodes `sst` (the stored bytes of range `id`) in one pass that also checks that its
  // content hashes to `id` and fills info() (min, max, count, bytes). Corruption naming
  // `id` if the SST cannot be opened, is empty, is out of order or does not match.
  static Result<std::unique_ptr<RangeReader>> Open(SstContext& ctx, std::string_view id,
                                                   std::string_view sst);
  RangeReader(const RangeReader&) = delete;
  RangeReader& operator=(const RangeReader&) = delete;

  const RangeInfo& info() const { return info_; }
  size_t size() const { return slots_.size(); }
  std::string_view key(size_t i) const {
    return std::string_view(data_).substr(slots_[i].offset, slots_[i].key_size);
  }
  std::string_view value(size_t i) const {
    return std::string_view(data_).substr(slots_[i].offset + slots_[i].key_size,
                                          slots_[i].value_size);
  }
  // The index of the first entry whose path is >= `path` (size() if none).
  size_t LowerBound(std::string_view path) const;
  // Bytes of memory this reader holds (its cache charge).
  size_t memory() const { return data_.capacity() + slots_.capacity() * sizeof(Slot); }
  // A new iterator (unpositioned) over the range; must not outlive this reader. Its
  // status() is always OK (the entries were checked when the reader was made).
  std::unique_ptr<rocksdb::Iterator> NewIterator() const;

 private:
  friend class RangeBuilder;
  struct Slot {
    uint64_t offset;  // of the path in data_; the value follows it
    uint64_t key_size;
    uint64_t value_size;
  };
  RangeReader() = default;
  void Append(std::string_view path, std::string_view value);

  std::string data_;
  std::vector<Slot> slots_;
  RangeInfo info_;
};

// Builds one range: entries in strictly increasing path order.
class RangeBuilder {
 public:
  explicit RangeBuilder(SstContext& ctx) : ctx_(ctx) {}
  RangeBuilder(const RangeBuilder&) = delete;
  RangeBuilder& operator=(const RangeBuilder&) = delete;

  // Copies the entry into the range under construction (no SST work yet).
  void Add(std::string_view path, std::string_view value);
  bool empty() const { return pending_ == nullptr || pending_->size() == 0; }
  uint64_t count() const { return pending_ == nullptr ? 0 : pending_->size(); }
  uint64_t bytes() const { return bytes_; }
  // Finishes the range: writes its SST (`*sst`, the bytes to store), computes its id
  // (content hash) and hands over the decoded range (`*reader`, info() filled), then
  // resets the builder for the next range. Precondition: !empty(). IOError if the SST
  // writer fails (it writes to memory; it also refuses paths out of order).
  Status Finish(std::string* sst, std::unique_ptr<RangeReader>* reader);

 private:
  SstContext& ctx_;
  std::unique_ptr<RangeReader> pending_;
  uint64_t bytes_ = 0;
};

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_RANGE_IO_H_
