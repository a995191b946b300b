// Writes the seed corpora of sst_import_fuzz, sst_manifest_fuzz and key_decoder_fuzz
// (valid files made by refkv itself):
//   make_sst_corpus CORPUS_DIR   (writes CORPUS_DIR/{sst_import,sst_manifest,key_decoder})
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/coding.h"
#include "engine/rocks/rocks_store_impl.h"
#include "format/dump/encoding.h"
#include "fuzz/sst_fuzz_util.h"

using namespace refkv;
namespace fs = std::filesystem;

static void Copy(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_sst_corpus CORPUS_DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* sub : {"sst_import", "sst_manifest", "key_decoder"}) {
    fs::create_directories(root / sub);
  }
  const std::string work = fuzz::ScratchDir("make-sst-corpus");
  // The fuzz targets export SeedStore(5): its manifest matches their files; other
  // sizes give manifests that parse but do not match (also worth mutating).
  for (int keys : {5, 1, 40}) {
    const std::string dir = work + "/k" + std::to_string(keys);
    fuzz::ExportSeed(dir, keys);
    Copy(fs::path(dir) / std::string(format::kSstManifestName),
         root / "sst_manifest" / ("manifest-" + std::to_string(keys) + ".refkv"));
    for (const char* f : {"refkv-000000.sst", "refkv-000001.sst"}) {
      Copy(fs::path(dir) / f, root / "sst_import" / (std::to_string(keys) + "-" + f));
    }
  }
  auto put = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(root / "key_decoder" / name, std::ios::binary) << bytes;
  };
  put("shared-key", kv::rocks::SharedPrefix("partition") + "key-1");
  put("shared-long", kv::rocks::SharedPrefix(std::string(200, 'p')) + "k");
  put("cf-name", kv::rocks::CfNameFor(std::string("b\0\xff", 3)));
  std::string records;
  for (int i = 0; i < 3; ++i) {
    PutVarint64(&records, 2);
    records += "p" + std::to_string(i);
    PutVarint64(&records, 4);
    records += "key" + std::to_string(i);
    PutVarint64(&records, i * 3);
    records += std::string(i * 3, 'v');
  }
  put("dump-records", records);
  return 0;
}
