// The ref store's migration steps (refstore/schema.h).
//
// Both up steps are one resumable walk over every commit record of every active
// repository, in (repository name, commit key) order. The cursor is
// "<repository name>\n<last commit key done>"; a batch of kBatch commits is written with
// one fenced Write into the repository's refs partition, then checkpointed. Index
// records are pure functions of immutable commit records, so a repeated batch writes
// the same bytes.
#include <cstdlib>
#include <string>

#include "migrate/migrate.h"
#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/migrations/two_level_step.h"
#include "refstore/schema.h"

namespace refkv::refstore {
namespace {

namespace mg = kv::migrate;
using internal::Decode;

constexpr size_t kDefaultBatch = 512;

// Commits per batch; REFKV_REFSTORE_MIGRATE_BATCH overrides it (tests: many checkpoints).
size_t BatchSize() {
  const char* env = std::getenv("REFKV_REFSTORE_MIGRATE_BATCH");
  const long n = env != nullptr ? std::atol(env) : 0;
  return n > 0 ? static_cast<size_t>(n) : kDefaultBatch;
}

struct Cursor {
  std::string repo;
  std::string after;  // last commit key done in `repo`
};

Cursor ParseCursor(std::string_view text) {
  Cursor c;
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return c;
  c.repo = std::string(text.substr(0, nl));
  c.after = std::string(text.substr(nl + 1));
  return c;
}

// Active repositories from `from` on (inclusive), by name, with their refs partition.
Result<std::vector<std::pair<std::string, std::string>>> Repos(kv::Store& store,
                                                               std::string_view from) {
  kv::ScanOptions opts;
  opts.start = std::string(from);
  auto it_or = store.Scan(internal::kReposPartition, opts);
  if (!it_or.ok() && it_or.status().IsNotFound()) {
    return std::vector<std::pair<std::string, std::string>>{};
  }
  REFKV_ASSIGN_OR_RETURN(auto it, std::move(it_or));
  std::vector<std::pair<std::string, std::string>> out;
  for (; it->Valid(); it->Next()) {
    pb::Repository r;
    REFKV_RETURN_IF_ERROR(Decode(
        it->value(), &r, std::string(internal::kReposPartition) + "/" + kv::Printable(it->key())));
    if (r.state() != pb::Repository::ACTIVE) continue;
    out.emplace_back(r.name(), internal::RefsPartition(r.name(), r.instance_id()));
  }
  REFKV_RETURN_IF_ERROR(it->status());
  return out;
}

// Writes the index keys of every commit for `schema`, resumably.
Status BuildIndex(mg::StepContext& ctx, int64_t schema) {
  kv::Store& store = ctx.store();
  Cursor cur = ParseCursor(ctx.cursor());
  int64_t rows = ctx.rows_done();
  const size_t kBatch = BatchSize();
  REFKV_ASSIGN_OR_RETURN(auto repos, Repos(store, cur.repo));
  for (const auto& [name, refs] : repos) {
    kv::ScanOptions opts = kv::ScanOptions::Prefix(internal::kCommitPrefix);
    if (name == cur.repo && !cur.after.empty()) opts.start = cur.after + '\0';
    opts.batch_size = kBatch;
    auto it_or = store.Scan(refs, opts);
    if (!it_or.ok() && it_or.status().IsNotFound()) continue;  // being created or deleted
    REFKV_ASSIGN_OR_RETURN(auto it, std::move(it_or));
    kv::WriteBatch batch;
    size_t commits = 0;
    std::string last;
    auto flush = [&]() -> Status {
      if (commits == 0) return Status::OK();
      REFKV_RETURN_IF_ERROR(ctx.Write(refs, batch));
      rows += static_cast<int64_t>(commits);
      REFKV_RETURN_IF_ERROR(ctx.Checkpoint(name + "\n" + last, rows));
      batch.Clear();
      commits = 0;
      return Status::OK();
    };
    for (; it->Valid(); it->Next()) {
      pb::Commit c;
      REFKV_RETURN_IF_ERROR(Decode(it->value(), &c, refs + "/" + kv::Printable(it->key())));
      kv::WriteBatch one;
      migrations::AddIndexKeys(c, schema, &one);
      // Only the keys this step adds (the earlier schema's keys exist already).
      for (const auto& op : one.ops()) {
        const bool ancestry =
            op.key.compare(0, migrations::kAncestryPrefix.size(), migrations::kAncestryPrefix) == 0;
        if ((schema == kSchemaAncestryIndex) == ancestry) batch.Put(op.key, op.value);
      }
      last = std::string(it->key());
      if (++commits == kBatch) REFKV_RETURN_IF_ERROR(flush());
    }
    REFKV_RETURN_IF_ERROR(it->status());
    REFKV_RETURN_IF_ERROR(flush());
  }
  return Status::OK();
}

// Drops every key under `prefix` in every repository's refs partition (cleanup).
Status DropIndex(mg::StepContext& ctx, std::string_view prefix) {
  Cursor cur = ParseCursor(ctx.cursor());
  int64_t rows = ctx.rows_done();
  REFKV_ASSIGN_OR_RETURN(auto repos, Repos(ctx.store(), cur.repo));
  for (const auto& [name, refs] : repos) {
    if (name == cur.repo && cur.after == "done") continue;
    Status s = ctx.DeleteRange(refs, prefix, kv::PrefixUpperBound(prefix));
    if (!s.ok() && !s.IsNotFound()) return s;
    REFKV_RETURN_IF_ERROR(ctx.Checkpoint(name + "\ndone", ++rows));
  }
  return Status::OK();
}

// The estimate must be cheap (it runs at every plan): the driver's estimate of the commit
// records of each active repository (EstimateRange over "c/" of its refs partition; RocksDB
// reads memtable statistics and table properties, no record). A driver without one: a
// count of the records, capped (kCountCap per repository; above it, the cap). Extra space:
// kIndexBytesPerCommit per commit record.
constexpr uint64_t kCountCap = 10'000;
// An index record (ancestry: ~40 bytes of key, 8 + 33 per parent of value; child: a ~70
// byte key) is written once to the WAL and once more to a table file when it is flushed,
// before the WAL is dropped; with RocksDB's per-entry overhead ~256 bytes per commit.
constexpr int64_t kIndexBytesPerCommit = 256;

Result<uint64_t> CommitRecords(kv::Store& store, const std::string& refs) {
  const std::string end = kv::PrefixUpperBound(internal::kCommitPrefix);
  auto estimate = store.EstimateRange(refs, internal::kCommitPrefix, end);
  if (estimate.ok()) return estimate->keys;
  if (!estimate.status().IsUnsupported()) return estimate.status();
  auto it_or = store.Scan(refs, kv::ScanOptions::Prefix(internal::kCommitPrefix));
  if (!it_or.ok() && it_or.status().IsNotFound()) return uint64_t{0};
  REFKV_ASSIGN_OR_RETURN(auto it, std::move(it_or));
  uint64_t n = 0;
  for (; it->Valid() && n < kCountCap; it->Next()) ++n;
  REFKV_RETURN_IF_ERROR(it->status());
  return n;
}

Result<mg::StepEstimate> Estimate(kv::Store& store, mg::Direction direction) {
  mg::StepEstimate e;
  if (direction != mg::Direction::kUp) return e;
  REFKV_ASSIGN_OR_RETURN(auto repos, Repos(store, ""));
  for (const auto& [name, refs] : repos) {
    REFKV_ASSIGN_OR_RETURN(uint64_t commits, CommitRecords(store, refs));
    e.rows += static_cast<int64_t>(commits);
  }
  e.bytes = e.rows * kIndexBytesPerCommit;
  return e;
}

}  // namespace

Status RegisterSchemaSteps(mg::StepRegistry& registry, std::string_view ranges_partition) {
  mg::MigrationStep a;
  a.id = "refs-ancestry-index";
  a.from = kSchemaOriginal;
  a.to = kSchemaAncestryIndex;
  a.description =
      "adds 'a/<commit>' ancestry records (generation and parents) beside every commit "
      "record: ancestry and merge-base queries read them in batches instead of whole "
      "commits";
  a.up = [](mg::StepContext& ctx) { return BuildIndex(ctx, kSchemaAncestryIndex); };
  // The commit records (the old form) are untouched; schema 1 code ignores 'a/'.
  a.down = [](mg::StepContext&) { return Status::OK(); };
  a.cleanup = [](mg::StepContext& ctx) {
    // After up the old form is the commit records themselves: nothing to drop.
    if (ctx.direction() == mg::Direction::kUp) return Status::OK();
    return DropIndex(ctx, migrations::kAncestryPrefix);
  };
  a.estimate = Estimate;
  a.fingerprint = "refs-ancestry-index/1";
  REFKV_RETURN_IF_ERROR(registry.Add(std::move(a)));

  mg::MigrationStep k;
  k.id = "refs-child-index";
  k.from = kSchemaAncestryIndex;
  k.to = kSchemaChildIndex;
  k.description =
      "adds 'k/<parent>/<child>' keys for every parent link: the children of a commit "
      "are one prefix scan";
  k.up = [](mg::StepContext& ctx) { return BuildIndex(ctx, kSchemaChildIndex); };
  k.down = [](mg::StepContext&) { return Status::OK(); };
  k.cleanup = [](mg::StepContext& ctx) {
    if (ctx.direction() == mg::Direction::kUp) return Status::OK();
    return DropIndex(ctx, migrations::kChildPrefix);
  };
  k.estimate = Estimate;
  k.fingerprint = "refs-child-index/1";
  REFKV_RETURN_IF_ERROR(registry.Add(std::move(k)));

  return registry.Add(migrations::TwoLevelMetaRangeStep(std::string(ranges_partition)));
}

kv::migrate::StepRegistry SchemaSteps(std::string_view ranges_partition) {
  mg::StepRegistry registry(kSchemaOriginal,
                            "no refkv release wrote a ref store older than schema 1");
  Status s = RegisterSchemaSteps(registry, ranges_partition);
  (void)s;  // cannot fail on an empty registry
  return registry;
}

}  // namespace refkv::refstore
