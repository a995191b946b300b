#include "refstore/migrations/two_level_step.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "refstore/committed/committed.h"
#include "refstore/schema.h"

namespace refkv::refstore::migrations {
namespace {

namespace mg = kv::migrate;

constexpr size_t kDefaultBatch = 256;

// Objects per checkpoint; REFKV_REFSTORE_MIGRATE_BATCH overrides it (tests).
size_t BatchSize() {
  const char* env = std::getenv("REFKV_REFSTORE_MIGRATE_BATCH");
  const long n = env != nullptr ? std::atol(env) : 0;
  return n > 0 ? static_cast<size_t>(n) : kDefaultBatch;
}

struct Committed {
  std::unique_ptr<RangeStore> ranges;
  std::unique_ptr<CommittedManager> manager;  // borrows `ranges`: declared after it
};

Result<Committed> OpenCommitted(kv::Store& store, const std::string& partition) {
  Committed c;
  REFKV_ASSIGN_OR_RETURN(c.ranges, OpenKvRangeStore(store, partition));
  CommittedManager::Options options;
  options.sync = false;  // the runner's checkpoint follows each batch in the same store
  options.range_cache_bytes = 0;
  REFKV_ASSIGN_OR_RETURN(c.manager, CommittedManager::Create(*c.ranges, options));
  return c;
}

// A list of ids; a partition that does not exist (no ranges yet) holds none.
Result<std::vector<std::string>> OrNone(Result<std::vector<std::string>> ids) {
  if (ids.status().IsNotFound()) return std::vector<std::string>{};
  return ids;
}

// The ids of `all` after `after` (all sorted).
std::vector<std::string> After(std::vector<std::string> all, std::string_view after) {
  if (after.empty()) return all;
  auto it = std::upper_bound(all.begin(), all.end(), after,
                             [](std::string_view a, const std::string& b) { return a < b; });
  return std::vector<std::string>(it, all.end());
}

// Calls `fn` for each id after the cursor's (cursor = `tag` + "\n" + last id done; a
// cursor of another tag means this phase has not started), checkpointing every batch.
Status ForEachAfter(mg::StepContext& ctx, std::string_view tag, std::vector<std::string> ids,
                    const std::function<Status(const std::string&)>& fn) {
  std::string after;
  const std::string& cursor = ctx.cursor();
  if (cursor.size() > tag.size() && cursor.compare(0, tag.size(), tag) == 0 &&
      cursor[tag.size()] == '\n') {
    after = cursor.substr(tag.size() + 1);
  }
  std::vector<std::string> todo = After(std::move(ids), after);
  int64_t rows = ctx.rows_done();
  const size_t batch = BatchSize();
  size_t in_batch = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    REFKV_RETURN_IF_ERROR(fn(todo[i]));
    ++rows;
    if (++in_batch == batch || i + 1 == todo.size()) {
      REFKV_RETURN_IF_ERROR(ctx.Checkpoint(std::string(tag) + "\n" + todo[i], rows));
      in_batch = 0;
    }
  }
  return Status::OK();
}

Status Down(mg::StepContext& ctx, const std::string& partition) {
  REFKV_ASSIGN_OR_RETURN(Committed c, OpenCommitted(ctx.store(), partition));
  REFKV_ASSIGN_OR_RETURN(auto roots, OrNone(c.manager->ListMetaRangeRootIds()));
  ctx.SetRowsTotal(ctx.rows_done() + static_cast<int64_t>(roots.size()));
  return ForEachAfter(ctx, "flat", std::move(roots), [&](const std::string& id) {
    return c.manager->WriteFlatMetaRange(id).WithContext("writing the flat form of metarange " +
                                                         id);
  });
}

Status Cleanup(mg::StepContext& ctx, const std::string& partition) {
  // After an up, the "old form" is the flat metaranges, which older commits still use.
  if (ctx.direction() == mg::Direction::kUp) return Status::OK();
  REFKV_ASSIGN_OR_RETURN(Committed c, OpenCommitted(ctx.store(), partition));
  const bool parts_phase = ctx.cursor().rfind("parts\n", 0) == 0;
  if (!parts_phase) {
    REFKV_ASSIGN_OR_RETURN(auto roots, OrNone(c.manager->ListMetaRangeRootIds()));
    REFKV_RETURN_IF_ERROR(ForEachAfter(ctx, "roots", std::move(roots), [&](const std::string& id) {
      Status s = c.manager->DeleteMetaRangeRoot(id);
      if (s.IsNotFound()) {  // a root without its flat form (written during the down)
        REFKV_RETURN_IF_ERROR(c.manager->WriteFlatMetaRange(id));
        s = c.manager->DeleteMetaRangeRoot(id);
      }
      return s.WithContext("dropping the v2 root of metarange " + id);
    }));
    REFKV_RETURN_IF_ERROR(ctx.Checkpoint("parts\n", ctx.rows_done()));
  }
  REFKV_ASSIGN_OR_RETURN(auto parts, OrNone(c.manager->ListMetaRangePartIds()));
  return ForEachAfter(ctx, "parts", std::move(parts), [&](const std::string& id) {
    return c.manager->DeleteMetaRangePart(id).WithContext("dropping metarange part " + id);
  });
}

}  // namespace

mg::MigrationStep TwoLevelMetaRangeStep(std::string ranges_partition) {
  mg::MigrationStep s;
  s.id = "refs-two-level-metarange";
  s.from = kSchemaChildIndex;
  s.to = kSchemaTwoLevelMetaRange;
  s.description =
      "commits store their metarange as a small root plus only the parts their change "
      "touches (two-level, format v2) instead of the whole range list; up rewrites "
      "nothing, down writes the flat form of every two-level metarange beside it";
  s.up = [](mg::StepContext&) { return Status::OK(); };
  s.down = [ranges_partition](mg::StepContext& ctx) { return Down(ctx, ranges_partition); };
  s.cleanup = [ranges_partition](mg::StepContext& ctx) { return Cleanup(ctx, ranges_partition); };
  s.estimate = [ranges_partition](kv::Store& store,
                                  mg::Direction direction) -> Result<mg::StepEstimate> {
    mg::StepEstimate e;
    if (direction != mg::Direction::kDown) return e;
    REFKV_ASSIGN_OR_RETURN(Committed c, OpenCommitted(store, ranges_partition));
    REFKV_ASSIGN_OR_RETURN(auto roots, OrNone(c.manager->ListMetaRangeRootIds()));
    e.rows = static_cast<int64_t>(roots.size());
    // A flat form is ~100 bytes per range; a root does not say how many ranges its tree
    // has without reading it. Nominal: 16 KiB per root (a tree of ~160 ranges, ~160k
    // entries; v2 roots exist only for trees of more than 128 ranges).
    e.bytes = e.rows * (int64_t{16} << 10);
    return e;
  };
  s.fingerprint = "refs-two-level-metarange/1";
  return s;
}

}  // namespace refkv::refstore::migrations
