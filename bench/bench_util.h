// Shared pieces of refkv's benchmarks: the data set (16-byte keys, 100-byte values that
// are a function of the key and a version, so a compare-and-set always knows the current
// value), a fast per-thread random generator, scratch directories, and the RocksDB
// options the raw baselines use (kept identical to what the refkv rocks driver sets).
//
// Thread-safety: free functions are thread-safe; a Rng belongs to one thread.
#ifndef REFKV_BENCH_BENCH_UTIL_H_
#define REFKV_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>
#include <rocksdb/options.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace refkv::bench {

inline constexpr size_t kKeySize = 16;
inline constexpr size_t kValueSize = 100;
// Hot keys per thread for the setif_hot / set_hot cases, and the most threads a case
// may use (hot keys live after the NumKeys() ordinary keys).
inline constexpr size_t kHotKeys = 64;
inline constexpr size_t kMaxThreads = 8;
// Block cache of every store and baseline: far smaller than the ~116 MB data set, so
// the read cases miss it (they still hit the OS page cache).
inline constexpr size_t kBlockCacheMb = 8;

// Keys preloaded in every store: $REFKV_BENCH_KEYS, default 1,000,000.
size_t NumKeys();
// Ordinary keys plus kHotKeys per possible thread.
inline size_t TotalKeys() { return NumKeys() + kHotKeys * kMaxThreads; }
// Index of thread `thread`'s hot key number `i` (i < kHotKeys).
inline uint64_t HotKeyIndex(int thread, size_t i) {
  return NumKeys() + static_cast<uint64_t>(thread) * kHotKeys + i;
}

// Writes the 16-byte key of `index` ("k" + 15 decimal digits: byte order = index order).
void FillKey(uint64_t index, char* out);
// Writes the 100-byte value of (index, version): both encoded in the first 12 bytes,
// then pseudo-random (incompressible) bytes derived from them.
void FillValue(uint64_t index, uint32_t version, char* out);
std::string Key(uint64_t index);
std::string Value(uint64_t index, uint32_t version);

// splitmix64: fast, good enough to pick keys.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// Picks random ordinary keys owned by one thread of a multi-threaded case: thread t of
// n owns the indexes i with i % n == t, so threads never touch the same key.
class KeyPicker {
 public:
  KeyPicker(int thread, int threads, uint64_t seed)
      : rng_(seed * 131 + static_cast<uint64_t>(thread)),
        thread_(thread),
        threads_(threads),
        span_(NumKeys() / static_cast<uint64_t>(threads)) {}
  uint64_t Next() { return rng_.Uniform(span_) * threads_ + thread_; }

 private:
  Rng rng_;
  uint64_t thread_, threads_, span_;
};

// A fresh directory refkv-bench-<tag>-XXXXXX under $REFKV_BENCH_DIR, $TMPDIR or /tmp.
// Aborts the process if it cannot be made (a benchmark cannot run without it). The
// directory is registered: RunBenchEnd() removes it if it is still there, and so does
// refkv_bench on SIGINT, SIGTERM or SIGHUP (bench/bench_main.cc).
std::string MakeScratchDir(const std::string& tag);
// Removes `path` recursively (and forgets it if it is a scratch directory); errors ignored.
void RemoveTree(const std::string& path);

// Registers `fn` to run once at the end of the run, after the last case: refkv_bench's
// main calls RunBenchEnd() before it returns, so these run while RocksDB's static
// objects (its default Env, logger, thread pools) are still alive. std::atexit cannot
// promise that: RocksDB creates function-local statics lazily, after a handler
// registered at first use, and their destructors then run before the handler. Closing
// stores is what these are for.
void AtBenchEnd(std::function<void()> fn);
// Runs the AtBenchEnd functions, last registered first, then removes every scratch
// directory still registered. Idempotent.
void RunBenchEnd();
// Removes every registered scratch directory now, without running the AtBenchEnd
// functions (for a signal: the stores may be in use by a running case).
void RemoveScratchDirs();

// The options of a raw RocksDB baseline: the same as the refkv rocks driver sets for
// `rocks://PATH?<DriverParams()>` where they matter (block cache, compression, write
// buffer, WAL on and sync off by default write options).
rocksdb::Options BaselineOptions();
// The URI query the kv stores are opened with, matching BaselineOptions().
std::string DriverParams();

// Prints, to stderr, the SST files per level of every column family of the RocksDB
// database at `dir` (opened read-only beside its writer): both sides of a comparison
// must start from the same LSM shape. Errors are printed, not fatal.
void PrintLsmShape(const std::string& label, const std::string& dir);

// The process's resident set size in KiB (VmRSS of /proc/self/status), or -1.
long ReadRssKib();

// Seconds since an arbitrary fixed point (steady clock).
double NowSeconds();
// CPU seconds the calling thread has used (user + system).
double ThreadCpuSeconds();

// Sets items_per_second (by the case's clock: CPU time at 1 thread, wall clock at 2) and
// items_per_cpu_second: `items` over this thread's CPU time since `cpu_start`, summed
// over the threads by Google Benchmark - the throughput the case would reach with a core
// per thread, which a busy shared machine does not disturb. Call once per thread.
void ReportItems(benchmark::State& state, int64_t items, double cpu_start);

}  // namespace refkv::bench

#endif  // REFKV_BENCH_BENCH_UTIL_H_
