// libFuzzer target: arbitrary bytes as MANIFEST.refkv of an export directory holding
// the valid SST files of SeedStore(5) (fuzz/sst_fuzz_util.h). ReadSstManifest,
// VerifySst and ImportSst must end in OK or an error Status; a manifest that parses
// is self-consistent (records total = sum of its partitions).
#include <cstddef>
#include <cstdint>

#include "fuzz/sst_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refkv;
  const std::string& dir = fuzz::SeedExportDir("sst-manifest-fuzz");
  fuzz::WriteBytes(dir + "/" + std::string(format::kSstManifestName), data, size);
  auto m = format::ReadSstManifest(dir);
  if (!m.ok()) {
    if (m.status().message().empty()) std::abort();
    return 0;
  }
  uint64_t total = 0;
  for (const auto& p : m->partitions) total += p.records;
  if (total != m->records) std::abort();
  auto verified = format::VerifySst(dir);
  auto store = std::move(*kv::Open("mem://"));
  auto imported = format::ImportSst(dir, *store);
  if (imported.ok() && !verified.ok()) std::abort();
  return 0;
}
