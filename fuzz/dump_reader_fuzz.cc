// libFuzzer target: arbitrary bytes read as a refkv dump (format/DUMP_FORMAT.md).
// Every input must end in OK or an error Status: no crash, leak, hang or unbounded
// allocation. Built by scripts/fuzz with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION,
// which makes the reader accept wrong checksums so the fuzzer gets past them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "format/dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = refkv::format::VerifyDumpBytes(bytes, "fuzz-input");
  if (info.ok()) {
    // A dump that verifies is self-consistent.
    uint64_t records = 0;
    for (const auto& p : info->partitions) records += p.records;
    if (records != info->records || info->file_bytes != size) std::abort();
  } else if (info.status().message().empty()) {
    std::abort();  // every rejection says why
  }
  return 0;
}
