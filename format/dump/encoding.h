// Internal: byte-level encoding of the dump format (DUMP_FORMAT.md): constants,
// little-endian integers, varints. Header-only; no allocation except the appends.
#ifndef REFKV_FORMAT_DUMP_ENCODING_H_
#define REFKV_FORMAT_DUMP_ENCODING_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/store.h"

namespace refkv::format::internal {

inline constexpr std::string_view kMagic = "RKVDUMP1";
inline constexpr std::string_view kBlockMagic = "RKB1";
inline constexpr std::string_view kFooterMagic = "RKF1";
inline constexpr std::string_view kEndMagic = "RKVDEND1";

inline constexpr size_t kHeaderPrefix = 16;  // magic, format_version, body_length
inline constexpr uint32_t kMinHeaderBody = 30;
inline constexpr uint32_t kMaxHeaderBody = 4096;
inline constexpr size_t kMaxVersionLen = 64;
inline constexpr size_t kMaxDriverLen = 64;
inline constexpr size_t kMaxStoreIdLen = 128;

inline constexpr size_t kBlockHeaderSize = 32;
inline constexpr uint32_t kCompressionZstd = 1;
inline constexpr size_t kMinRecordSize = 5;
inline constexpr size_t kMaxUncompressed = 64u << 20;
inline constexpr size_t kMaxCompressed = kMaxUncompressed + (1u << 20);
inline constexpr size_t kMaxPartitionLen = 65535;

inline constexpr size_t kTrailerSize = 16;
inline constexpr uint64_t kMinFooterLength = 56;  // magic, count, 4 totals, 2 checksums
inline constexpr uint64_t kMaxFooterLength = 64u << 20;
inline constexpr size_t kFooterFixed = 4 + 4 + 8 * 6;  // without the partition entries
inline constexpr size_t kMinPartitionEntry = 2 + 1 + 32;

inline void PutU16(std::string* out, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out->append(b, 2);
}
inline void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
inline void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
constexpr size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// The largest record the kv::Store limits allow (engine/store.h): it always fits in one
// block, so every store within the limits can be dumped (DUMP_FORMAT.md, "Limits").
inline constexpr size_t kMaxRecordSize =
    VarintSize(kv::kMaxPartitionBytes) + kv::kMaxPartitionBytes + VarintSize(kv::kMaxKeyBytes) +
    kv::kMaxKeyBytes + VarintSize(kv::kMaxValueBytes) + kv::kMaxValueBytes;
static_assert(kMaxRecordSize <= kMaxUncompressed);
static_assert(kv::kMaxPartitionBytes <= kMaxPartitionLen);

inline uint64_t LoadLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// A bounds-checked cursor over bytes; every Get fails (returns false / nullopt)
// instead of reading past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  size_t pos() const { return pos_; }
  size_t left() const { return bytes_.size() - pos_; }

  bool U16(uint16_t* v) { return Fixed(v, 2); }
  bool U32(uint32_t* v) { return Fixed(v, 4); }
  bool U64(uint64_t* v) { return Fixed(v, 8); }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!Fixed(&u, 8)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
      if (pos_ >= bytes_.size()) return false;
      uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      if (i == 9 && b > 1) return false;  // more than 64 bits
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (n > left()) return false;
    *out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  bool Fixed(T* v, int n) {
    if (left() < static_cast<size_t>(n)) return false;
    *v = static_cast<T>(LoadLE(bytes_.data() + pos_, n));
    pos_ += n;
    return true;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

// Decodes one record of a block (DUMP_FORMAT.md: varint partition length, partition,
// varint key length, key, varint value length, value) at the cursor. False, with the
// cursor somewhere inside the record, if it is truncated or a length is out of
// bounds (partition 1..kMaxPartitionLen, key >= 1). The views point into the bytes.
inline bool DecodeRecord(Cursor& r, std::string_view* partition, std::string_view* key,
                         std::string_view* value) {
  uint64_t plen, klen, vlen;
  return r.Varint(&plen) && plen != 0 && plen <= kMaxPartitionLen && r.Bytes(plen, partition) &&
         r.Varint(&klen) && klen != 0 && r.Bytes(klen, key) && r.Varint(&vlen) &&
         r.Bytes(vlen, value);
}

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_DUMP_ENCODING_H_
