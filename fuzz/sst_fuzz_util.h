// Shared by the SST fuzz targets and make_sst_corpus: deterministic small stores and
// their SST exports, so seed manifests made by make_sst_corpus match the files the
// fuzz targets export at start-up (same records, same file names).
#ifndef REFKV_FUZZ_SST_FUZZ_UTIL_H_
#define REFKV_FUZZ_SST_FUZZ_UTIL_H_

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/open.h"
#include "format/sst.h"

namespace refkv::fuzz {

// Three partitions ("a", "b\0" and "\xff"), `keys` records each.
inline std::unique_ptr<kv::Store> SeedStore(int keys) {
  auto store = kv::Open("mem://");
  if (!store.ok()) std::abort();
  for (std::string p : {std::string("a"), std::string("b\0", 2), std::string("\xff")}) {
    for (int k = 0; k < keys; ++k) {
      std::string key = "key" + std::to_string(1000 + k);
      std::string value(static_cast<size_t>(7 * (k % 4)), static_cast<char>('a' + k % 26));
      if (!(*store)->Set(p, key, value).ok()) std::abort();
    }
  }
  return std::move(*store);
}

// Exports SeedStore(keys) into `dir`; aborts on failure (a bug, not an input).
inline void ExportSeed(const std::string& dir, int keys) {
  auto store = SeedStore(keys);
  format::SstExportOptions opts;
  opts.dir = dir;
  opts.overwrite = true;
  if (!format::ExportSst(*store, opts).ok()) std::abort();
}

// The directories ScratchDir made (never destroyed: read by its exit handler).
inline std::vector<std::string>& ScratchDirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

// A fresh directory under /tmp; every one made is removed at exit.
inline std::string ScratchDir(const char* tag) {
  std::string tmpl = std::string("/tmp/refkv-") + tag + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  static const bool registered = [] {
    std::atexit([] {
      std::error_code ec;
      for (const auto& d : ScratchDirs()) std::filesystem::remove_all(d, ec);
    });
    return true;
  }();
  (void)registered;
  ScratchDirs().push_back(tmpl);
  return tmpl;
}

// The target's export directory of SeedStore(5), made on first use (one per tag and
// process: every fuzz input rewrites one file of it). Keyed by tag because one process may
// run several targets (tests/fuzz replays every corpus in one executable): a shared
// directory would let one target's input reach another's manifest.
inline const std::string& SeedExportDir(const char* tag) {
  static auto* dirs = new std::map<std::string, std::string>();
  auto it = dirs->find(tag);
  if (it == dirs->end()) {
    std::string d = ScratchDir(tag);
    ExportSeed(d, 5);
    it = dirs->emplace(tag, d).first;
  }
  return it->second;
}

inline void WriteBytes(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

}  // namespace refkv::fuzz

#endif  // REFKV_FUZZ_SST_FUZZ_UTIL_H_
