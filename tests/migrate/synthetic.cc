#include "tests/migrate/synthetic.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "engine/metadata.h"

namespace refkv::kv::migrate::testing {
namespace {

std::string Reversed(std::string_view s) { return std::string(s.rbegin(), s.rend()); }

using Emit = std::function<void(std::string_view key, std::string_view value, WriteBatch& out)>;

// Scans `src` from the context's cursor in batches, writes what `emit` makes into
// `dst` (fenced), and checkpoints after each batch.
Status Batched(StepContext& ctx, const SyntheticOptions& o, const std::string& src,
               const std::string& dst, const Emit& emit) {
  ScanOptions scan;
  if (!ctx.cursor().empty()) scan.start = ctx.cursor() + std::string(1, '\0');
  int64_t rows = ctx.rows_done();
  REFKV_ASSIGN_OR_RETURN(auto it, ctx.store().Scan(src, scan));
  for (int batch_no = 0;; ++batch_no) {
    if (o.on_batch) REFKV_RETURN_IF_ERROR(o.on_batch(ctx.step().id, batch_no));
    if (o.sleep_us_per_batch > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(o.sleep_us_per_batch));
    }
    WriteBatch batch;
    std::string last;
    int n = 0;
    for (; it->Valid() && n < o.batch; it->Next(), ++n) {
      emit(it->key(), it->value(), batch);
      last = std::string(it->key());
    }
    REFKV_RETURN_IF_ERROR(it->status());
    if (n == 0) return Status::OK();
    REFKV_RETURN_IF_ERROR(ctx.Write(dst, batch));
    rows += n;
    REFKV_RETURN_IF_ERROR(ctx.Checkpoint(last, rows));
  }
}

Result<int64_t> CountRows(Store& store, std::string_view partition) {
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(partition, {}));
  int64_t n = 0;
  for (; it->Valid(); it->Next()) ++n;
  REFKV_RETURN_IF_ERROR(it->status());
  return n;
}

std::string IndexKey(std::string_view payload, std::string_view key) {
  return std::string(payload) + std::string(1, '\0') + std::string(key);
}

}  // namespace

StepRegistry MakeRegistry(const SyntheticOptions& o) {
  StepRegistry registry(1, "");
  MigrationStep b;
  b.id = "format-b";
  b.from = 1;
  b.to = 2;
  b.description = "rewrite data from format A into data_b in format B";
  b.up = [o](StepContext& ctx) {
    return Batched(ctx, o, "data", "data_b", [](auto key, auto value, WriteBatch& out) {
      out.Put(key, "B:" + Reversed(value.substr(2)));
    });
  };
  b.down = [o](StepContext& ctx) {
    return Batched(ctx, o, "data_b", "data", [](auto key, auto value, WriteBatch& out) {
      out.Put(key, "A:" + Reversed(value.substr(2)));
    });
  };
  b.cleanup = [](StepContext& ctx) {
    return ctx.DropPartition(ctx.direction() == Direction::kUp ? "data" : "data_b");
  };
  b.estimate = [](Store& store, Direction d) -> Result<StepEstimate> {
    REFKV_ASSIGN_OR_RETURN(int64_t rows, CountRows(store, d == Direction::kUp ? "data" : "data_b"));
    return StepEstimate{rows, rows * 64};
  };
  b.fingerprint = o.format_b_fingerprint;
  Status s = registry.Add(std::move(b));
  if (!s.ok()) std::abort();

  MigrationStep index;
  index.id = "index";
  index.from = 2;
  index.to = 3;
  index.description = "add an index partition: payload -> key";
  index.up = [o](StepContext& ctx) {
    return Batched(ctx, o, "data_b", "index", [](auto key, auto value, WriteBatch& out) {
      out.Put(IndexKey(Reversed(value.substr(2)), key), key);
    });
  };
  index.down = [](StepContext& ctx) { return ctx.DropPartition("index"); };
  index.estimate = [](Store& store, Direction d) -> Result<StepEstimate> {
    // Planned before "format-b" has run: the rows come from whichever form exists.
    REFKV_ASSIGN_OR_RETURN(int64_t b_rows, CountRows(store, "data_b"));
    REFKV_ASSIGN_OR_RETURN(int64_t a_rows, CountRows(store, "data"));
    int64_t rows = std::max(a_rows, b_rows);
    return StepEstimate{d == Direction::kUp ? rows : 1, d == Direction::kUp ? rows * 32 : 0};
  };
  if (!registry.Add(std::move(index)).ok()) std::abort();

  if (o.with_seal) {
    MigrationStep seal;
    seal.id = "seal";
    seal.from = 3;
    seal.to = 4;
    seal.description = "seal the store";
    seal.irreversible_reason = "sealing cannot be undone";
    seal.min_start_version = o.seal_min_start;
    seal.up = [](StepContext& ctx) { return ctx.Set("sealed", "x", "1"); };
    if (!registry.Add(std::move(seal)).ok()) std::abort();
  }
  return registry;
}

Content Expected(int rows) {
  Content out;
  for (int i = 0; i < rows; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    std::string payload = "payload-" + std::to_string(i * 7919 % 1000) + "-" +
                          std::string(static_cast<size_t>(i % 13), static_cast<char>('a' + i % 26));
    if (i % 17 == 0) payload += "\xff\x01";
    out[key] = payload;
  }
  return out;
}

Status Populate(Store& store, int rows) {
  WriteBatch batch;
  for (const auto& [key, payload] : Expected(rows)) batch.Put(key, "A:" + payload);
  return store.Write("data", batch);
}

Result<Dump> DumpAll(Store& store, bool include_meta) {
  Dump out;
  REFKV_ASSIGN_OR_RETURN(auto partitions, store.ListPartitions());
  for (const auto& p : partitions) {
    if (!include_meta && p == kMetaPartition) continue;
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(p, {}));
    auto& m = out[p];
    for (; it->Valid(); it->Next()) m[std::string(it->key())] = std::string(it->value());
    REFKV_RETURN_IF_ERROR(it->status());
  }
  return out;
}

Result<Content> LogicalContent(Store& store) {
  REFKV_ASSIGN_OR_RETURN(StoreMetadata md, ReadMetadata(store));
  Content out;
  const bool b = md.schema_version >= 2;
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(b ? "data_b" : "data", {}));
  for (; it->Valid(); it->Next()) {
    std::string_view v = it->value();
    if (v.substr(0, 2) != (b ? "B:" : "A:")) {
      return Status::Corruption("bad format at " + Printable(it->key()) + ": " + Printable(v));
    }
    out[std::string(it->key())] = b ? Reversed(v.substr(2)) : std::string(v.substr(2));
  }
  REFKV_RETURN_IF_ERROR(it->status());
  if (md.schema_version >= 3) {
    std::map<std::string, std::string> want, have;
    for (const auto& [k, p] : out) want[IndexKey(p, k)] = k;
    REFKV_ASSIGN_OR_RETURN(auto ix, store.Scan("index", {}));
    for (; ix->Valid(); ix->Next()) have[std::string(ix->key())] = std::string(ix->value());
    REFKV_RETURN_IF_ERROR(ix->status());
    if (want != have) {
      return Status::Corruption("index has " + std::to_string(have.size()) + " entries, want " +
                                std::to_string(want.size()) + " (or different ones)");
    }
  }
  return out;
}

}  // namespace refkv::kv::migrate::testing
