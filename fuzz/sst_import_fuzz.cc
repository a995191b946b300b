// libFuzzer target: arbitrary bytes as the SST file of an export whose manifest is
// valid (fuzz/sst_fuzz_util.h, SeedStore(5): partition "a" is refkv-000000.sst). VerifySst
// and ImportSst (into a mem store) must end in OK or an error Status, never a crash,
// leak or hang; a rejected import writes nothing. The manifest (version 2) pins the file's
// size and xxHash64, so every input but the exported file itself is refused before RocksDB
// parses it: RocksDB aborts on some malformed tables (fuzz/corpus/sst_import/
// rocksdb-asserts-checksums-off.sst, which this target found), and the pin is what keeps
// such a file from reaching it.
#include <cstddef>
#include <cstdint>

#include "fuzz/sst_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refkv;
  const std::string& dir = fuzz::SeedExportDir("sst-import-fuzz");
  fuzz::WriteBytes(dir + "/refkv-000000.sst", data, size);
  auto verified = format::VerifySst(dir);
  auto store = std::move(*kv::Open("mem://"));
  auto imported = format::ImportSst(dir, *store);
  // Both passes judge alike, except that a record beyond the kv::Store limits verifies
  // (the format's bounds are wider, for exports of older code) and is not imported.
  if (imported.ok() != verified.ok() && !(verified.ok() && imported.status().IsInvalidArgument())) {
    std::abort();
  }
  if (!imported.ok()) {
    if (imported.status().message().empty()) std::abort();
    auto parts = store->ListPartitions();
    if (!parts.ok()) std::abort();
    for (const auto& p : *parts) {
      if (p == kv::kMetaPartition) continue;
      auto it = store->Scan(p, {});
      if (it.ok() && (*it)->Valid()) std::abort();  // nothing imported
    }
  }
  return 0;
}
