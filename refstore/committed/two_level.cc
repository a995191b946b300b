#include "refstore/committed/two_level.h"

#include <xxhash.h>

#include "base/coding.h"
#include "engine/store.h"

namespace refkv::refstore::internal {

namespace {
constexpr std::string_view kV1Magic("RKVMR\x01", 6);
constexpr std::string_view kRootMagic("RKVMR\x02", 6);
constexpr size_t kChecksumSize = 8;

bool IsPartBoundary(std::string_view range_id, int bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  return (XXH64(range_id.data(), range_id.size(), 0) & mask) == 0;
}
}  // namespace

std::vector<MetaPart> SplitMetaRange(const MetaRange& flat, const PartRule& rule) {
  std::vector<MetaPart> parts;
  const size_t n = flat.size();
  size_t first = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t held = i - first + 1;
    const bool end = i + 1 == n || held >= rule.max_ranges ||
                     (held >= rule.min_ranges && IsPartBoundary(flat[i].id, rule.boundary_bits));
    if (!end) continue;
    // Records first..i are contiguous in the flat encoding.
    const std::string_view from = flat.record(first);
    const std::string_view to = flat.record(i);
    const std::string_view body(from.data(), to.data() + to.size() - from.data());
    MetaPart part;
    part.bytes.reserve(kV1Magic.size() + 10 + body.size());
    part.bytes.assign(kV1Magic);
    PutVarint64(&part.bytes, held);
    part.bytes.append(body);
    part.id = MetaRangeIdOf(part.bytes);
    part.ranges = held;
    parts.push_back(std::move(part));
    first = i + 1;
  }
  return parts;
}

std::string EncodeMetaRoot(const std::vector<MetaPart>& parts) {
  std::string out(kRootMagic);
  PutVarint64(&out, parts.size());
  for (const MetaPart& p : parts) {
    PutLengthPrefixed(&out, p.id);
    PutVarint64(&out, p.ranges);
  }
  PutFixed64(&out, XXH64(out.data(), out.size(), 0));
  return out;
}

bool IsMetaRoot(std::string_view bytes) { return bytes.substr(0, kRootMagic.size()) == kRootMagic; }

Result<std::vector<MetaPart>> DecodeMetaRoot(std::string_view id, std::string_view bytes) {
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption("metarange root " + std::string(id) + ": " + std::string(what) +
                              " (" + std::to_string(bytes.size()) + " bytes)");
  };
  if (!IsMetaRoot(bytes)) return corrupt("bad magic or format version");
  if (bytes.size() < kRootMagic.size() + 1 + kChecksumSize) return corrupt("truncated");
  const std::string_view covered = bytes.substr(0, bytes.size() - kChecksumSize);
  if (XXH64(covered.data(), covered.size(), 0) != DecodeFixed64(bytes.data() + covered.size())) {
    return corrupt("checksum mismatch");
  }
  std::string_view in = covered.substr(kRootMagic.size());
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n == 0 || n > in.size() / 34) return corrupt("bad part count");
  std::vector<MetaPart> parts(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view pid;
    if (!GetLengthPrefixed(&in, &pid) || !GetVarint64(&in, &parts[i].ranges)) {
      return corrupt("truncated part record #" + std::to_string(i));
    }
    if (!IsValidId(pid)) return corrupt("bad part id " + kv::Printable(pid));
    if (parts[i].ranges == 0) return corrupt("part " + std::string(pid) + " has no ranges");
    parts[i].id = pid;
  }
  if (!in.empty()) return corrupt("trailing bytes");
  return parts;
}

Result<std::string> JoinMetaParts(std::string_view id, const std::vector<MetaPart>& parts) {
  uint64_t total = 0;
  size_t size = kV1Magic.size() + 10;
  for (const MetaPart& p : parts) {
    total += p.ranges;
    size += p.bytes.size();
  }
  std::string out;
  out.reserve(size);
  out.assign(kV1Magic);
  PutVarint64(&out, total);
  for (const MetaPart& p : parts) {
    std::string_view in = p.bytes;
    uint64_t n = 0;
    if (in.substr(0, kV1Magic.size()) != kV1Magic) {
      return Status::Corruption("metarange " + std::string(id) + ": part " + p.id +
                                " has a bad magic or format version");
    }
    in.remove_prefix(kV1Magic.size());
    if (!GetVarint64(&in, &n) || n != p.ranges) {
      return Status::Corruption("metarange " + std::string(id) + ": part " + p.id + " holds " +
                                std::to_string(n) + " ranges, the root says " +
                                std::to_string(p.ranges));
    }
    out.append(in);
  }
  std::string actual = MetaRangeIdOf(out);
  if (actual != id) {
    return Status::Corruption("metarange " + std::string(id) +
                              ": its parts join to content hashing to " + actual);
  }
  return out;
}

}  // namespace refkv::refstore::internal
