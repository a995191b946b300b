#include "bench/bench_util.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <vector>

namespace refkv::bench {

size_t NumKeys() {
  static const size_t n = [] {
    const char* env = std::getenv("REFKV_BENCH_KEYS");
    size_t v = env != nullptr ? std::strtoull(env, nullptr, 10) : 0;
    return v >= 1000 ? v : size_t{1'000'000};
  }();
  return n;
}

void FillKey(uint64_t index, char* out) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "k%015llu", static_cast<unsigned long long>(index));
  std::memcpy(out, buf, kKeySize);
}

void FillValue(uint64_t index, uint32_t version, char* out) {
  std::memcpy(out, &index, 8);
  std::memcpy(out + 8, &version, 4);
  Rng rng((index << 20) ^ version);
  for (size_t i = 12; i < kValueSize; i += 8) {
    uint64_t r = rng.Next();
    std::memcpy(out + i, &r, std::min<size_t>(8, kValueSize - i));
  }
}

std::string Key(uint64_t index) {
  std::string s(kKeySize, '\0');
  FillKey(index, s.data());
  return s;
}

std::string Value(uint64_t index, uint32_t version) {
  std::string s(kValueSize, '\0');
  FillValue(index, version, s.data());
  return s;
}

namespace {

// Never destroyed: RunBenchEnd may run from any point before exit.
std::mutex end_mu;
std::vector<std::function<void()>>* end_functions = new std::vector<std::function<void()>>;
std::set<std::string>* scratch_dirs = new std::set<std::string>;

// A store still writing into `path` (a signal during a case) can create a file between
// remove_all's listing and its rmdir: a few tries.
void RemoveTreeNow(const std::string& path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (!ec) return;
  }
}

}  // namespace

std::string MakeScratchDir(const std::string& tag) {
  const char* base = std::getenv("REFKV_BENCH_DIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = std::string(base) + "/refkv-bench-" + tag + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror(("refkv bench: mkdtemp " + pattern).c_str());
    std::abort();
  }
  std::lock_guard lock(end_mu);
  scratch_dirs->insert(pattern);
  return pattern;
}

void RemoveTree(const std::string& path) {
  {
    std::lock_guard lock(end_mu);
    scratch_dirs->erase(path);
  }
  RemoveTreeNow(path);
}

void AtBenchEnd(std::function<void()> fn) {
  std::lock_guard lock(end_mu);
  end_functions->push_back(std::move(fn));
}

void RunBenchEnd() {
  // Taken one at a time and run unlocked: a function may call RemoveTree.
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(end_mu);
      if (end_functions->empty()) break;
      fn = std::move(end_functions->back());
      end_functions->pop_back();
    }
    fn();
  }
  RemoveScratchDirs();
}

void RemoveScratchDirs() {
  std::set<std::string> dirs;
  {
    std::lock_guard lock(end_mu);
    dirs.swap(*scratch_dirs);
  }
  for (const std::string& dir : dirs) RemoveTreeNow(dir);
}

// Mirrors the rocks driver's choices (engine/rocks/rocks_open.cc, MakeDbOptions and
// MakeCfOptions) so baseline and store differ only in the refkv layer. Keep in sync.
rocksdb::Options BaselineOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // DBOptions
  options.max_open_files = 1024;
  options.max_background_jobs = 2;
  options.max_total_wal_size = 256ull << 20;
  options.keep_log_file_num = 3;
  options.max_log_file_size = 8ull << 20;
  // ColumnFamilyOptions
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheMb << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.arena_block_size = 64 << 10;
  options.max_write_buffer_number = 2;
  options.level_compaction_dynamic_level_bytes = true;
  return options;
}

std::string DriverParams() { return "block_cache_mb=" + std::to_string(kBlockCacheMb); }

void PrintLsmShape(const std::string& label, const std::string& dir) {
  rocksdb::Options options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (s.ok()) s = rocksdb::DB::OpenForReadOnly(options, dir, cfs, &handles, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "refkv_bench: LSM of %s: %s\n", label.c_str(), s.ToString().c_str());
    return;
  }
  std::string line;
  for (size_t i = 0; i < handles.size(); ++i) {
    std::string levels;
    for (int level = 0; level < 7; ++level) {
      std::string v;
      if (db->GetProperty(handles[i], "rocksdb.num-files-at-level" + std::to_string(level), &v) &&
          v != "0") {
        levels += " L" + std::to_string(level) + "=" + v;
      }
    }
    if (!levels.empty()) line += " [" + names[i] + ":" + levels + "]";
  }
  std::fprintf(stderr, "refkv_bench: LSM of %s:%s\n", label.c_str(), line.c_str());
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

long ReadRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void ReportItems(benchmark::State& state, int64_t items, double cpu_start) {
  double cpu = ThreadCpuSeconds() - cpu_start;
  state.SetItemsProcessed(items);
  if (cpu > 0) state.counters["items_per_cpu_second"] = static_cast<double>(items) / cpu;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace refkv::bench
