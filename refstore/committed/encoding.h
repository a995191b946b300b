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

#include "engine/result.h"
#include "refstore/committed/committed.h"

namespace refkv::refstore::internal {

void PutVarint(std::string* out, uint64_t v);
// Reads a varint from the front of `*in`, advancing it. False if truncated or too long.
bool GetVarint(std::string_view* in, uint64_t* v);
void PutLengthPrefixed(std::string* out, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

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
