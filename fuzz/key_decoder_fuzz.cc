// libFuzzer target: the byte-level decoders of keys and records.
//   - the RocksDB driver's "shared" mapping key (varint(len) + partition + key):
//     DecodeSharedKey must reject or return views whose canonical re-encoding decodes
//     to the same partition and key;
//   - the "cf" mapping's column family names ("p." + hex): PartitionOfCf must reject
//     or invert CfNameFor exactly;
//   - the dump block record decoder (format/dump/encoding.h DecodeRecord), run over
//     the input until it fails: every accepted record is within bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/rocks/rocks_store_impl.h"
#include "format/dump/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refkv;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  std::string_view partition, key;
  if (kv::rocks::DecodeSharedKey(bytes, &partition, &key)) {
    if (partition.empty() || key.empty()) std::abort();
    std::string again = kv::rocks::SharedPrefix(partition) + std::string(key);
    std::string_view p2, k2;
    if (!kv::rocks::DecodeSharedKey(again, &p2, &k2) || p2 != partition || k2 != key) {
      std::abort();
    }
  }

  std::string cf_partition;
  if (kv::rocks::PartitionOfCf(bytes, &cf_partition)) {
    if (kv::rocks::CfNameFor(cf_partition) != bytes) std::abort();
  }

  format::internal::Cursor cursor(bytes);
  std::string_view p, k, v;
  size_t records = 0;
  while (cursor.left() > 0 && format::internal::DecodeRecord(cursor, &p, &k, &v)) {
    if (p.empty() || p.size() > format::internal::kMaxPartitionLen || k.empty()) std::abort();
    if (p.data() < bytes.data() || v.data() + v.size() > bytes.data() + bytes.size()) std::abort();
    ++records;
  }
  if (records > size / format::internal::kMinRecordSize + 1) std::abort();
  return 0;
}
