// The ref store's schema step 1->2 (refstore/schema.h: the ancestry index) over a store
// with many commit records and staged entries, beside the same rows read and rewritten
// with a plain Scan and batched Write loop on the store directly (no runner, no fencing,
// no checkpoints); and the backup a migration takes first (rocks checkpoint, dump).
//
//   REFKV_SCHEMA_BENCH_ROWS=1000000 refkv_bench --benchmark_filter='up_step|scan_rewrite|backup/'
// Rows default to 100000 (commit records; as many staged entries again).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/metadata.h"
#include "engine/open.h"
#include "format/dump.h"
#include "migrate/migrate.h"
#include "refstore/committed/range_store.h"
#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"

namespace refkv::refstore {
namespace {

int64_t Rows() {
  const char* env = std::getenv("REFKV_SCHEMA_BENCH_ROWS");
  return env != nullptr && std::atoll(env) > 0 ? std::atoll(env) : 100000;
}

struct BenchStore {
  std::string dir;
  std::unique_ptr<kv::Store> store;
  std::string refs;  // the repository's refs partition
  ~BenchStore() {
    if (store) (void)store->Close();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

// A schema-1 store: one repository with Rows() commit records in a chain and as many
// staged entries on its branch.
std::unique_ptr<BenchStore> MakeStore(const std::string& driver) {
  auto b = std::make_unique<BenchStore>();
  std::string uri = "mem://bench";
  if (driver == "rocks") {
    char pattern[] = "/tmp/refkv-schema-bench-XXXXXX";
    b->dir = mkdtemp(pattern);
    uri = "rocks://" + b->dir + "/db";
  }
  kv::OpenOptions open;
  open.code_schema_version = kSchemaOriginal;
  auto store = kv::Open(uri, open);
  if (!store.ok()) std::abort();
  b->store = std::move(store).value();
  auto ranges = OpenKvRangeStore(*b->store, "refkv.ranges");
  if (!ranges.ok()) std::abort();
  auto refs = RefStore::Open(*b->store, **ranges);
  if (!refs.ok()) std::abort();
  auto repo = (*refs)->CreateRepository("bench", "main");
  if (!repo.ok()) std::abort();
  b->refs = internal::RefsPartition("bench", repo->instance_id);
  auto branch = (*refs)->GetBranch("bench", "main");
  if (!branch.ok()) std::abort();
  const int64_t n = Rows();
  kv::WriteBatch batch;
  std::string parent = branch->commit_id;
  for (int64_t i = 0; i < n; ++i) {
    pb::Commit c;
    c.add_parents(parent);
    c.set_committer("bench");
    c.set_message("commit " + std::to_string(i));
    c.set_creation_time_ms(1700000000000 + i);
    c.set_generation(i + 2);
    c.set_metarange_id(std::string(32, 'm'));
    c.set_id(internal::ComputeCommitId(c));
    batch.Put(internal::CommitKey(c.id()), internal::Encode(c));
    parent = c.id();
    if (batch.size() == 4096) {
      if (!b->store->Write(b->refs, batch).ok()) std::abort();
      batch.Clear();
    }
  }
  if (!batch.empty() && !b->store->Write(b->refs, batch).ok()) std::abort();
  for (int64_t i = 0; i < n; i += 4096) {
    for (int64_t j = i; j < std::min(n, i + 4096); ++j) {
      if (!(*refs)
               ->PutEntry("bench", "main", "staged/" + std::to_string(j), std::string(64, 'v'))
               .ok()) {
        std::abort();
      }
    }
  }
  return b;
}

kv::migrate::RunOptions Run() {
  kv::migrate::RunOptions o;
  o.no_backup = true;
  o.skip_free_space_check = true;
  o.to = kSchemaAncestryIndex;
  return o;
}

void ResetToSchema1(BenchStore& b) {
  auto steps = SchemaSteps();
  kv::migrate::RunOptions down = Run();
  down.to = kSchemaOriginal;
  if (!kv::migrate::Down(*b.store, steps, down).ok()) std::abort();
  if (!kv::migrate::Cleanup(*b.store, steps, Run()).ok()) std::abort();
}

void BM_UpStep(benchmark::State& state, std::string driver) {
  auto b = MakeStore(driver);
  auto steps = SchemaSteps();
  int64_t items = 0;
  for (auto _ : state) {
    auto r = kv::migrate::Up(*b->store, steps, Run());
    if (!r.ok() || r->applied.size() != 1) {
      state.SkipWithError(r.ok() ? "no step applied" : r.status().ToString().c_str());
      return;
    }
    items += r->applied[0].rows;
    state.PauseTiming();
    ResetToSchema1(*b);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(items);
}

// The same rows: scan the commit records, decode, write the same index keys in batches
// of the step's size with plain Write calls.
void BM_ScanRewrite(benchmark::State& state, std::string driver) {
  auto b = MakeStore(driver);
  int64_t items = 0;
  for (auto _ : state) {
    auto it = b->store->Scan(b->refs, kv::ScanOptions::Prefix(internal::kCommitPrefix));
    if (!it.ok()) std::abort();
    kv::WriteBatch batch;
    for (; (*it)->Valid(); (*it)->Next()) {
      pb::Commit c;
      if (!internal::Decode((*it)->value(), &c, "bench").ok()) std::abort();
      batch.Put(migrations::AncestryKey(c.id()), migrations::EncodeAncestry(c));
      ++items;
      if (batch.size() == 512) {
        if (!b->store->Write(b->refs, batch).ok()) std::abort();
        batch.Clear();
      }
    }
    if (!batch.empty() && !b->store->Write(b->refs, batch).ok()) std::abort();
    state.PauseTiming();
    if (!b->store->DeleteRange(b->refs, "a/", "a0").ok()) std::abort();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(items);
}

void BM_BackupCheckpoint(benchmark::State& state) {
  auto b = MakeStore("rocks");
  int i = 0;
  for (auto _ : state) {
    const std::string target = b->dir + "/ckpt" + std::to_string(i++);
    if (!b->store->Checkpoint(target).ok()) std::abort();
    state.PauseTiming();
    std::filesystem::remove_all(target);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * Rows() * 2);
}

void BM_BackupDump(benchmark::State& state, std::string driver) {
  auto b = MakeStore(driver);
  char pattern[] = "/tmp/refkv-schema-dump-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  uint64_t records = 0;
  for (auto _ : state) {
    format::ExportOptions ex;
    ex.path = dir + "/backup.dump";
    ex.overwrite = true;
    auto r = format::ExportDump(*b->store, ex);
    if (!r.ok()) std::abort();
    records += r->info.records;
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(records));
}

BENCHMARK_CAPTURE(BM_ScanRewrite, "mem", std::string("mem"))
    ->Name("baseline/mem/scan_rewrite")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_UpStep, "mem", std::string("mem"))
    ->Name("migrate/mem/up_step")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_ScanRewrite, "rocks", std::string("rocks"))
    ->Name("baseline/rocks/scan_rewrite")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_UpStep, "rocks", std::string("rocks"))
    ->Name("migrate/rocks/up_step")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_BackupCheckpoint)
    ->Name("backup/rocks/checkpoint")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_BackupDump, "rocks", std::string("rocks"))
    ->Name("backup/rocks/dump")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_BackupDump, "mem", std::string("mem"))
    ->Name("backup/mem/dump")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace refkv::refstore
