// Internal: the stable encodings and hashes of committed data (not for other modules).
//
// Metarange bytes (all integers LEB128 varints, strings length-prefixed):
//   magic    "RKVMR" 0x01            6 bytes: format name and version 1
//   n        varint64                number of ranges, <= bytes left / 5
//   n times: id      varint len + bytes   (32 hex digits)
//            min     varint len + bytes   (first path)
//            max     varint len + bytes   (last path)
//            count   varint64             entries, >= 1
//            bytes   varint64             sum of path and value sizes
// Nothing follows the last range. The metarange id is HashHex(XXH3-128 of these bytes).
// The decoder checks every length against the bytes left, that n matches, that the ids are
// 32 hex digits, min <= max, and that ranges are in strictly increasing, non-overlapping
// order; anything else is Corruption naming the metarange id.
//
// Range content hash: XXH3-128 over "refkv.range.v1" then, per entry in order,
// varint(len path) path varint(len value) value.
#ifndef REFKV_REFSTORE_COMMITTED_ENCODING_H_
#define REFKV_REFSTORE_COMMITTED_ENCODING_H_

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "refstore/committed/committed.h"

namespace refkv::refstore::internal {

// 32 lowercase hex digits, high 64 bits first.
std::string HashHex(XXH128_hash_t h);
// True if `id` is 32 lowercase hex digits.
bool IsValidId(std::string_view id);

// Incremental content hash of a range.
class RangeHasher {
 public:
  RangeHasher();
  ~RangeHasher();
  RangeHasher(const RangeHasher&) = delete;
  RangeHasher& operator=(const RangeHasher&) = delete;
  void Add(std::string_view path, std::string_view value);
  std::string Id();

 private:
  void Flush();
  XXH3_state_t* state_;
  // Entries are encoded here and hashed in large pieces: one XXH3 update per entry field
  // costs more than the hashing itself for short paths.
  std::string buffer_;
};

std::string EncodeMetaRange(const std::vector<RangeInfo>& ranges);

// One range of a MetaRange: views into its bytes, valid while the MetaRange lives.
struct RangeRef {
  std::string_view id, min_path, max_path;
  uint64_t count = 0;
  uint64_t bytes = 0;
  RangeInfo ToInfo() const {
    return RangeInfo{std::string(id), std::string(min_path), std::string(max_path), count, bytes};
  }
};

// A metarange held as its encoded bytes plus the position of every record in them, so
// parsing allocates nothing per range and Apply copies the records of the ranges it
// keeps as bytes (a commit's O(ranges in the tree) part is a memcpy, not a rebuild).
class MetaRange {
 public:
  // Decodes and checks `bytes` like DecodeMetaRange (`id` for messages).
  static Result<MetaRange> Parse(std::string_view id, std::string bytes);

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  RangeRef operator[](size_t i) const;
  // The encoded record of range i (as EncodeMetaRange writes it).
  std::string_view record(size_t i) const {
    return std::string_view(encoded_).substr(records_[i].offset, records_[i].size);
  }
  const std::string& encoded() const { return encoded_; }
  // The index of the first range whose max path is >= `path` (size() if none).
  size_t LowerBoundByMax(std::string_view path) const;
  // The parts of the two-level root this tree was read from or written as (empty: flat),
  // so the next Apply writes only parts that are new.
  const std::vector<std::string>& part_ids() const { return part_ids_; }
  void set_part_ids(std::vector<std::string> ids) { part_ids_ = std::move(ids); }

 private:
  friend class MetaRangeBuilder;
  struct Record {
    uint32_t offset, size;                                // of the whole record
    uint32_t min_offset, min_size, max_offset, max_size;  // the id is the first 32 bytes + 1
    uint64_t count, bytes;
  };
  std::string encoded_;
  std::vector<Record> records_;
  std::vector<std::string> part_ids_;
};

// Builds a metarange from records copied from another one and new ranges, in order.
class MetaRangeBuilder {
 public:
  void AddFrom(const MetaRange& base, size_t i);
  void Add(const RangeInfo& range);
  size_t size() const { return records_.size(); }
  // The metarange (magic, count, records); the builder is left empty.
  MetaRange Finish();

 private:
  void Push(std::string_view id, std::string_view min, std::string_view max, uint64_t count,
            uint64_t bytes);
  std::string body_;                        // the records
  std::vector<MetaRange::Record> records_;  // offsets relative to body_
};
std::string MetaRangeIdOf(std::string_view encoded);
// Decodes and checks `bytes` (see above); `id` is for messages.
Result<std::vector<RangeInfo>> DecodeMetaRange(std::string_view id, std::string_view bytes);

// True if a range ends after `path` by the content rule (xxh64(path) has its low
// `boundary_bits` bits zero).
inline bool IsBoundaryPath(std::string_view path, int boundary_bits) {
  uint64_t mask = (uint64_t{1} << boundary_bits) - 1;
  return (XXH64(path.data(), path.size(), 0) & mask) == 0;
}

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_ENCODING_H_
