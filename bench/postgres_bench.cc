// The PostgreSQL driver against raw libpq, same server, same statements, same run.
//
//   kv/postgres/{get,set,setif,scan,write_batch}   through kv::Store (the pool, retries,
//                                                   Status/Result, iterators)
//   baseline/libpq/{get,set,setif,scan}            the driver's SQL, prepared, binary
//                                                   parameters and results, one PGconn per
//                                                   thread, PQexecPrepared in a loop
//   pair/postgres_vs_libpq/{get,set,setif}         both in one loop, alternating, timed
//                                                   apart: kv_vs_libpq = throughput ratio
//                                                   (robust on a noisy, shared machine)
//   ref/rocks/{get,set,setif}                      the embedded driver on the same data
//                                                   (sync=true, or sync=false when
//                                                   PostgreSQL runs synchronous_commit=off):
//                                                   what the scale-out path costs
//
// Server: $REFKV_BENCH_POSTGRES (a plain libpq URI; the benchmark adds its own table) or a
// throwaway PostgreSQL 15 started here (tests/support/pg_server.h), durable defaults.
// $REFKV_BENCH_POSTGRES_SYNC=off runs both sides with synchronous_commit=off.
// Items are rows: a Get, Set or SetIf is one item; a scan or batch counts its rows.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "tests/support/pg_server.h"
#include "tests/support/temp_dir.h"

namespace refkv::bench {
namespace {

constexpr int kKeys = 10000;     // preloaded keys for get/set
constexpr int kScanRows = 1000;  // rows of the scanned partition
constexpr int kBatchRows = 100;  // rows per Write
constexpr Oid kBytea = 17, kInt8 = 20;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

struct Fixture {
  std::string libpq_uri;  // for the baseline
  std::string table;      // unquoted name in schema public
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<testing::PgServer> server;  // when we started one
  std::string error;
  // The embedded driver with the same data, for the cost of the scale-out path; synced
  // writes unless the PostgreSQL side runs with synchronous_commit=off.
  std::unique_ptr<testing::TempDir> rocks_dir;
  std::unique_ptr<kv::Store> rocks;
};

Fixture* fixture = nullptr;

void DropTable() {
  if (fixture == nullptr || fixture->libpq_uri.empty()) return;
  if (fixture->store) (void)fixture->store->Close();
  PGconn* c = PQconnectdb(fixture->libpq_uri.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    PQclear(PQexec(c, ("DROP TABLE IF EXISTS public.\"" + fixture->table + "\"").c_str()));
  }
  PQfinish(c);
  fixture->store.reset();
  fixture->server.reset();
  if (fixture->rocks) (void)fixture->rocks->Close();
  fixture->rocks.reset();
  fixture->rocks_dir.reset();
}

// Opens the store once for the whole run and loads the data.
Fixture& Shared() {
  static std::once_flag once;
  std::call_once(once, [] {
    fixture = new Fixture();
    const char* env = std::getenv("REFKV_BENCH_POSTGRES");
    if (env != nullptr && *env != '\0') {
      fixture->libpq_uri = env;
    } else {
      testing::PgServerOptions options;
      options.shared_buffers = "128MB";
      auto server = testing::PgServer::Create(options);
      if (!server.ok()) {
        fixture->error = server.status().ToString();
        return;
      }
      fixture->server = std::move(server).value();
      fixture->libpq_uri = fixture->server->Uri();
    }
    // REFKV_BENCH_POSTGRES_SYNC=off: both sides run with synchronous_commit=off, so the
    // write cases measure the client and the server's CPU instead of the disk's fsync.
    const char* sync = std::getenv("REFKV_BENCH_POSTGRES_SYNC");
    if (sync != nullptr && *sync != '\0') {
      fixture->libpq_uri = testing::WithParam(fixture->libpq_uri, "options",
                                              std::string("-csynchronous_commit%3D") + sync);
    }
    fixture->table = "refkv_bench_" + std::to_string(getpid());
    auto store = kv::Open(testing::WithParam(fixture->libpq_uri, "table", fixture->table) +
                          "&max_open_connections=8");
    if (!store.ok()) {
      fixture->error = store.status().ToString();
      return;
    }
    fixture->store = std::move(store).value();
    fixture->rocks_dir = std::make_unique<testing::TempDir>("bench-rocks");
    bool synced = sync == nullptr || std::string(sync) != "off";
    auto rocks = kv::Open("rocks://" + fixture->rocks_dir->Sub("db") +
                          (synced ? "?sync=true" : "?sync=false"));
    if (!rocks.ok()) {
      fixture->error = rocks.status().ToString();
      return;
    }
    fixture->rocks = std::move(rocks).value();
    kv::WriteBatch batch;
    for (int i = 0; i < kKeys; ++i) {
      batch.Put(Key(i), std::string(100, 'v'));
      if (batch.size() == 1000) {
        (void)fixture->store->Write("bench", batch);
        batch.Clear();
      }
    }
    for (int i = 0; i < kScanRows; ++i) batch.Put(Key(i), std::string(100, 's'));
    (void)fixture->store->Write("scan", batch);
    batch.Clear();
    for (int i = 0; i < kKeys; ++i) batch.Put(Key(i), std::string(100, 'v'));
    (void)fixture->rocks->Write("bench", batch);
    // At the end of the run, while RocksDB's statics (Env, thread pools) are alive.
    AtBenchEnd(DropTable);
    // Open the pool's connections outside the timed loops.
    std::vector<std::thread> warm;
    for (int t = 0; t < 4; ++t) {
      warm.emplace_back([] { (void)fixture->store->Get("bench", Key(0)); });
    }
    for (auto& w : warm) w.join();
  });
  return *fixture;
}

bool Ready(benchmark::State& state) {
  Fixture& f = Shared();
  if (!f.error.empty()) {
    state.SkipWithError(("no PostgreSQL: " + f.error).c_str());
    return false;
  }
  return true;
}

// ----------------------------------------------------------------------------------------
// Raw libpq: one connection per thread, the driver's statements.

class RawConnection {
 public:
  explicit RawConnection(const Fixture& f) {
    conn_ = PQconnectdb(f.libpq_uri.c_str());
    ok_ = PQstatus(conn_) == CONNECTION_OK;
    const std::string t = "public.\"" + f.table + "\"";
    const std::string where = " WHERE partition = $1 AND key = $2";
    ok_ = ok_ && Prepare("get", "SELECT value FROM " + t + where, 2);
    ok_ = ok_ && Prepare("set",
                         "INSERT INTO " + t + " (partition, key, value) VALUES ($1, $2, $3) " +
                             "ON CONFLICT (partition, key) DO UPDATE SET value = EXCLUDED.value",
                         3);
    ok_ = ok_ && Prepare("setif", "UPDATE " + t + " SET value = $3" + where + " AND value = $4", 4);
    ok_ = ok_ && Prepare("scan",
                         "SELECT key, value FROM " + t +
                             " WHERE partition = $1 AND key >= $2 ORDER BY key LIMIT $3",
                         3, /*last_int8=*/true);
  }
  ~RawConnection() { PQfinish(conn_); }
  bool ok() const { return ok_; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs a prepared statement with binary bytea parameters; the result, or null.
  PGresult* Exec(const char* name, std::initializer_list<std::string_view> params) {
    const char* values[4];
    int lengths[4], formats[4] = {1, 1, 1, 1};
    int n = 0;
    for (auto p : params) {
      values[n] = p.data();
      lengths[n] = static_cast<int>(p.size());
      ++n;
    }
    PGresult* r = PQexecPrepared(conn_, name, n, values, lengths, formats, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      PQclear(r);
      return nullptr;
    }
    return r;
  }

 private:
  bool Prepare(const char* name, const std::string& sql, int n, bool last_int8 = false) {
    std::vector<Oid> types(n, kBytea);
    if (last_int8) types.back() = kInt8;
    PGresult* r = PQprepare(conn_, name, sql.c_str(), n, types.data());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }

  PGconn* conn_;
  bool ok_ = false;
};

std::string BigEndian64(int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(static_cast<uint64_t>(v) >> (56 - 8 * i));
  return out;
}

void BaselineGet(benchmark::State& state) {
  if (!Ready(state)) return;
  RawConnection c(Shared());
  if (!c.ok()) return state.SkipWithError(c.error().c_str());
  std::mt19937 rng(state.thread_index());
  for (auto _ : state) {
    std::string key = Key(static_cast<int>(rng() % kKeys));
    PGresult* r = c.Exec("get", {"bench", key});
    if (r == nullptr || PQntuples(r) != 1) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BaselineSet(benchmark::State& state) {
  if (!Ready(state)) return;
  RawConnection c(Shared());
  if (!c.ok()) return state.SkipWithError(c.error().c_str());
  std::mt19937 rng(100 + state.thread_index());
  const std::string value(100, 'w');
  for (auto _ : state) {
    std::string key = Key(static_cast<int>(rng() % kKeys));
    PGresult* r = c.Exec("set", {"bench", key, value});
    if (r == nullptr) state.SkipWithError("set failed");
    PQclear(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// Each thread compares-and-sets its own key: value n -> n+1, always succeeding.
void BaselineSetIf(benchmark::State& state) {
  if (!Ready(state)) return;
  RawConnection c(Shared());
  if (!c.ok()) return state.SkipWithError(c.error().c_str());
  std::string key = "ctr-raw-" + std::to_string(state.thread_index());
  PQclear(c.Exec("set", {"setif", key, "0"}));
  int64_t n = 0;
  for (auto _ : state) {
    std::string cur = std::to_string(n), next = std::to_string(n + 1);
    PGresult* r = c.Exec("setif", {"setif", key, next, cur});
    if (r == nullptr || std::string(PQcmdTuples(r)) != "1") state.SkipWithError("setif failed");
    PQclear(r);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}

void BaselineScan(benchmark::State& state) {
  if (!Ready(state)) return;
  RawConnection c(Shared());
  if (!c.ok()) return state.SkipWithError(c.error().c_str());
  const std::string limit = BigEndian64(kScanRows + 1);
  int64_t rows = 0;
  for (auto _ : state) {
    PGresult* r = c.Exec("scan", {"scan", "", limit});
    if (r == nullptr || PQntuples(r) != kScanRows) state.SkipWithError("scan failed");
    for (int i = 0, n = PQntuples(r); i < n; ++i) benchmark::DoNotOptimize(PQgetvalue(r, i, 1));
    rows += PQntuples(r);
    PQclear(r);
  }
  state.SetItemsProcessed(rows);
}

// ----------------------------------------------------------------------------------------
// Through kv::Store.

kv::Store& Driver(benchmark::State& state, bool rocks) {
  return rocks ? *Shared().rocks : *Shared().store;
}

void Get(benchmark::State& state, bool rocks) {
  if (!Ready(state)) return;
  kv::Store& s = Driver(state, rocks);
  std::mt19937 rng(state.thread_index());
  for (auto _ : state) {
    auto v = s.Get("bench", Key(static_cast<int>(rng() % kKeys)));
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}

void Set(benchmark::State& state, bool rocks) {
  if (!Ready(state)) return;
  kv::Store& s = Driver(state, rocks);
  std::mt19937 rng(100 + state.thread_index());
  const std::string value(100, 'w');
  for (auto _ : state) {
    Status st = s.Set("bench", Key(static_cast<int>(rng() % kKeys)), value);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void SetIf(benchmark::State& state, bool rocks) {
  if (!Ready(state)) return;
  kv::Store& s = Driver(state, rocks);
  std::string key = "ctr-kv-" + std::to_string(state.thread_index());
  (void)s.Set("setif", key, "0");
  int64_t n = 0;
  for (auto _ : state) {
    Status st =
        s.SetIf("setif", key, std::to_string(n + 1), kv::Predicate::Equals(std::to_string(n)));
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}

void KvGet(benchmark::State& state) { Get(state, false); }
void KvSet(benchmark::State& state) { Set(state, false); }
void KvSetIf(benchmark::State& state) { SetIf(state, false); }
void RocksGet(benchmark::State& state) { Get(state, true); }
void RocksSet(benchmark::State& state) { Set(state, true); }
void RocksSetIf(benchmark::State& state) { SetIf(state, true); }

// A whole partition of kScanRows rows: pages of 64, 256, then the rest.
void KvScan(benchmark::State& state) {
  if (!Ready(state)) return;
  kv::Store& s = *Shared().store;
  int64_t rows = 0;
  for (auto _ : state) {
    auto it = s.Scan("scan", {});
    if (!it.ok()) state.SkipWithError(it.status().ToString().c_str());
    int n = 0;
    for (; (*it)->Valid(); (*it)->Next()) {
      benchmark::DoNotOptimize((*it)->value());
      ++n;
    }
    if (n != kScanRows) state.SkipWithError("scan returned the wrong number of rows");
    rows += n;
  }
  state.SetItemsProcessed(rows);
}

// Batched Write of kBatchRows puts; compare its items/s with kv/postgres/set.
void KvWriteBatch(benchmark::State& state) {
  if (!Ready(state)) return;
  kv::Store& s = *Shared().store;
  std::mt19937 rng(200 + state.thread_index());
  const std::string value(100, 'b');
  for (auto _ : state) {
    kv::WriteBatch batch;
    int base = static_cast<int>(rng() % (kKeys - kBatchRows));
    for (int i = 0; i < kBatchRows; ++i) batch.Put(Key(base + i), value);
    Status st = s.Write("bench", batch);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
}

// ----------------------------------------------------------------------------------------
// Paired: every iteration runs one operation through kv::Store and the same operation
// through raw libpq, alternating which goes first, timing each. On a shared, noisy machine
// both sides then see the same interference; kv_vs_libpq is the throughput ratio.

enum class Op { kGet, kSet, kSetIf };

void Paired(benchmark::State& state, Op op) {
  if (!Ready(state)) return;
  RawConnection c(Shared());
  if (!c.ok()) return state.SkipWithError(c.error().c_str());
  kv::Store& s = *Shared().store;
  std::mt19937 rng(300 + state.thread_index());
  const std::string value(100, 'p');
  const std::string kv_key = "pair-kv-" + std::to_string(state.thread_index());
  const std::string raw_key = "pair-raw-" + std::to_string(state.thread_index());
  (void)s.Set("setif", kv_key, "0");
  PQclear(c.Exec("set", {"setif", raw_key, "0"}));
  int64_t n = 0;
  double kv_s = 0, raw_s = 0;
  bool failed = false;
  auto run_kv = [&](const std::string& key, const std::string& cur, const std::string& next) {
    switch (op) {
      case Op::kGet:
        failed |= !s.Get("bench", key).ok();
        break;
      case Op::kSet:
        failed |= !s.Set("bench", key, value).ok();
        break;
      case Op::kSetIf:
        failed |= !s.SetIf("setif", kv_key, next, kv::Predicate::Equals(cur)).ok();
        break;
    }
  };
  auto run_raw = [&](const std::string& key, const std::string& cur, const std::string& next) {
    PGresult* r = nullptr;
    switch (op) {
      case Op::kGet:
        r = c.Exec("get", {"bench", key});
        failed |= r == nullptr || PQntuples(r) != 1;
        break;
      case Op::kSet:
        r = c.Exec("set", {"bench", key, value});
        failed |= r == nullptr;
        break;
      case Op::kSetIf:
        r = c.Exec("setif", {"setif", raw_key, next, cur});
        failed |= r == nullptr || std::string(PQcmdTuples(r)) != "1";
        break;
    }
    PQclear(r);
  };
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    std::string key = Key(static_cast<int>(rng() % kKeys));
    std::string cur = std::to_string(n), next = std::to_string(n + 1);
    auto t0 = Clock::now();
    if (n % 2 == 0) {
      run_kv(key, cur, next);
    } else {
      run_raw(key, cur, next);
    }
    auto t1 = Clock::now();
    if (n % 2 == 0) {
      run_raw(key, cur, next);
    } else {
      run_kv(key, cur, next);
    }
    auto t2 = Clock::now();
    double first = std::chrono::duration<double>(t1 - t0).count();
    double second = std::chrono::duration<double>(t2 - t1).count();
    (n % 2 == 0 ? kv_s : raw_s) += first;
    (n % 2 == 0 ? raw_s : kv_s) += second;
    ++n;
  }
  if (failed) state.SkipWithError("an operation failed");
  using benchmark::Counter;
  state.counters["kv_per_s"] = Counter(n / kv_s);  // summed over threads
  state.counters["libpq_per_s"] = Counter(n / raw_s);
  state.counters["kv_vs_libpq"] = Counter(raw_s / kv_s, Counter::kAvgThreads);
  state.SetItemsProcessed(2 * n);
}

void PairedGet(benchmark::State& state) { Paired(state, Op::kGet); }
void PairedSet(benchmark::State& state) { Paired(state, Op::kSet); }
void PairedSetIf(benchmark::State& state) { Paired(state, Op::kSetIf); }

// Each driver case runs right beside its baseline, at 1 then 4 threads.
const bool kRegistered = [] {
  struct Pair {
    const char* kv_name;
    void (*kv)(benchmark::State&);
    const char* base_name;
    void (*base)(benchmark::State&);
  };
  const Pair pairs[] = {
      {"kv/postgres/get", KvGet, "baseline/libpq/get", BaselineGet},
      {"kv/postgres/set", KvSet, "baseline/libpq/set", BaselineSet},
      {"kv/postgres/setif", KvSetIf, "baseline/libpq/setif", BaselineSetIf},
      {"kv/postgres/scan", KvScan, "baseline/libpq/scan", BaselineScan},
  };
  for (const Pair& p : pairs) {
    for (int threads : {1, 4}) {
      benchmark::RegisterBenchmark(p.kv_name, p.kv)->Threads(threads)->UseRealTime();
      benchmark::RegisterBenchmark(p.base_name, p.base)->Threads(threads)->UseRealTime();
    }
  }
  using Case = std::pair<const char*, void (*)(benchmark::State&)>;
  for (const Case& c : {Case{"ref/rocks/get", RocksGet}, Case{"ref/rocks/set", RocksSet},
                        Case{"ref/rocks/setif", RocksSetIf}}) {
    benchmark::RegisterBenchmark(c.first, c.second)->Threads(1)->Threads(4)->UseRealTime();
  }
  for (const Case& c : {Case{"pair/postgres_vs_libpq/get", PairedGet},
                        Case{"pair/postgres_vs_libpq/set", PairedSet},
                        Case{"pair/postgres_vs_libpq/setif", PairedSetIf}}) {
    benchmark::RegisterBenchmark(c.first, c.second)->Threads(1)->Threads(4)->UseRealTime();
  }
  benchmark::RegisterBenchmark("kv/postgres/write_batch", KvWriteBatch)
      ->Threads(1)
      ->Threads(4)
      ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace refkv::bench
