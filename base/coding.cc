#include "base/coding.h"

namespace refkv {

namespace {
template <typename T, T (*Decode)(const char*)>
bool GetFixed(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  *v = Decode(in->data());
  in->remove_prefix(sizeof(T));
  return true;
}
}  // namespace

bool GetFixed16(std::string_view* in, uint16_t* v) {
  return GetFixed<uint16_t, DecodeFixed16>(in, v);
}
bool GetFixed32(std::string_view* in, uint32_t* v) {
  return GetFixed<uint32_t, DecodeFixed32>(in, v);
}
bool GetFixed64(std::string_view* in, uint64_t* v) {
  return GetFixed<uint64_t, DecodeFixed64>(in, v);
}

bool GetVarint64Slow(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes && i < in->size(); ++i) {
    const auto b = static_cast<unsigned char>((*in)[i]);
    // The 10th byte holds bit 63 only: anything more is an overflow (or an 11th byte).
    if (i == kMaxVarint64Bytes - 1 && b > 1) return false;
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  std::string_view rest = *in;
  uint64_t len = 0;
  if (!GetVarint64(&rest, &len) || len > rest.size()) return false;
  *s = rest.substr(0, len);
  rest.remove_prefix(len);
  *in = rest;
  return true;
}

}  // namespace refkv
