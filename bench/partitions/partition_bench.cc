// refkv_partition_bench: how the rocks driver's two partition mappings scale with the
// number of partitions (1, 100, 1,000, 10,000 by default).
//
// For each mapping (cf: one column family per partition; shared: one keyspace) and count N:
//   create batched   a fresh store, Store::PreparePartitions of N names
//   writes/s         --ops Sets of 16-byte keys / 100-byte values spread over the N
//                    partitions (partition chosen by a hash of the op number)
//   reads/s          --ops Gets of those keys, random order
//   drop one         DropPartition of a partition holding data, among N (median of --drops)
//   create one       the first write to a new partition among N-1 (re-creating the dropped
//                    ones; median)
//   open             kv::Open in a fresh child process (so RSS is clean), twice: the first
//                    after the parent's Close (replays the WAL), the second at rest
//   RSS              VmRSS of that child right after the second open, and before it
// and, once per mapping, creating partitions one by one through their first write from
// an empty store, with cumulative times at each N, stopped after --budget seconds; the
// rest is extrapolated from a least-squares fit of the per-create cost (a + b*n) and
// marked as such.
//
//   refkv_partition_bench [--mappings cf,shared] [--counts 1,100,1000,10000] [--ops 100000]
//                         [--budget 60] [--drops 3] [--params block_cache_mb=8] [--dir DIR]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "engine/store.h"

namespace refkv::bench {
namespace {

struct Flags {
  std::vector<std::string> mappings{"cf", "shared"};
  std::vector<size_t> counts{1, 100, 1000, 10000};
  size_t ops = 100000;
  double budget_s = 60;
  size_t drops = 3;
  std::string params = "block_cache_mb=8";
  std::string dir;  // scratch base; default MakeScratchDir
};

struct Row {
  std::string mapping;
  size_t n = 0;
  double batched_s = -1;
  double writes_per_s = -1, reads_per_s = -1;
  double writes_per_cpu_s = -1, reads_per_cpu_s = -1;  // per CPU-second of this thread
  double drop_ms = -1, create_one_ms = -1;
  double batched_cpu_s = -1, drop_cpu_ms = -1, create_one_cpu_ms = -1;  // this thread's CPU
  double first_open_s = -1, open_s = -1;
  long rss_kib = -1, base_rss_kib = -1;
  std::string note;
};

struct OneByOne {
  std::string mapping;
  std::map<size_t, double> measured_s;      // N -> cumulative seconds, measured
  std::map<size_t, double> extrapolated_s;  // N -> seconds, from the fit
  size_t reached = 0;
  double a_ms = 0, b_ms = 0;  // per-create cost fit: a + b*n milliseconds
  double last_ms = 0;         // mean of the last 10 creates measured
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "refkv_partition_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string PartitionName(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "part-%05zu", i);
  return buf;
}

std::vector<std::string> Names(size_t n) {
  std::vector<std::string> names;
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) names.push_back(PartitionName(i));
  return names;
}

std::string StoreUri(const std::string& path, const std::string& mapping, const Flags& f) {
  std::string uri = "rocks://" + path + "?partitions=" + mapping;
  if (!f.params.empty()) uri += "&" + f.params;
  return uri;
}

std::unique_ptr<kv::Store> OpenOrDie(const std::string& uri) {
  auto store = kv::Open(uri);
  if (!store.ok()) Die("open " + uri + ": " + store.status().message());
  return std::move(store).value();
}

void CheckOk(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.message());
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// --child-open URI: open, report, exit. Runs in a fresh process.
int ChildOpen(const std::string& uri) {
  long base = ReadRssKib();
  double start = NowSeconds();
  auto store = kv::Open(uri);
  double open_s = NowSeconds() - start;
  if (!store.ok()) {
    std::printf("error %s\n", store.status().message().c_str());
    return 1;
  }
  long rss = ReadRssKib();
  auto parts = (*store)->ListPartitions();
  std::printf("open_s=%.6f rss_kib=%ld base_rss_kib=%ld partitions=%zu\n", open_s, rss, base,
              parts.ok() ? parts->size() : size_t{0});
  (void)(*store)->Close();
  return 0;
}

bool RunChildOpen(const std::string& uri, double* open_s, long* rss, long* base) {
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0) Die("readlink /proc/self/exe");
  exe[len] = '\0';
  std::string cmd = std::string("'") + exe + "' --child-open '" + uri + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) Die("popen " + cmd);
  char line[1024] = {0};
  bool got = std::fgets(line, sizeof(line), p) != nullptr;
  int rc = pclose(p);
  size_t partitions = 0;
  if (!got || rc != 0 ||
      std::sscanf(line, "open_s=%lf rss_kib=%ld base_rss_kib=%ld partitions=%zu", open_s, rss, base,
                  &partitions) != 4) {
    std::fprintf(stderr, "refkv_partition_bench: child open of %s failed: %s\n", uri.c_str(), line);
    return false;
  }
  return true;
}

Row MeasureAtCount(const std::string& base, const std::string& mapping, size_t n, const Flags& f) {
  Row row;
  row.mapping = mapping;
  row.n = n;
  const std::string path = base + "/" + mapping + "-" + std::to_string(n);
  const std::string uri = StoreUri(path, mapping, f);
  std::vector<std::string> names = Names(n);
  auto store = OpenOrDie(uri);

  double t0 = NowSeconds();
  double c0 = ThreadCpuSeconds();
  CheckOk(store->PreparePartitions(names), "PreparePartitions " + std::to_string(n));
  row.batched_s = NowSeconds() - t0;
  row.batched_cpu_s = ThreadCpuSeconds() - c0;
  std::fprintf(stderr, "  %s N=%zu: batched create %.3f s\n", mapping.c_str(), n, row.batched_s);

  char key[kKeySize], value[kValueSize];
  auto partition_of = [&](uint64_t j) -> const std::string& { return names[Rng(j).Next() % n]; };
  t0 = NowSeconds();
  c0 = ThreadCpuSeconds();
  for (uint64_t j = 0; j < f.ops; ++j) {
    FillKey(j, key);
    FillValue(j, 0, value);
    CheckOk(store->Set(partition_of(j), {key, kKeySize}, {value, kValueSize}), "set");
  }
  row.writes_per_s = static_cast<double>(f.ops) / (NowSeconds() - t0);
  row.writes_per_cpu_s = static_cast<double>(f.ops) / (ThreadCpuSeconds() - c0);
  Rng rng(7);
  t0 = NowSeconds();
  c0 = ThreadCpuSeconds();
  for (uint64_t r = 0; r < f.ops; ++r) {
    uint64_t j = rng.Uniform(f.ops);
    FillKey(j, key);
    auto got = store->Get(partition_of(j), {key, kKeySize});
    if (!got.ok()) Die("get: " + got.status().message());
  }
  row.reads_per_s = static_cast<double>(f.ops) / (NowSeconds() - t0);
  row.reads_per_cpu_s = static_cast<double>(f.ops) / (ThreadCpuSeconds() - c0);
  std::fprintf(stderr, "  %s N=%zu: %.0f writes/s, %.0f reads/s (per CPU-second: %.0f, %.0f)\n",
               mapping.c_str(), n, row.writes_per_s, row.reads_per_s, row.writes_per_cpu_s,
               row.reads_per_cpu_s);

  // Drop partitions that hold data, then create them again by a first write: each is one
  // drop among N and one create among N-1.
  size_t drops = std::min(f.drops, n);
  std::vector<double> drop_ms, create_ms, drop_cpu, create_cpu;
  for (size_t d = 0; d < drops; ++d) {
    const std::string& victim = names[n - 1 - d];
    t0 = NowSeconds();
    c0 = ThreadCpuSeconds();
    CheckOk(store->DropPartition(victim), "drop " + victim);
    drop_ms.push_back((NowSeconds() - t0) * 1e3);
    drop_cpu.push_back((ThreadCpuSeconds() - c0) * 1e3);
    t0 = NowSeconds();
    c0 = ThreadCpuSeconds();
    CheckOk(store->Set(victim, "k", "v"), "re-create " + victim);
    create_ms.push_back((NowSeconds() - t0) * 1e3);
    create_cpu.push_back((ThreadCpuSeconds() - c0) * 1e3);
  }
  row.drop_ms = Median(drop_ms);
  row.create_one_ms = Median(create_ms);
  row.drop_cpu_ms = Median(drop_cpu);
  row.create_one_cpu_ms = Median(create_cpu);
  std::fprintf(stderr, "  %s N=%zu: drop %.3f ms (CPU %.3f), create one %.3f ms (CPU %.3f)\n",
               mapping.c_str(), n, row.drop_ms, row.drop_cpu_ms, row.create_one_ms,
               row.create_one_cpu_ms);

  CheckOk(store->Close(), "close");
  store.reset();
  long rss = -1, base_rss = -1;
  double open_s = -1;
  if (RunChildOpen(uri, &open_s, &rss, &base_rss)) row.first_open_s = open_s;
  if (RunChildOpen(uri, &open_s, &rss, &base_rss)) {
    row.open_s = open_s;
    row.rss_kib = rss;
    row.base_rss_kib = base_rss;
  }
  std::fprintf(stderr, "  %s N=%zu: open %.3f s (first, WAL replay %.3f s), RSS %.1f MiB\n",
               mapping.c_str(), n, row.open_s, row.first_open_s, row.rss_kib / 1024.0);
  RemoveTree(path);
  return row;
}

OneByOne MeasureOneByOne(const std::string& base, const std::string& mapping, const Flags& f) {
  OneByOne out;
  out.mapping = mapping;
  size_t max_n = *std::max_element(f.counts.begin(), f.counts.end());
  const std::string path = base + "/" + mapping + "-onebyone";
  auto store = OpenOrDie(StoreUri(path, mapping, f));
  std::vector<double> per_ms;
  double total = 0;
  for (size_t i = 0; i < max_n; ++i) {
    std::string name = PartitionName(i);
    double t0 = NowSeconds();
    CheckOk(store->Set(name, "k", "v"), "first write to " + name);
    double dt = NowSeconds() - t0;
    per_ms.push_back(dt * 1e3);
    total += dt;
    out.reached = i + 1;
    if (std::find(f.counts.begin(), f.counts.end(), i + 1) != f.counts.end()) {
      out.measured_s[i + 1] = total;
    }
    if (total > f.budget_s) break;
  }
  size_t m = per_ms.size();
  size_t tail = std::min<size_t>(10, m);
  for (size_t i = m - tail; i < m; ++i) out.last_ms += per_ms[i] / static_cast<double>(tail);
  // Least squares fit of per-create cost over the second half of the samples (the first
  // creates include warm-up effects).
  size_t from = m / 2;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, k = static_cast<double>(m - from);
  for (size_t i = from; i < m; ++i) {
    double x = static_cast<double>(i), y = per_ms[i];
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double denom = k * sxx - sx * sx;
  out.b_ms = denom > 0 ? (k * sxy - sx * sy) / denom : 0;
  if (out.b_ms < 0) out.b_ms = 0;
  out.a_ms = (sy - out.b_ms * sx) / k;
  for (size_t n : f.counts) {
    if (out.measured_s.count(n)) continue;
    // measured prefix + fitted remainder: sum_{i=reached}^{n-1} (a + b*i)
    double rest = 0;
    double cnt = static_cast<double>(n - out.reached);
    rest = out.a_ms * cnt + out.b_ms * (static_cast<double>(n - 1) * n / 2.0 -
                                        static_cast<double>(out.reached - 1) * out.reached / 2.0);
    out.extrapolated_s[n] = total + rest / 1e3;
  }
  std::fprintf(stderr,
               "  %s one-by-one: %zu creates in %.1f s (last %.3f ms each; fit %.3f + "
               "%.5f*n ms)\n",
               mapping.c_str(), out.reached, total, out.last_ms, out.a_ms, out.b_ms);
  CheckOk(store->Close(), "close");
  store.reset();
  RemoveTree(path);
  return out;
}

std::string Secs(double s) {
  char buf[64];
  if (s < 0) return "-";
  if (s < 1e-3) {
    std::snprintf(buf, sizeof(buf), "%.1f µs", s * 1e6);
  } else if (s < 1) {
    std::snprintf(buf, sizeof(buf), "%.1f ms", s * 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f s", s);
  }
  return buf;
}

std::string Rate(double r) {
  char buf[64];
  if (r < 0) return "-";
  std::snprintf(buf, sizeof(buf), "%.0fk/s", r / 1e3);
  return buf;
}

void PrintTables(const std::vector<Row>& rows, const std::vector<OneByOne>& obo) {
  std::printf(
      "| mapping | partitions | create one-by-one (total) | create batched: total (each; CPU "
      "each) | create one at N (CPU) | drop one at N (CPU) | open | first open after close | "
      "RSS after open (process before open) | writes/s spread (per CPU-s) | reads/s spread "
      "(per CPU-s) |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::string one = "-";
    for (const OneByOne& o : obo) {
      if (o.mapping != r.mapping) continue;
      if (o.measured_s.count(r.n)) {
        one = Secs(o.measured_s.at(r.n));
      } else if (o.extrapolated_s.count(r.n)) {
        one = std::string("~").append(Secs(o.extrapolated_s.at(r.n))).append(" (extrapolated)");
      }
    }
    const double n = static_cast<double>(r.n);
    char rss[96];
    std::snprintf(rss, sizeof(rss), "%.1f MiB (%.1f MiB)", r.rss_kib / 1024.0,
                  r.base_rss_kib / 1024.0);
    std::string batched =
        Secs(r.batched_s) + " (" + Secs(r.batched_s / n) + "; " + Secs(r.batched_cpu_s / n) + ")";
    std::string create = Secs(r.create_one_ms / 1e3) + " (" + Secs(r.create_one_cpu_ms / 1e3) + ")";
    std::string drop = Secs(r.drop_ms / 1e3) + " (" + Secs(r.drop_cpu_ms / 1e3) + ")";
    std::string writes = Rate(r.writes_per_s) + " (" + Rate(r.writes_per_cpu_s) + ")";
    std::string reads = Rate(r.reads_per_s) + " (" + Rate(r.reads_per_cpu_s) + ")";
    std::printf("| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.mapping.c_str(),
                r.n, one.c_str(), batched.c_str(), create.c_str(), drop.c_str(),
                Secs(r.open_s).c_str(), Secs(r.first_open_s).c_str(), rss, writes.c_str(),
                reads.c_str());
  }
  std::printf("\n");
  for (const OneByOne& o : obo) {
    std::printf(
        "one-by-one %s: measured %zu creates; last 10 averaged %.3f ms each; fit of "
        "per-create cost over the second half: %.3f + %.6f*n ms%s\n",
        o.mapping.c_str(), o.reached, o.last_ms, o.a_ms, o.b_ms,
        o.extrapolated_s.empty() ? "" : " (used for the extrapolated totals)");
  }
  for (const Row& r : rows) {
    if (r.mapping != "shared" || r.n != 10000) continue;
    bool open_ok = r.open_s >= 0 && r.open_s < 1.0;
    bool rss_ok = r.rss_kib >= 0 && r.rss_kib < 128 * 1024;
    bool create_ok = r.create_one_ms >= 0 && r.create_one_ms < 1.0;
    bool drop_ok = r.drop_ms >= 0 && r.drop_ms < 1.0;
    std::printf(
        "\nshared mapping at 10,000 partitions: open %s (< 1 s: %s), RSS %.1f MiB "
        "(< 128 MiB: %s), create one %s (< 1 ms: %s), drop one %s (< 1 ms: %s)\n",
        Secs(r.open_s).c_str(), open_ok ? "PASS" : "FAIL", r.rss_kib / 1024.0,
        rss_ok ? "PASS" : "FAIL", Secs(r.create_one_ms / 1e3).c_str(), create_ok ? "PASS" : "FAIL",
        Secs(r.drop_ms / 1e3).c_str(), drop_ok ? "PASS" : "FAIL");
  }
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--mappings") {
      f.mappings = Split(next());
    } else if (arg == "--counts") {
      f.counts.clear();
      for (const auto& c : Split(next())) f.counts.push_back(std::stoul(c));
    } else if (arg == "--ops") {
      f.ops = std::stoul(next());
    } else if (arg == "--budget") {
      f.budget_s = std::stod(next());
    } else if (arg == "--drops") {
      f.drops = std::stoul(next());
    } else if (arg == "--params") {
      f.params = next();
    } else if (arg == "--dir") {
      f.dir = next();
    } else {
      Die("unknown argument '" + arg + "' (see the comment at the top of partition_bench.cc)");
    }
  }
  if (f.counts.empty() || f.mappings.empty()) Die("nothing to measure");
  for (size_t n : f.counts) {
    if (n == 0) Die("--counts: 0 partitions");
  }
  if (f.ops == 0) Die("--ops must be > 0");
  return f;
}

int Main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--child-open") == 0) return ChildOpen(argv[2]);
  Flags f = ParseFlags(argc, argv);
  std::string base = f.dir.empty() ? MakeScratchDir("partitions") : f.dir;
  std::vector<Row> rows;
  std::vector<OneByOne> obo;
  for (const std::string& mapping : f.mappings) {
    std::fprintf(stderr, "refkv_partition_bench: mapping %s\n", mapping.c_str());
    obo.push_back(MeasureOneByOne(base, mapping, f));
    for (size_t n : f.counts) rows.push_back(MeasureAtCount(base, mapping, n, f));
  }
  if (f.dir.empty()) RemoveTree(base);
  PrintTables(rows, obo);
  return 0;
}

}  // namespace
}  // namespace refkv::bench

int main(int argc, char** argv) { return refkv::bench::Main(argc, argv); }
