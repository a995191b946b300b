// Internal: the two-level metarange (format v2, refstore/committed/FORMAT.md): a small root
// listing "parts", each part a v1 metarange of a run of consecutive ranges. A commit that
// changes one range writes the root and the one part holding it; every other part keeps
// its id (part boundaries are chosen by content) and is not written again.
//
// The tree's id does not depend on the format: it is the id of the equivalent flat v1
// encoding (MetaRangeIdOf of the concatenated records). A reader joins the parts back into
// that encoding and checks its hash against the id, so a v2 tree is verified exactly as
// strongly as a v1 one, and the same content has the same id whichever format stored it.
//
// Root bytes:
//   magic    "RKVMR" 0x02        6 bytes: format name and version 2
//   n        varint64            parts, >= 1, <= bytes left / 34
//   n times: id      varint len + bytes   (32 hex digits: MetaRangeIdOf of the part)
//            ranges  varint64             ranges in the part, >= 1
//   checksum 8 bytes             XXH64 (seed 0) of everything before it, little-endian
// A part: a v1 metarange (magic "RKVMR" 0x01, n, records) of >= 1 ranges, named by
// MetaRangeIdOf of its bytes.
//
// Part boundaries: a part ends after range r when it holds at least min_ranges ranges
// and XXH64(id of r, seed 0) has its low boundary_bits bits zero, or when it holds
// max_ranges; the last part ends at the last range. Like the range chunking options
// (CommittedManager::Options) they decide reuse, not correctness or ids: a reader takes
// the parts a root lists, however they were cut.
//
// Thread-safety: pure functions.
#ifndef REFKV_REFSTORE_COMMITTED_TWO_LEVEL_H_
#define REFKV_REFSTORE_COMMITTED_TWO_LEVEL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "refstore/committed/encoding.h"

namespace refkv::refstore::internal {

struct PartRule {
  int boundary_bits = 5;  // ~1 boundary per 32 ranges
  size_t min_ranges = 16;
  size_t max_ranges = 256;
};

struct MetaPart {
  std::string id;     // MetaRangeIdOf(bytes)
  std::string bytes;  // a v1 metarange
  uint64_t ranges = 0;
};

// Cuts `flat` (non-empty) into parts by the rule above. Cost: one copy and one hash of
// the flat encoding, one XXH64 per range id.
std::vector<MetaPart> SplitMetaRange(const MetaRange& flat, const PartRule& rule);

// The root listing `parts` (ids and range counts; bytes are not used).
std::string EncodeMetaRoot(const std::vector<MetaPart>& parts);

// Decodes and checks a root (magic, lengths, ids, counts, checksum); `id` (the tree id) is
// for messages. Corruption naming the id on any mismatch. The returned parts have no bytes.
Result<std::vector<MetaPart>> DecodeMetaRoot(std::string_view id, std::string_view bytes);

// True if `bytes` starts with the v2 root magic.
bool IsMetaRoot(std::string_view bytes);

// Joins the parts' bytes (each a v1 metarange, already checked against its part id) into
// the flat v1 encoding of tree `id` and checks that it hashes to `id`. Corruption naming
// the tree id (and the part) if a part does not parse, holds a different number of ranges
// than the root says, or the joined encoding hashes to something else.
Result<std::string> JoinMetaParts(std::string_view id, const std::vector<MetaPart>& parts);

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_TWO_LEVEL_H_
