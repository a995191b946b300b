// `refkv kv migrate` rocks -> postgres (format::CopyStore, what the command runs)
// against the raw libpq baseline: COPY ... FROM STDIN (FORMAT binary) of the same rows
// into a table of the same layout (partition bytea, key bytea, value bytea, primary key
// (partition, key)), in one transaction on one connection, rows already in memory.
//
//   KvMigrate/verify:1/batch:B  CopyStore as `kv migrate` runs it (2 partitions in
//                               parallel, batches of B rows: InsertNew = COPY into
//                               the fresh table, then the verification pass: both
//                               sides scanned and checksummed); B = 1000 is the default
//   KvMigrate/verify:0/batch:B  the same without the verification pass
//   KvMigrate/baseline_copy     raw libpq COPY (the physical limit of the server)
//
// Data: REFKV_MIGRATE_ROWS (default 200,000) rows of 100-byte values under 16-byte keys
// in 4 partitions, in a rocks store built once per run. Each iteration writes into a
// fresh table (dropped afterwards, outside the timing). Server: a throwaway PostgreSQL
// 15 (tests/support/pg_server.h, shared_buffers 128MB, durable defaults: fsync on,
// synchronous_commit on), or $REFKV_BENCH_POSTGRES. Wall time; items are rows.
//   refkv_bench --benchmark_filter=KvMigrate
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "format/copy.h"
#include "tests/support/pg_server.h"
#include "tests/support/temp_dir.h"

namespace refkv::bench {
namespace {

constexpr size_t kPartitions = 4;
constexpr size_t kValueBytes = 100;

struct Row {
  std::string partition, key, value;
};

struct MigrateFixture {
  std::string error;
  std::unique_ptr<testing::PgServer> server;
  std::string libpq_uri;
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<kv::Store> source;
  std::vector<Row> rows;
  int next_table = 0;
};

MigrateFixture& Fixture() {
  static MigrateFixture* f = [] {
    auto* f = new MigrateFixture();
    const char* env = std::getenv("REFKV_BENCH_POSTGRES");
    if (env != nullptr && *env != '\0') {
      f->libpq_uri = env;
    } else {
      testing::PgServerOptions options;
      options.shared_buffers = "128MB";
      auto server = testing::PgServer::Create(options);
      if (!server.ok()) {
        f->error = server.status().ToString();
        return f;
      }
      f->server = std::move(server).value();
      f->libpq_uri = f->server->Uri();
    }
    const char* n_env = std::getenv("REFKV_MIGRATE_ROWS");
    const size_t n = n_env != nullptr ? std::strtoull(n_env, nullptr, 10) : 200000;
    f->dir = std::make_unique<testing::TempDir>("bench-migrate");
    auto source = kv::Open("rocks://" + f->dir->Sub("src"));
    if (!source.ok()) {
      f->error = source.status().ToString();
      return f;
    }
    f->source = std::move(source).value();
    std::mt19937_64 rng(17);
    std::string value(kValueBytes, '\0');
    for (size_t p = 0; p < kPartitions; ++p) {
      const std::string partition = "part" + std::to_string(p);
      kv::WriteBatch batch;
      for (size_t i = p; i < n; i += kPartitions) {
        for (char& c : value) c = static_cast<char>('a' + rng() % 26);
        char key[32];
        std::snprintf(key, sizeof key, "key-%012zu", i);
        batch.Put(key, value);
        f->rows.push_back(Row{partition, key, value});
        if (batch.size() == 1000) {
          (void)f->source->Write(partition, batch);
          batch.Clear();
        }
      }
      (void)f->source->Write(partition, batch);
    }
    // At the end of the run, while RocksDB's statics are alive.
    AtBenchEnd([] {
      MigrateFixture& f = Fixture();
      if (f.source) (void)f.source->Close();
      f.source.reset();
      f.dir.reset();
      f.server.reset();
    });
    return f;
  }();
  return *f;
}

bool Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

std::string NextTable(MigrateFixture& f) {
  return "refkv_migrate_" + std::to_string(getpid()) + "_" + std::to_string(f.next_table++);
}

void DropTable(const MigrateFixture& f, const std::string& table) {
  PGconn* c = PQconnectdb(f.libpq_uri.c_str());
  if (PQstatus(c) == CONNECTION_OK) (void)Exec(c, "DROP TABLE IF EXISTS public." + table);
  PQfinish(c);
}

void BM_KvMigrate(benchmark::State& state) {
  MigrateFixture& f = Fixture();
  if (!f.error.empty()) {
    state.SkipWithError(("no PostgreSQL or source: " + f.error).c_str());
    return;
  }
  const bool verify = state.range(0) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string table = NextTable(f);
    auto target = kv::Open(testing::WithParam(f.libpq_uri, "table", table));
    if (!target.ok()) {
      state.SkipWithError(target.status().ToString().c_str());
      return;
    }
    state.ResumeTiming();
    format::CopyOptions options;
    options.verify = verify;
    options.write_batch = static_cast<size_t>(state.range(1));
    auto done = format::CopyStore(*f.source, **target, options);
    state.PauseTiming();
    if (!done.ok() || done->records != f.rows.size()) {
      state.SkipWithError(done.ok() ? "row count differs" : done.status().ToString().c_str());
      return;
    }
    (void)(*target)->Close();
    DropTable(f, table);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * f.rows.size()));
}
BENCHMARK(BM_KvMigrate)
    ->Args({1, 1000})
    ->Args({0, 1000})
    ->Args({1, 10000})
    ->Args({0, 10000})
    ->ArgNames({"verify", "batch"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void PutBinaryField(std::string* out, const std::string& bytes) {
  uint32_t len = htonl(static_cast<uint32_t>(bytes.size()));
  out->append(reinterpret_cast<const char*>(&len), 4);
  out->append(bytes);
}

void BM_KvMigrate_BaselineCopy(benchmark::State& state) {
  MigrateFixture& f = Fixture();
  if (!f.error.empty()) {
    state.SkipWithError(("no PostgreSQL or source: " + f.error).c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    const std::string table = NextTable(f);
    PGconn* c = PQconnectdb(f.libpq_uri.c_str());
    bool ok = PQstatus(c) == CONNECTION_OK &&
              Exec(c, "CREATE TABLE public." + table +
                          " (partition bytea NOT NULL, key bytea NOT NULL, value bytea NOT NULL, "
                          "PRIMARY KEY (partition, key))");
    state.ResumeTiming();
    ok = ok && Exec(c, "BEGIN");
    if (ok) {
      PGresult* r = PQexec(
          c,
          ("COPY public." + table + " (partition, key, value) FROM STDIN (FORMAT binary)").c_str());
      ok = PQresultStatus(r) == PGRES_COPY_IN;
      PQclear(r);
    }
    std::string buf("PGCOPY\n\377\r\n\0", 11);
    buf.append(8, '\0');  // flags, header extension length
    for (size_t i = 0; ok && i < f.rows.size(); ++i) {
      const Row& r = f.rows[i];
      uint16_t fields = htons(3);
      buf.append(reinterpret_cast<const char*>(&fields), 2);
      PutBinaryField(&buf, r.partition);
      PutBinaryField(&buf, r.key);
      PutBinaryField(&buf, r.value);
      if (buf.size() >= (1 << 20)) {
        ok = PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) == 1;
        buf.clear();
      }
    }
    buf.append("\377\377", 2);  // trailer
    ok = ok && PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) == 1 &&
         PQputCopyEnd(c, nullptr) == 1;
    if (ok) {
      PGresult* r = PQgetResult(c);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      while ((r = PQgetResult(c)) != nullptr) PQclear(r);
    }
    ok = ok && Exec(c, "COMMIT");
    state.PauseTiming();
    std::string error = PQerrorMessage(c);
    PQfinish(c);
    DropTable(f, table);
    if (!ok) {
      state.SkipWithError(("COPY failed: " + error).c_str());
      return;
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * f.rows.size()));
}
BENCHMARK(BM_KvMigrate_BaselineCopy)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace refkv::bench
