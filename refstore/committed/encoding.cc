#include "refstore/committed/encoding.h"

#include "base/hex.h"
#include "engine/store.h"

namespace refkv::refstore::internal {

namespace {
constexpr std::string_view kMetaRangeMagic("RKVMR\x01", 6);
constexpr std::string_view kRangeHashTag = "refkv.range.v1";
constexpr size_t kBufferSize = 32 << 10;
}  // namespace

std::string HashHex(XXH128_hash_t h) { return HexUint64(h.high64, 16) + HexUint64(h.low64, 16); }

bool IsValidId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (HexDigitValue(c, HexCase::kLower) < 0) return false;
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
  PutVarint64(&buffer_, path.size());
  buffer_.append(path);
  PutVarint64(&buffer_, value.size());
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
  PutVarint64(&out, ranges.size());
  for (const RangeInfo& r : ranges) {
    PutLengthPrefixed(&out, r.id);
    PutLengthPrefixed(&out, r.min_path);
    PutLengthPrefixed(&out, r.max_path);
    PutVarint64(&out, r.count);
    PutVarint64(&out, r.bytes);
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
  if (!GetVarint64(&in, &n) || n > in.size() / 5) return corrupt("bad range count", 0);
  std::vector<RangeInfo> ranges;
  ranges.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view rid, min, max;
    RangeInfo r;
    if (!GetLengthPrefixed(&in, &rid) || !GetLengthPrefixed(&in, &min) ||
        !GetLengthPrefixed(&in, &max) || !GetVarint64(&in, &r.count) ||
        !GetVarint64(&in, &r.bytes)) {
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

// ---- MetaRange ------------------------------------------------------------------------

RangeRef MetaRange::operator[](size_t i) const {
  const Record& r = records_[i];
  std::string_view e(encoded_);
  // A record starts with varint(32) = one byte, then the id.
  return RangeRef{e.substr(r.offset + 1, 32), e.substr(r.min_offset, r.min_size),
                  e.substr(r.max_offset, r.max_size), r.count, r.bytes};
}

size_t MetaRange::LowerBoundByMax(std::string_view path) const {
  size_t lo = 0, hi = records_.size();
  std::string_view e(encoded_);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const Record& r = records_[mid];
    if (e.substr(r.max_offset, r.max_size) < path) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Result<MetaRange> MetaRange::Parse(std::string_view id, std::string bytes) {
  auto corrupt = [&](std::string_view what, size_t index) {
    return Status::Corruption("metarange " + std::string(id) + ": " + std::string(what) +
                              " (range #" + std::to_string(index) + ", " +
                              std::to_string(bytes.size()) + " bytes)");
  };
  if (bytes.size() > UINT32_MAX) return corrupt("larger than 4 GiB", 0);
  MetaRange out;
  out.encoded_ = std::move(bytes);
  const std::string_view all(out.encoded_);
  std::string_view in = all;
  if (in.substr(0, kMetaRangeMagic.size()) != kMetaRangeMagic) {
    return corrupt("bad magic or format version", 0);
  }
  in.remove_prefix(kMetaRangeMagic.size());
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n > in.size() / 5) return corrupt("bad range count", 0);
  out.records_.reserve(n);
  auto offset = [&](std::string_view v) { return static_cast<uint32_t>(v.data() - all.data()); };
  std::string_view prev_max;
  for (uint64_t i = 0; i < n; ++i) {
    const char* start = in.data();
    std::string_view rid, min, max;
    Record r{};
    if (!GetLengthPrefixed(&in, &rid) || !GetLengthPrefixed(&in, &min) ||
        !GetLengthPrefixed(&in, &max) || !GetVarint64(&in, &r.count) ||
        !GetVarint64(&in, &r.bytes)) {
      return corrupt("truncated range record", i);
    }
    if (!IsValidId(rid)) return corrupt("bad range id " + kv::Printable(rid), i);
    if (min.empty() || min > max || r.count == 0) return corrupt("bad range bounds or count", i);
    if (i > 0 && prev_max >= min) return corrupt("ranges out of order", i);
    prev_max = max;
    r.offset = static_cast<uint32_t>(start - all.data());
    r.size = static_cast<uint32_t>(in.data() - start);
    r.min_offset = offset(min);
    r.min_size = static_cast<uint32_t>(min.size());
    r.max_offset = offset(max);
    r.max_size = static_cast<uint32_t>(max.size());
    out.records_.push_back(r);
  }
  if (!in.empty()) return corrupt("trailing bytes", n);
  return out;
}

void MetaRangeBuilder::AddFrom(const MetaRange& base, size_t i) {
  const MetaRange::Record& from = base.records_[i];
  const int64_t shift = static_cast<int64_t>(body_.size()) - static_cast<int64_t>(from.offset);
  body_.append(base.record(i));
  MetaRange::Record r = from;
  r.offset = static_cast<uint32_t>(from.offset + shift);
  r.min_offset = static_cast<uint32_t>(from.min_offset + shift);
  r.max_offset = static_cast<uint32_t>(from.max_offset + shift);
  records_.push_back(r);
}

void MetaRangeBuilder::Add(const RangeInfo& range) {
  Push(range.id, range.min_path, range.max_path, range.count, range.bytes);
}

void MetaRangeBuilder::Push(std::string_view id, std::string_view min, std::string_view max,
                            uint64_t count, uint64_t bytes) {
  MetaRange::Record r{};
  r.offset = static_cast<uint32_t>(body_.size());
  PutLengthPrefixed(&body_, id);
  PutVarint64(&body_, min.size());
  r.min_offset = static_cast<uint32_t>(body_.size());
  r.min_size = static_cast<uint32_t>(min.size());
  body_.append(min);
  PutVarint64(&body_, max.size());
  r.max_offset = static_cast<uint32_t>(body_.size());
  r.max_size = static_cast<uint32_t>(max.size());
  body_.append(max);
  PutVarint64(&body_, count);
  PutVarint64(&body_, bytes);
  r.size = static_cast<uint32_t>(body_.size() - r.offset);
  r.count = count;
  r.bytes = bytes;
  records_.push_back(r);
}

MetaRange MetaRangeBuilder::Finish() {
  MetaRange out;
  out.encoded_.assign(kMetaRangeMagic);
  PutVarint64(&out.encoded_, records_.size());
  const uint32_t header = static_cast<uint32_t>(out.encoded_.size());
  out.encoded_.append(body_);
  out.records_ = std::move(records_);
  for (auto& r : out.records_) {
    r.offset += header;
    r.min_offset += header;
    r.max_offset += header;
  }
  body_.clear();
  records_.clear();
  return out;
}

}  // namespace refkv::refstore::internal
