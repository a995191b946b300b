// Hex encoding and decoding of bytes and integers: the one helper for the hex digits in
// RocksDB column-family names, SST manifests, range ids and tokens, percent escapes and the
// CLI's byte formats. Header-only.
//
// Thread-safety: free functions over caller-owned bytes.
#ifndef REFKV_BASE_HEX_H_
#define REFKV_BASE_HEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace refkv {

// Which digits an encoder writes or a decoder accepts. kAny is for decoding only (encoding
// with it writes lowercase).
enum class HexCase { kLower, kUpper, kAny };

// Appends the two digits of `b`, high nibble first.
inline void AppendHexByte(std::string* out, unsigned char b, HexCase letters = HexCase::kLower) {
  const char* digits = letters == HexCase::kUpper ? "0123456789ABCDEF" : "0123456789abcdef";
  out->push_back(digits[b >> 4]);
  out->push_back(digits[b & 0xf]);
}

// Two digits per byte, high nibble first.
inline std::string HexEncode(std::string_view bytes, HexCase letters = HexCase::kLower) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendHexByte(&out, static_cast<unsigned char>(c), letters);
  return out;
}

// `v` as exactly `digits` lowercase digits (1..16), most significant first, zero-padded; higher
// digits of `v` are dropped.
inline std::string HexUint64(uint64_t v, int digits = 16) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = 0; i < digits; ++i) out[digits - 1 - i] = kDigits[(v >> (4 * i)) & 0xf];
  return out;
}

// The value of one digit, or -1 if `c` is not a digit `letters` accepts.
inline int HexDigitValue(char c, HexCase letters = HexCase::kAny) {
  if (c >= '0' && c <= '9') return c - '0';
  if (letters != HexCase::kUpper && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (letters != HexCase::kLower && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `hex` into `*out` (replacing it). On failure returns false and, if `bad_offset` is
// given, sets it to the offset of the first digit that is not hex (or hex.size() for an odd
// number of digits). `*out` is unspecified on failure.
inline bool HexDecode(std::string_view hex, std::string* out, HexCase letters = HexCase::kAny,
                      size_t* bad_offset = nullptr) {
  out->clear();
  if (hex.size() % 2 != 0) {
    if (bad_offset != nullptr) *bad_offset = hex.size();
    return false;
  }
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigitValue(hex[i], letters), lo = HexDigitValue(hex[i + 1], letters);
    if (hi < 0 || lo < 0) {
      if (bad_offset != nullptr) *bad_offset = hi < 0 ? i : i + 1;
      return false;
    }
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace refkv

#endif  // REFKV_BASE_HEX_H_
