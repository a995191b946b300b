// refkv quickstart: a tour of the engine with timings, on a scratch store.
//
// Which store: the one configured by --store, REFKV_STORE or the config file when any of
// them is set; otherwise a scratch store rocks://./refkv-quickstart (so the default
// store ./refkv-data is never touched). Either way the tour writes only to partitions
// named quickstart-<run id>.*, and drops them at the end.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "base/hex.h"
#include "base/random.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/number_option.h"
#include "cli/quickstart_util.h"

namespace refkv::cli {
namespace {

constexpr std::string_view kScratchStoreUri = "rocks://./refkv-quickstart";

struct QuickstartArgs {
  size_t keys = 100000;
  size_t value_size = 100;
};

using quickstart::Clock;
using quickstart::Expect;
using quickstart::Since;

// 1234567 -> "1,234,567"
std::string Grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Duration(double seconds) {
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof(buf), "%7.1f ms", seconds * 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%7.2f s ", seconds);
  }
  return buf;
}

// One line of the report: what, how many, how long, how fast.
void Line(std::ostream& out, std::string_view what, const std::string& detail, double seconds,
          uint64_t ops = 0) {
  char buf[256];
  std::string rate =
      ops > 0 && seconds > 0 ? Grouped(static_cast<uint64_t>(ops / seconds)) + " ops/s" : "";
  std::snprintf(buf, sizeof(buf), "  %-14.*s %-42s %s  %s\n", static_cast<int>(what.size()),
                what.data(), detail.c_str(), Duration(seconds).c_str(), rate.c_str());
  out << buf;
}

std::string Key(std::string_view prefix, size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08zu", i);
  return std::string(prefix) + buf;
}

std::string Value(size_t i, size_t size) {
  std::string v = "value-" + std::to_string(i) + "-";
  while (v.size() < size) v.push_back(static_cast<char>('a' + (v.size() + i) % 26));
  v.resize(size);
  return v;
}

// Counts the entries of a scan, checking that keys come in increasing order.
Result<size_t> CountScan(kv::Store& store, std::string_view partition,
                         const kv::ScanOptions& options) {
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it, store.Scan(partition, options));
  size_t n = 0;
  std::string previous;
  for (; it->Valid(); it->Next(), ++n) {
    if (n > 0 && !(previous < it->key())) {
      return Status::Internal("quickstart: scan of '" + std::string(partition) +
                              "' returned keys out of order at '" + kv::Printable(it->key()) + "'");
    }
    previous.assign(it->key());
  }
  REFKV_RETURN_IF_ERROR(it->status());
  return n;
}

Status Tour(CliContext& ctx, const QuickstartArgs& args) {
  std::ostream& out = ctx.out();
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  std::string note;
  if (source.origin == StoreOrigin::kDefault) {
    source = {std::string(kScratchStoreUri), StoreOrigin::kDefault, "quickstart scratch store"};
    note = "a scratch store; the default store rocks://./refkv-data is not touched";
  } else {
    note = "the configured store, from " + source.description;
  }
  const std::string run_id = HexUint64(ThreadRng()(), 8);
  const std::string kv_partition = std::string("quickstart-") + run_id + ".kv";
  const std::string batch_partition = std::string("quickstart-") + run_id + ".batch";
  const size_t n = std::max<size_t>(args.keys, 10);
  const size_t n_setif = std::max<size_t>(n / 10, 1);

  out << "refkv quickstart: " << source.uri << " (" << note << ")\n"
      << "  partitions " << kv_partition << " and " << batch_partition << ", " << Grouped(n)
      << " keys of " << args.value_size << " bytes; both partitions are dropped at the end\n\n";
  out.flush();

  auto start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(kv::Store * store_ptr, ctx.OpenStore(source, Access::kWrite));
  kv::Store& store = *store_ptr;
  Line(out, "open", std::string(store.driver()) + " driver", Since(start));

  start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    REFKV_RETURN_IF_ERROR(store.Set(kv_partition, Key("user/", i), Value(i, args.value_size)));
  }
  Line(out, "set", Grouped(n) + " keys, one at a time", Since(start), n);

  start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    std::string key = Key("user/", i);
    REFKV_ASSIGN_OR_RETURN(std::string value, store.Get(kv_partition, key));
    REFKV_RETURN_IF_ERROR(Expect(value == Value(i, args.value_size),
                                 "read back a different value for '" + key + "'"));
  }
  Line(out, "get", Grouped(n) + " keys, each checked", Since(start), n);

  start = Clock::now();
  constexpr size_t kBatch = 1000;
  kv::WriteBatch batch;
  for (size_t i = 0; i < n; ++i) {
    batch.Put(Key("item/", i), Value(i, args.value_size));
    if (batch.size() == kBatch || i + 1 == n) {
      REFKV_RETURN_IF_ERROR(store.Write(batch_partition, batch));
      batch.Clear();
    }
  }
  Line(out, "write", Grouped(n) + " keys in batches of " + Grouped(kBatch), Since(start), n);

  start = Clock::now();
  REFKV_ASSIGN_OR_RETURN(size_t scanned, CountScan(store, kv_partition, {}));
  REFKV_RETURN_IF_ERROR(Expect(scanned == n, "full scan saw " + Grouped(scanned) + " keys"));
  Line(out, "scan", Grouped(scanned) + " entries, in key order", Since(start), scanned);

  start = Clock::now();
  const std::string prefix = "user/0000";
  REFKV_ASSIGN_OR_RETURN(size_t in_prefix,
                         CountScan(store, kv_partition, kv::ScanOptions::Prefix(prefix)));
  REFKV_RETURN_IF_ERROR(Expect(in_prefix == std::min<size_t>(n, 10000),
                               "prefix scan saw " + Grouped(in_prefix) + " keys"));
  Line(out, "scan prefix", "'" + prefix + "': " + Grouped(in_prefix) + " entries", Since(start),
       in_prefix);

  start = Clock::now();
  for (size_t i = 0; i < n_setif; ++i) {
    REFKV_RETURN_IF_ERROR(store.SetIf(kv_partition, Key("new/", i), "v1", kv::Predicate::Absent()));
  }
  Line(out, "setif absent", Grouped(n_setif) + " new keys: all written", Since(start), n_setif);

  start = Clock::now();
  for (size_t i = 0; i < n_setif; ++i) {
    REFKV_RETURN_IF_ERROR(
        store.SetIf(kv_partition, Key("new/", i), "v2", kv::Predicate::Equals("v1")));
  }
  Line(out, "setif equals", Grouped(n_setif) + " keys v1 -> v2: all written", Since(start),
       n_setif);

  start = Clock::now();
  size_t refused = 0;
  for (size_t i = 0; i < n_setif; ++i) {
    Status s = store.SetIf(kv_partition, Key("new/", i), "v3", kv::Predicate::Equals("v1"));
    if (s.IsPredicateFailed()) {
      ++refused;
    } else if (!s.ok()) {
      return s;
    }
  }
  REFKV_RETURN_IF_ERROR(Expect(refused == n_setif, "a stale compare-and-set was accepted"));
  REFKV_ASSIGN_OR_RETURN(std::string after, store.Get(kv_partition, Key("new/", 0)));
  REFKV_RETURN_IF_ERROR(Expect(after == "v2", "a refused compare-and-set wrote its value"));
  Line(out, "setif stale", Grouped(refused) + " refused (v1 is gone), as expected", Since(start),
       n_setif);

  start = Clock::now();
  const std::string from = Key("user/", n / 2);
  REFKV_RETURN_IF_ERROR(store.DeleteRange(kv_partition, from, "user0"));  // '0' follows '/'
  double range_seconds = Since(start);
  REFKV_ASSIGN_OR_RETURN(size_t left,
                         CountScan(store, kv_partition, kv::ScanOptions::Prefix("user/")));
  REFKV_RETURN_IF_ERROR(Expect(left == n / 2, "delete range left " + Grouped(left) + " keys"));
  Line(out, "delete range", "[" + from + ", end of user/): one call", range_seconds);

  start = Clock::now();
  REFKV_RETURN_IF_ERROR(store.DropPartition(batch_partition));
  double drop_seconds = Since(start);
  REFKV_ASSIGN_OR_RETURN(size_t dropped_left, CountScan(store, batch_partition, {}));
  REFKV_RETURN_IF_ERROR(Expect(dropped_left == 0, "a dropped partition still has keys"));
  Line(out, "drop partition", batch_partition + " (" + Grouped(n) + " keys)", drop_seconds);

  start = Clock::now();
  REFKV_RETURN_IF_ERROR(store.DropPartition(kv_partition));
  REFKV_RETURN_IF_ERROR(store.Sync());
  Line(out, "clean up", "drop " + kv_partition + ", sync", Since(start));
  REFKV_RETURN_IF_ERROR(RefStoreTour(out, store, run_id, std::min<size_t>(n, 10000),
                                     source.origin == StoreOrigin::kDefault));

  out << "\n";
  return WriteStoreInfo(ctx, source, store);
}

}  // namespace

void AddQuickstartCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<QuickstartArgs>();
  CLI::App* quickstart =
      app.add_subcommand("quickstart", "a timed tour of the engine, with a report");
  quickstart->footer(
      "Sets, gets, batch-writes and scans keys, runs compare-and-set (absent, equals, a\n"
      "stale one that must fail), deletes a range and drops a partition, timing each step.\n"
      "Store: the configured one if set (--store, REFKV_STORE, config), else the scratch\n"
      "store rocks://./refkv-quickstart. Writes only partitions quickstart-<id>.* and drops\n"
      "them at the end. Then the ref store: creates repository quickstart-<id>, stages\n"
      "entries, commits, branches, diffs, logs, and deletes the repository.");
  AddNumberOption(*quickstart, "--keys", args->keys, "how many keys (default 100000)", size_t{0},
                  size_t{100'000'000})
      ->type_name("N");
  AddNumberOption(*quickstart, "--value-size", args->value_size, "bytes per value (default 100)",
                  size_t{0}, size_t{1} << 20)
      ->type_name("B");
  ctx.SetHandler(quickstart, [args](CliContext& c) { return Tour(c, *args); });
}

}  // namespace refkv::cli
