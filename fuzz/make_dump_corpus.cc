// Writes the seed corpus of dump_reader_fuzz: small valid dumps made by refkv itself.
//   make_dump_corpus DIR
#include <cstdio>
#include <string>

#include "engine/open.h"
#include "format/dump.h"

using namespace refkv;

static int Fail(const Status& s) {
  std::fprintf(stderr, "make_dump_corpus: %s\n", s.ToString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_dump_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  struct Seed {
    const char* name;
    int partitions, keys, value_len;
  };
  for (Seed seed : {Seed{"empty.dump", 0, 0, 0}, Seed{"one.dump", 1, 1, 3},
                    Seed{"three_partitions.dump", 3, 20, 16}, Seed{"blocks.dump", 2, 300, 40}}) {
    auto store = kv::Open("mem://");
    if (!store.ok()) return Fail(store.status());
    for (int p = 0; p < seed.partitions; ++p) {
      std::string partition = "p" + std::to_string(p) + std::string(1, '\0');
      for (int k = 0; k < seed.keys; ++k) {
        std::string key = "key" + std::to_string(1000 + k);
        std::string value(static_cast<size_t>(seed.value_len * (k % 3)),
                          static_cast<char>('a' + k % 26));
        Status s = (*store)->Set(partition, key, value);
        if (!s.ok()) return Fail(s);
      }
    }
    format::ExportOptions opts;
    opts.path = dir + "/" + seed.name;
    opts.overwrite = true;
    opts.block_size = 4096;
    auto done = format::ExportDump(**store, opts);
    if (!done.ok()) return Fail(done.status());
  }
  return 0;
}
