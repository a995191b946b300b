// Internal: byte-level encoding of the dump format (DUMP_FORMAT.md): constants and a
// bounds-checked cursor over base/coding.h. Header-only; no allocation.
#ifndef REFKV_FORMAT_DUMP_ENCODING_H_
#define REFKV_FORMAT_DUMP_ENCODING_H_

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "engine/store.h"

namespace refkv::format::internal {

// Streaming xxHash64 (seed 0) of records encoded as in a dump block (varint length,
// partition, varint length, key, varint length, value): the per-partition SUM that dumps,
// SST manifests and `kv migrate`'s digests share.
class RecordHash {
 public:
  RecordHash() : state_(XXH64_createState()) { XXH64_reset(state_, 0); }
  ~RecordHash() { XXH64_freeState(state_); }
  RecordHash(const RecordHash&) = delete;
  RecordHash& operator=(const RecordHash&) = delete;
  // Returns the bytes the record's encoding has.
  size_t Add(std::string_view partition, std::string_view key, std::string_view value) {
    buf_.clear();
    PutVarint64(&buf_, partition.size());
    buf_ += partition;
    PutVarint64(&buf_, key.size());
    buf_ += key;
    PutVarint64(&buf_, value.size());
    XXH64_update(state_, buf_.data(), buf_.size());
    XXH64_update(state_, value.data(), value.size());
    return buf_.size() + value.size();
  }
  uint64_t Digest() const { return XXH64_digest(state_); }

 private:
  XXH64_state_t* state_;
  std::string buf_;
};

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

// The largest record the kv::Store limits allow (engine/store.h): it always fits in one
// block, so every store within the limits can be dumped (DUMP_FORMAT.md, "Limits").
inline constexpr size_t kMaxRecordSize =
    VarintLength(kv::kMaxPartitionBytes) + kv::kMaxPartitionBytes + VarintLength(kv::kMaxKeyBytes) +
    kv::kMaxKeyBytes + VarintLength(kv::kMaxValueBytes) + kv::kMaxValueBytes;
static_assert(kMaxRecordSize <= kMaxUncompressed);
static_assert(kv::kMaxPartitionBytes <= kMaxPartitionLen);

// A bounds-checked cursor over bytes; every Get fails (returns false / nullopt)
// instead of reading past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : size_(bytes.size()), rest_(bytes) {}
  size_t pos() const { return size_ - rest_.size(); }
  size_t left() const { return rest_.size(); }

  bool U16(uint16_t* v) { return GetFixed16(&rest_, v); }
  bool U32(uint32_t* v) { return GetFixed32(&rest_, v); }
  bool U64(uint64_t* v) { return GetFixed64(&rest_, v); }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!GetFixed64(&rest_, &u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Varint(uint64_t* v) { return GetVarint64(&rest_, v); }
  bool Bytes(size_t n, std::string_view* out) {
    if (n > left()) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

 private:
  size_t size_;
  std::string_view rest_;
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
