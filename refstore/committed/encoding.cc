#include "refstore/committed/encoding.h"

#include "engine/store.h"

namespace refkv::refstore::internal {

namespace {
constexpr std::string_view kMetaRangeMagic("RKVMR\x01", 6);
constexpr std::string_view kRangeHashTag = "refkv.range.v1";
constexpr size_t kBufferSize = 32 << 10;
}  // namespace

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint64_t byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t len = 0;
  if (!GetVarint(in, &len) || len > in->size()) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

std::string HashHex(XXH128_hash_t h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(h.high64 >> (4 * i)) & 0xf];
    out[31 - i] = kDigits[(h.low64 >> (4 * i)) & 0xf];
  }
  return out;
}

bool IsValidId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

RangeHasher::RangeHasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(state_);
  buffer_.reserve(kBufferSize + 64);
  buffer_.append(kRangeHashTag);
}

RangeHasher::~RangeHasher() { XXH3_freeState(state_); }

void RangeHasher::Add(std::string_view path, std::string_view value) {
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  PutVarint(&buffer_, path.size());
  buffer_.append(path);
  PutVarint(&buffer_, value.size());
  buffer_.append(value);
  if (buffer_.size() >= kBufferSize) Flush();
}

void RangeHasher::Flush() {
  XXH3_128bits_update(state_, buffer_.data(), buffer_.size());
  buffer_.clear();
}

std::string RangeHasher::Id() {
  Flush();
  return HashHex(XXH3_128bits_digest(state_));
}

std::string EncodeMetaRange(const std::vector<RangeInfo>& ranges) {
  std::string out(kMetaRangeMagic);
  PutVarint(&out, ranges.size());
  for (const RangeInfo& r : ranges) {
    PutLengthPrefixed(&out, r.id);
    PutLengthPrefixed(&out, r.min_path);
    PutLengthPrefixed(&out, r.max_path);
    PutVarint(&out, r.count);
    PutVarint(&out, r.bytes);
  }
  return out;
}

std::string MetaRangeIdOf(std::string_view encoded) {
  return HashHex(XXH3_128bits(encoded.data(), encoded.size()));
}

Result<std::vector<RangeInfo>> DecodeMetaRange(std::string_view id, std::string_view bytes) {
  auto corrupt = [&](std::string_view what, size_t index) {
    return Status::Corruption("metarange " + std::string(id) + ": " + std::string(what) +
                              " (range #" + std::to_string(index) + ", " +
                              std::to_string(bytes.size()) + " bytes)");
  };
  std::string_view in = bytes;
  if (in.substr(0, kMetaRangeMagic.size()) != kMetaRangeMagic) {
    return corrupt("bad magic or format version", 0);
  }
  in.remove_prefix(kMetaRangeMagic.size());
  uint64_t n = 0;
  if (!GetVarint(&in, &n) || n > in.size() / 5) return corrupt("bad range count", 0);
  std::vector<RangeInfo> ranges;
  ranges.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view rid, min, max;
    RangeInfo r;
    if (!GetLengthPrefixed(&in, &rid) || !GetLengthPrefixed(&in, &min) ||
        !GetLengthPrefixed(&in, &max) || !GetVarint(&in, &r.count) || !GetVarint(&in, &r.bytes)) {
      return corrupt("truncated range record", i);
    }
    if (!IsValidId(rid)) return corrupt("bad range id " + kv::Printable(rid), i);
    if (min.empty() || min > max || r.count == 0) return corrupt("bad range bounds or count", i);
    if (!ranges.empty() && ranges.back().max_path >= min) {
      return corrupt("ranges out of order", i);
    }
    r.id = rid;
    r.min_path = min;
    r.max_path = max;
    ranges.push_back(std::move(r));
  }
  if (!in.empty()) return corrupt("trailing bytes", n);
  return ranges;
}

}  // namespace refkv::refstore::internal
