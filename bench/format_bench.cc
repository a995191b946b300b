// Dump and SST export/import throughput, each beside its physical limits in the same
// run (same data, same machine):
//   - BM_Baseline_SeqWriteSync: dd-like sequential 1 MiB pwrites + fdatasync of the
//     dump's bytes (the write-bandwidth limit of an export);
//   - BM_Baseline_ZstdCompress / Decompress: zstd at the same level over the same
//     record bytes in 1 MiB blocks, one thread (the CPU limit);
//   - BM_Baseline_ZstdCompressAllCores: the same with libzstd's workers on every core
//     (zstd -T0), the limit of the parallel export;
//   - BM_Baseline_SetRewrite: re-writing the records into a store with Store::Set.
// bytes_per_second is over the uncompressed record bytes for every case, so the
// columns compare directly; items_per_second is records/s.
//   refkv_bench --benchmark_filter='Dump|Sst|Baseline'
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "format/dump.h"
#include "format/sst.h"

namespace refkv::format {
namespace {

constexpr size_t kPartitions = 8;
constexpr size_t kRecords = 200000;  // ~64 MiB of records

struct Fixture {
  std::unique_ptr<kv::Store> store;
  std::string dir;
  std::string dump;         // a dump of `store`
  std::string raw;          // the record bytes (for the zstd baseline)
  uint64_t raw_bytes = 0;   // uncompressed record bytes
  uint64_t file_bytes = 0;  // dump size
};

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->store = std::move(*kv::Open("mem://"));
    std::mt19937_64 rng(1);
    fx->dir = bench::MakeScratchDir("format");  // removed at the end of the run
    // Values: half random bytes, half a repeated pattern (compresses about 2:1).
    for (size_t i = 0; i < kRecords; ++i) {
      std::string partition = "partition-" + std::to_string(i % kPartitions);
      char key[32];
      std::snprintf(key, sizeof(key), "key-%012zu", i);
      std::string value(320, 'v');
      for (size_t j = 0; j < 160; ++j) value[j] = static_cast<char>(rng());
      (void)fx->store->Set(partition, key, value);
    }
    fx->dump = fx->dir + "/bench.dump";
    ExportOptions opts;
    opts.path = fx->dump;
    auto done = ExportDump(*fx->store, opts);
    fx->raw_bytes = done->info.uncompressed_bytes;
    fx->file_bytes = done->info.file_bytes;
    // The record stream itself, for the zstd baseline.
    for (size_t p = 0; p < kPartitions; ++p) {
      std::string partition = "partition-" + std::to_string(p);
      auto it = std::move(*fx->store->Scan(partition, {}));
      for (; it->Valid(); it->Next()) {
        fx->raw += partition;
        fx->raw += it->key();
        fx->raw += it->value();
      }
    }
    return fx;
  }();
  return *f;
}

void Finish(benchmark::State& state, uint64_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRecords));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Runs `op` (returning a Status) once per iteration; an error skips the case.
template <typename Op>
void RepeatCase(benchmark::State& state, Op&& op) {
  for (auto _ : state) {
    Status s = op();
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  Finish(state, Data().raw_bytes);
}

// Runs `body(target)` per iteration on a fresh mem store made outside the timing.
template <typename Body>
void MemImportCase(benchmark::State& state, Body&& body) {
  RepeatCase(state, [&] {
    state.PauseTiming();
    auto target = std::move(*kv::Open("mem://"));
    state.ResumeTiming();
    return body(*target);
  });
}

// Every record of the fixture written into `target` with Store::Set: the baseline of
// the imports.
Status RewriteWithSets(kv::Store& target) {
  Fixture& f = Data();
  for (size_t p = 0; p < kPartitions; ++p) {
    std::string partition = "partition-" + std::to_string(p);
    auto it = std::move(*f.store->Scan(partition, {}));
    for (; it->Valid(); it->Next()) {
      REFKV_RETURN_IF_ERROR(target.Set(partition, it->key(), it->value()));
    }
  }
  return Status::OK();
}

// The registrations of the cases with a thread-count argument (1, then 0: the default).
void ThreadCases(benchmark::internal::Benchmark* b) {
  b->Arg(1)
      ->Arg(0)
      ->ArgName("threads")
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
}

// Args: uring (1: io_uring, 0: pread/pwrite), threads (compression workers; 0: the
// default, DefaultDumpThreads()). Wall time: the workers' CPU is not the caller's.
void BM_DumpExport(benchmark::State& state) {
  Fixture& f = Data();
  ExportOptions opts;
  opts.path = f.dir + "/out.dump";
  opts.overwrite = true;
  opts.io.backend = state.range(0) ? io::Backend::kUring : io::Backend::kPosix;
  opts.threads = static_cast<unsigned>(state.range(1));
  RepeatCase(state, [&] { return ExportDump(*f.store, opts).status(); });
  state.counters["threads"] = opts.threads == 0 ? DefaultDumpThreads() : opts.threads;
}
BENCHMARK(BM_DumpExport)
    ->Args({1, 1})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({0, 0})
    ->ArgNames({"uring", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// Arg: threads (decompression workers; 0: the default).
void BM_DumpVerify(benchmark::State& state) {
  const auto threads = static_cast<unsigned>(state.range(0));
  RepeatCase(state, [&] { return VerifyDump(Data().dump, {}, {}, threads).status(); });
}
BENCHMARK(BM_DumpVerify)->Apply(ThreadCases);

void BM_DumpImport(benchmark::State& state) {
  MemImportCase(state, [&](kv::Store& target) {
    ImportOptions opts;
    opts.on_conflict = OnConflict::kOverwrite;
    opts.threads = static_cast<unsigned>(state.range(0));
    return ImportDump(Data().dump, target, opts).status();
  });
}
BENCHMARK(BM_DumpImport)->Apply(ThreadCases);

void BM_SstExport(benchmark::State& state) {
  Fixture& f = Data();
  SstExportOptions opts;
  opts.dir = f.dir + "/sst";
  opts.overwrite = true;
  RepeatCase(state, [&] { return ExportSst(*f.store, opts).status(); });
}
BENCHMARK(BM_SstExport)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_SstImport(benchmark::State& state) {
  Fixture& f = Data();
  SstExportOptions eo;
  eo.dir = f.dir + "/sst-in";
  eo.overwrite = true;
  (void)ExportSst(*f.store, eo);
  MemImportCase(state, [&](kv::Store& target) {
    SstImportOptions opts;
    opts.on_conflict = OnConflict::kOverwrite;
    return ImportSst(eo.dir, target, opts).status();
  });
}
BENCHMARK(BM_SstImport)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Baseline_SeqWriteSync(benchmark::State& state) {
  Fixture& f = Data();
  std::string chunk(1 << 20, 'x');
  const std::string path = f.dir + "/dd.out";
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (uint64_t off = 0; off < f.file_bytes; off += chunk.size()) {
      size_t n = std::min<uint64_t>(chunk.size(), f.file_bytes - off);
      if (::pwrite(fd, chunk.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
        state.SkipWithError("pwrite failed");
      }
    }
    ::fdatasync(fd);
    ::close(fd);
  }
  Finish(state, f.raw_bytes);  // the same logical data as an export of the store
}
BENCHMARK(BM_Baseline_SeqWriteSync)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Baseline_ZstdCompress(benchmark::State& state) {
  Fixture& f = Data();
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out(ZSTD_compressBound(1 << 20), '\0');
  for (auto _ : state) {
    for (size_t off = 0; off < f.raw.size(); off += 1 << 20) {
      size_t n = std::min<size_t>(1 << 20, f.raw.size() - off);
      benchmark::DoNotOptimize(
          ZSTD_compressCCtx(cctx, out.data(), out.size(), f.raw.data() + off, n, 3));
    }
  }
  ZSTD_freeCCtx(cctx);
  Finish(state, f.raw_bytes);
}
BENCHMARK(BM_Baseline_ZstdCompress)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

// `zstd -T0 -3` in-process: one frame over the whole record stream, compressed by
// libzstd's own worker pool with one worker per core (what the zstd CLI's -T0 does).
void BM_Baseline_ZstdCompressAllCores(benchmark::State& state) {
  Fixture& f = Data();
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, static_cast<int>(workers));
  if (ZSTD_isError(rc)) {
    state.SkipWithError("libzstd without multithreading");
    ZSTD_freeCCtx(cctx);
    return;
  }
  (void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  std::string out(ZSTD_compressBound(f.raw.size()), '\0');
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ZSTD_compress2(cctx, out.data(), out.size(), f.raw.data(), f.raw.size()));
  }
  ZSTD_freeCCtx(cctx);
  Finish(state, f.raw_bytes);
  state.counters["threads"] = workers;
}
BENCHMARK(BM_Baseline_ZstdCompressAllCores)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_Baseline_ZstdDecompress(benchmark::State& state) {
  Fixture& f = Data();
  std::vector<std::string> blocks;
  for (size_t off = 0; off < f.raw.size(); off += 1 << 20) {
    size_t n = std::min<size_t>(1 << 20, f.raw.size() - off);
    std::string out(ZSTD_compressBound(n), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), f.raw.data() + off, n, 3));
    blocks.push_back(std::move(out));
  }
  std::string back(1 << 20, '\0');
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  for (auto _ : state) {
    for (const auto& b : blocks) {
      benchmark::DoNotOptimize(
          ZSTD_decompressDCtx(dctx, back.data(), back.size(), b.data(), b.size()));
    }
  }
  ZSTD_freeDCtx(dctx);
  Finish(state, f.raw_bytes);
}
BENCHMARK(BM_Baseline_ZstdDecompress)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Baseline_SetRewrite(benchmark::State& state) { MemImportCase(state, RewriteWithSets); }
BENCHMARK(BM_Baseline_SetRewrite)->Unit(benchmark::kMillisecond)->Iterations(3);

// SST import into the RocksDB driver: ImportSst (verification pass, on-conflict=fail
// key check, IngestExternalFile per partition) against re-writing the same records
// through Store::Set, and ImportSst streaming through Write batches (ingest = false).
// Fresh store per iteration (opened and closed outside the timing). Wall time (the
// driver's background threads work for both). Arg: 0 = cf mapping, 1 = shared.
std::string RocksUri(const Fixture& f, int64_t shared) {
  return "rocks://" + f.dir + "/rocks-target" + (shared ? "?partitions=shared" : "");
}

const std::string& SstExportDir() {
  static const std::string dir = [] {
    Fixture& f = Data();
    SstExportOptions eo;
    eo.dir = f.dir + "/sst-rocks";
    eo.overwrite = true;
    (void)ExportSst(*f.store, eo);
    return eo.dir;
  }();
  return dir;
}

// The registrations of the RocksDB cases (Arg: shared).
void MappingCases(benchmark::internal::Benchmark* b) {
  b->Arg(0)->Arg(1)->ArgName("shared")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
}

template <typename Body>
void RocksImportCase(benchmark::State& state, Body&& body) {
  Fixture& f = Data();
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(f.dir + "/rocks-target");
    auto target = kv::Open(RocksUri(f, state.range(0)));
    if (!target.ok()) {
      state.SkipWithError(target.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    Status s = body(**target);
    state.PauseTiming();
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    (void)(*target)->Close();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(f.dir + "/rocks-target");
  Finish(state, f.raw_bytes);
}

void BM_SstImportRocks_Ingest(benchmark::State& state) {
  const std::string& dir = SstExportDir();
  RocksImportCase(state, [&](kv::Store& target) {
    auto done = ImportSst(dir, target);
    if (done.ok() && done->ingested != kRecords) return Status::Internal("not ingested");
    return done.status();
  });
}
BENCHMARK(BM_SstImportRocks_Ingest)->Apply(MappingCases);

void BM_SstImportRocks_Stream(benchmark::State& state) {
  const std::string& dir = SstExportDir();
  RocksImportCase(state, [&](kv::Store& target) {
    SstImportOptions opts;
    opts.ingest = false;
    return ImportSst(dir, target, opts).status();
  });
}
BENCHMARK(BM_SstImportRocks_Stream)->Apply(MappingCases);

void BM_Baseline_RocksSetRewrite(benchmark::State& state) {
  RocksImportCase(state, RewriteWithSets);
}
BENCHMARK(BM_Baseline_RocksSetRewrite)->Apply(MappingCases);

}  // namespace
}  // namespace refkv::format
