// The one byte codec of refkv: little-endian fixed-width integers, LEB128 varints and
// varint-length-prefixed strings. Every on-disk format (dump, SST export records, committed
// metaranges, the RocksDB key layout) encodes through these functions.
//
// Decoding is strict and never reads past the input: a varint of more than 10 bytes, one
// whose value does not fit in 64 bits, or a truncated input is a failure (false), and the
// input is left unchanged on failure. Callers turn a failure into their own error message.
//
// Thread-safety: free functions over caller-owned bytes.
#ifndef REFKV_BASE_CODING_H_
#define REFKV_BASE_CODING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace refkv {

inline constexpr size_t kMaxVarint64Bytes = 10;

// Fixed-width little-endian integers.
inline void EncodeFixed16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void PutFixed16(std::string* out, uint16_t v) {
  char b[2];
  EncodeFixed16(b, v);
  out->append(b, 2);
}
inline void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  EncodeFixed32(b, v);
  out->append(b, 4);
}
inline void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  EncodeFixed64(b, v);
  out->append(b, 8);
}

// Preconditions: `src` holds at least 2 / 4 / 8 bytes.
inline uint16_t DecodeFixed16(const char* src) {
  return static_cast<uint16_t>(static_cast<unsigned char>(src[0]) |
                               (static_cast<unsigned char>(src[1]) << 8));
}
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

// Read a fixed-width integer from the front of `*in`, advancing it. False if `*in` is
// shorter than the integer.
bool GetFixed16(std::string_view* in, uint16_t* v);
bool GetFixed32(std::string_view* in, uint32_t* v);
bool GetFixed64(std::string_view* in, uint64_t* v);

// LEB128 varints: 7 bits per byte, low bits first, the high bit set on every byte but the last.
inline void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
// The number of bytes PutVarint64 writes for `v` (1..10).
constexpr size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Reads a varint from the front of `*in`, advancing it. False (and `*in` unchanged) if it is
// truncated, longer than 10 bytes or does not fit in 64 bits.
bool GetVarint64Slow(std::string_view* in, uint64_t* v);
inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  if (!in->empty() && static_cast<unsigned char>(in->front()) < 0x80) {
    *v = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    return true;
  }
  return GetVarint64Slow(in, v);
}

// A varint length followed by that many bytes.
inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}
// Reads a length-prefixed string from the front of `*in`, advancing it; `*s` points into the
// input. False (and `*in` unchanged) if the length is malformed or exceeds the bytes left.
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

}  // namespace refkv

#endif  // REFKV_BASE_CODING_H_
