// Replays the committed seed corpus of every libFuzzer target (fuzz/corpus/<target>)
// through the target's entry point, one test per target: an input that crashes, leaks,
// trips a sanitizer or an assert, or makes the target abort fails the test (the process
// dies; the last "replaying" line on stderr names the input). The entry points are the
// fuzz/*_fuzz.cc files, compiled with LLVMFuzzerTestOneInput renamed (tests/fuzz/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int RefkvFuzz_dump_reader(const uint8_t* data, size_t size);
extern "C" int RefkvFuzz_sst_import(const uint8_t* data, size_t size);
extern "C" int RefkvFuzz_sst_manifest(const uint8_t* data, size_t size);
extern "C" int RefkvFuzz_key_decoder(const uint8_t* data, size_t size);

namespace refkv::fuzz {
namespace {

using EntryPoint = int (*)(const uint8_t*, size_t);

// Runs every file of fuzz/corpus/`target` through `entry`, in name order.
void Replay(const std::string& target, EntryPoint entry) {
  const std::filesystem::path dir = std::filesystem::path(REFKV_FUZZ_CORPUS) / target;
  std::vector<std::filesystem::path> inputs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) inputs.push_back(e.path());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_FALSE(inputs.empty()) << "no corpus in " << dir;
  for (const auto& path : inputs) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "cannot read " << path;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), bytes.size());
    // A heap copy of exactly the input's size, as libFuzzer passes it, so that ASan sees
    // a read past its end.
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    EXPECT_EQ(entry(data.data(), data.size()), 0);
  }
}

TEST(FuzzCorpus, DumpReader) { Replay("dump_reader", RefkvFuzz_dump_reader); }
TEST(FuzzCorpus, SstImport) { Replay("sst_import", RefkvFuzz_sst_import); }
TEST(FuzzCorpus, SstManifest) { Replay("sst_manifest", RefkvFuzz_sst_manifest); }
TEST(FuzzCorpus, KeyDecoder) { Replay("key_decoder", RefkvFuzz_key_decoder); }

}  // namespace
}  // namespace refkv::fuzz
