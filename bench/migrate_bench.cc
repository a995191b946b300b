// The migration runner's overhead: a step that copies N rows in batches through the
// StepContext (a lease check per batch, a fenced checkpoint per batch, the records),
// beside the same scan-and-write loop run on the store directly (the baseline).
//
//   refkv_bench --benchmark_filter=Migrate
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/open.h"
#include "migrate/migrate.h"

namespace refkv::kv::migrate {
namespace {

constexpr int kRows = 20000;

std::unique_ptr<Store> FreshStore(bool rocks, std::string* dir) {
  std::string uri = "mem://";
  if (rocks) {
    char pattern[] = "/tmp/refkv-migrate-bench-XXXXXX";
    *dir = mkdtemp(pattern);
    uri = "rocks://" + *dir + "/db";
  }
  auto store = kv::Open(uri);
  if (!store.ok()) std::abort();
  WriteBatch batch;
  char key[16];
  for (int i = 0; i < kRows; ++i) {
    std::snprintf(key, sizeof(key), "k%08d", i);
    batch.Put(key, std::string(100, static_cast<char>('a' + i % 26)));
  }
  if (!(*store)->Write("src", batch).ok()) std::abort();
  return std::move(store).value();
}

// The loop both cases run; `write` and `checkpoint` are the only difference.
template <typename WriteFn, typename CheckpointFn>
Status CopyLoop(Store& store, int batch_size, const std::string& from, WriteFn write,
                CheckpointFn checkpoint) {
  ScanOptions scan;
  if (!from.empty()) scan.start = from + std::string(1, '\0');
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan("src", scan));
  int64_t rows = 0;
  while (true) {
    WriteBatch batch;
    std::string last;
    for (int n = 0; it->Valid() && n < batch_size; it->Next(), ++n) {
      batch.Put(it->key(), it->value());
      last = std::string(it->key());
    }
    REFKV_RETURN_IF_ERROR(it->status());
    if (batch.empty()) return Status::OK();
    REFKV_RETURN_IF_ERROR(write(batch));
    rows += static_cast<int64_t>(batch.size());
    REFKV_RETURN_IF_ERROR(checkpoint(last, rows));
  }
}

void Copy(benchmark::State& state, bool runner) {
  const bool rocks = state.range(0) == 1;
  const int batch_size = static_cast<int>(state.range(1));
  StepRegistry steps;
  MigrationStep step;
  step.id = "copy";
  step.from = 1;
  step.to = 2;
  step.up = [batch_size](StepContext& ctx) {
    return CopyLoop(
        ctx.store(), batch_size, ctx.cursor(),
        [&](const WriteBatch& b) { return ctx.Write("dst", b); },
        [&](const std::string& c, int64_t rows) { return ctx.Checkpoint(c, rows); });
  };
  if (!steps.Add(step).ok()) std::abort();
  RunOptions options;
  options.no_backup = true;
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir;
    auto store = FreshStore(rocks, &dir);
    state.ResumeTiming();
    Status s;
    if (runner) {
      s = Up(*store, steps, options).status();
    } else {
      s = CopyLoop(
          *store, batch_size, "", [&](const WriteBatch& b) { return store->Write("dst", b); },
          [](const std::string&, int64_t) { return Status::OK(); });
    }
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    state.PauseTiming();
    (void)store->Close();
    store.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetLabel(std::string(rocks ? "rocks" : "mem") + ", batch " + std::to_string(batch_size));
}

void BM_MigrateCopyStep(benchmark::State& state) { Copy(state, true); }
void BM_MigrateCopyBaseline(benchmark::State& state) { Copy(state, false); }

#define MIGRATE_ARGS \
  ->Args({0, 100})->Args({0, 1000})->Args({1, 100})->Args({1, 1000})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_MigrateCopyBaseline) MIGRATE_ARGS;
BENCHMARK(BM_MigrateCopyStep) MIGRATE_ARGS;

}  // namespace
}  // namespace refkv::kv::migrate
