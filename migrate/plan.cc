// The step registry, the snapshot of the migration records, and planning.
#include "migrate/plan.h"

#include <algorithm>
#include <cstdio>

#include "base/hex.h"
#include "engine/metadata.h"
#include "migrate/lease.h"
#include "migrate/records.h"

namespace refkv::kv::migrate {
namespace {

std::string V(int64_t v) { return std::to_string(v); }

Result<std::vector<std::pair<std::string, std::string>>> ScanPrefix(Store& store,
                                                                    std::string_view prefix) {
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(kMetaPartition, ScanOptions::Prefix(prefix)));
  std::vector<std::pair<std::string, std::string>> out;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  REFKV_RETURN_IF_ERROR(it->status());
  return out;
}

// The latest history entry per (from, to) in up/down direction.
std::vector<const HistoryEntry*> LatestApplications(const std::vector<HistoryEntry>& history) {
  std::vector<const HistoryEntry*> out;
  for (const auto& e : history) {
    if (e.direction == Direction::kCleanup) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const HistoryEntry* o) { return o->from == e.from; });
    if (it == out.end()) {
      out.push_back(&e);
    } else {
      *it = &e;
    }
  }
  return out;
}

Status CheckFingerprints(const Snapshot& snap, const StepRegistry& steps) {
  for (const HistoryEntry* e : LatestApplications(snap.history)) {
    if (e->direction != Direction::kUp) continue;  // undone: its effect is gone
    const MigrationStep* s = steps.StepFrom(e->from);
    if (s == nullptr) continue;  // below oldest_upgradable: checked separately
    std::string fp = s->Fingerprint();
    if (s->id != e->step_id || fp != e->fingerprint) {
      return Status::VersionMismatch(
          "migration step '" + s->id + "' (" + V(s->from) + "->" + V(s->to) +
          ") of this refkv differs from the step applied to this store (history #" + V(e->seq) +
          ": step '" + e->step_id + "', fingerprint " + e->fingerprint + ", applied by refkv " +
          e->code_version + "; this binary: fingerprint " + fp +
          "): refusing to migrate; use the refkv release that applied it");
    }
  }
  return Status::OK();
}

Status CheckKnownSchema(const Snapshot& snap, const StepRegistry& steps) {
  if (snap.schema > steps.newest()) {
    return Status::VersionMismatch(
        "store schema " + V(snap.schema) + " is newer than this refkv (" +
        std::string(CodeVersion()) + ") knows (newest " + V(steps.newest()) +
        "); last written by refkv " + snap.writer_version + ": use that release or newer");
  }
  if (snap.schema < steps.oldest_upgradable()) {
    std::string advice = steps.too_old_advice();
    if (advice.empty()) {
      advice = "first run 'refkv migrate up' with an older refkv release that knows schema " +
               V(snap.schema) +
               ", or export the store with that release and import it with this one";
    }
    return Status::VersionMismatch("store schema " + V(snap.schema) +
                                   " is older than the oldest schema this refkv (" +
                                   std::string(CodeVersion()) + ") upgrades from (" +
                                   V(steps.oldest_upgradable()) + "): " + advice);
  }
  return Status::OK();
}

PlannedStep Planned(const MigrationStep& s, Direction d) {
  PlannedStep p;
  p.id = s.id;
  p.from = s.from;
  p.to = s.to;
  p.direction = d;
  p.description = s.description;
  if (!s.down)
    p.irreversible_reason = s.irreversible_reason.empty() ? "irreversible" : s.irreversible_reason;
  return p;
}

Status Estimate(Store& store, const MigrationStep& s, PlannedStep& p, Plan& plan) {
  if (s.estimate) {
    auto e = s.estimate(store, p.direction);
    if (!e.ok()) return e.status().WithContext("estimate of migration step '" + s.id + "'");
    p.estimate = *e;
  }
  plan.total.rows += p.estimate.rows;
  plan.total.bytes += p.estimate.bytes;
  return Status::OK();
}

// True if the step recorded in `state` has already switched the schema.
bool Switched(const MigrationState& st, int64_t schema) {
  return (st.direction == Direction::kUp && schema == st.to) ||
         (st.direction == Direction::kDown && schema == st.from);
}

}  // namespace

// ---- StepRegistry ----

std::string MigrationStep::Fingerprint() const {
  if (!fingerprint.empty()) return fingerprint;
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  std::string text = id + "\n" + V(from) + "\n" + V(to) + "\n" + description;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return "fnv:" + HexUint64(h);
}

StepRegistry::StepRegistry(int64_t base_schema, std::string too_old_advice)
    : base_schema_(base_schema), too_old_advice_(std::move(too_old_advice)) {}

Status StepRegistry::Add(MigrationStep step) {
  std::string name = "migration step '" + step.id + "'";
  if (step.id.empty()) return Status::InvalidArgument("migration step without an id");
  if (!step.up) return Status::InvalidArgument(name + " has no up function");
  if (step.to != step.from + 1 || step.from < 0) {
    return Status::InvalidArgument(name + ": to must be from + 1 (" + V(step.from) + "->" +
                                   V(step.to) + ")");
  }
  if (step.min_start_version > step.from) {
    return Status::InvalidArgument(name + ": min_start_version " + V(step.min_start_version) +
                                   " is above its from " + V(step.from));
  }
  for (const auto& s : steps_) {
    if (s.id == step.id) return Status::InvalidArgument(name + " registered twice");
    if (s.from == step.from) {
      return Status::InvalidArgument(name + " and '" + s.id + "' both start at " + V(s.from));
    }
  }
  if (!steps_.empty() && step.from != steps_.back().to && step.to != steps_.front().from) {
    // Keep the chain contiguous whatever the order of registration.
    bool fits = false;
    for (const auto& s : steps_) fits |= (s.to == step.from || s.from == step.to);
    if (!fits) {
      return Status::InvalidArgument(name + " (" + V(step.from) + "->" + V(step.to) +
                                     ") leaves a gap in the chain " + V(oldest_upgradable()) +
                                     ".." + V(newest()));
    }
  }
  steps_.push_back(std::move(step));
  std::sort(steps_.begin(), steps_.end(),
            [](const MigrationStep& a, const MigrationStep& b) { return a.from < b.from; });
  return Status::OK();
}

int64_t StepRegistry::newest() const { return steps_.empty() ? base_schema_ : steps_.back().to; }
int64_t StepRegistry::oldest_upgradable() const {
  return steps_.empty() ? base_schema_ : steps_.front().from;
}
const MigrationStep* StepRegistry::StepFrom(int64_t from) const {
  for (const auto& s : steps_) {
    if (s.from == from) return &s;
  }
  return nullptr;
}
const MigrationStep* StepRegistry::FindId(std::string_view id) const {
  for (const auto& s : steps_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

// ---- Snapshot ----

Result<Snapshot> ReadSnapshot(Store& store) {
  Snapshot snap;
  REFKV_ASSIGN_OR_RETURN(StoreMetadata md, ReadMetadata(store));
  snap.schema = md.schema_version;
  snap.writer_version = md.writer_version;
  auto raw = store.Get(kMetaPartition, kStateKey);
  if (!raw.ok() && !raw.status().IsNotFound()) return raw.status();
  if (raw.ok()) {
    REFKV_ASSIGN_OR_RETURN(snap.state, DecodeState(*raw));
    snap.state_raw = std::move(raw).value();
  }
  REFKV_ASSIGN_OR_RETURN(auto history, ScanPrefix(store, kHistoryPrefix));
  for (const auto& [key, value] : history) {
    REFKV_ASSIGN_OR_RETURN(HistoryEntry e, DecodeHistory(value));
    snap.next_seq = std::max(snap.next_seq, e.seq + 1);
    snap.history.push_back(std::move(e));
  }
  if (snap.state.migrating) snap.next_seq = std::max(snap.next_seq, snap.state.seq + 1);
  REFKV_ASSIGN_OR_RETURN(auto kept, ScanPrefix(store, kKeptPrefix));
  for (const auto& [key, value] : kept) {
    REFKV_ASSIGN_OR_RETURN(Direction d, ParseDirection(value));
    snap.kept.emplace_back(key.substr(kKeptPrefix.size()), d);
  }
  return snap;
}

// ---- Planning ----

Result<Plan> MakePlan(Store& store, const Snapshot& snap, const StepRegistry& steps,
                      Direction direction, std::optional<int64_t> to) {
  REFKV_RETURN_IF_ERROR(CheckKnownSchema(snap, steps));
  REFKV_RETURN_IF_ERROR(CheckFingerprints(snap, steps));
  const bool up = direction == Direction::kUp;
  Plan plan;
  plan.store_schema = snap.schema;
  plan.target = to.value_or(steps.newest());
  if (plan.target > steps.newest() || plan.target < steps.oldest_upgradable()) {
    return Status::VersionMismatch("target schema " + V(plan.target) +
                                   " is unknown to this refkv (" + std::string(CodeVersion()) +
                                   "), which knows " + V(steps.oldest_upgradable()) + ".." +
                                   V(steps.newest()));
  }
  int64_t schema = snap.schema;
  // An interrupted step: finish it if it already switched the schema or if it goes our
  // way; otherwise abandon it (free: the store is valid at its schema).
  const MigrationState& st = snap.state;
  std::optional<PlannedStep> resume;
  if (st.migrating) {
    const MigrationStep* s = steps.FindId(st.step_id);
    if (s == nullptr && st.direction != Direction::kCleanup) {
      return Status::VersionMismatch("store is mid-migration in step '" + st.step_id +
                                     "', which this refkv (" + std::string(CodeVersion()) +
                                     ") does not know: finish it with the release that started it");
    }
    bool switched = st.direction != Direction::kCleanup && Switched(st, schema);
    bool ours = st.direction == direction && (up ? st.from == schema && plan.target >= st.to
                                                 : st.to == schema && plan.target <= st.from);
    if (switched || ours) {
      PlannedStep p = Planned(*s, st.direction);
      p.resumes = true;
      p.cursor = st.cursor;
      p.rows_done = st.rows_done;
      p.estimate.rows = st.rows_total;
      resume = p;
      if (switched) schema = st.direction == Direction::kUp ? st.to : st.from;
    } else {
      plan.abandons = st.ToString();
    }
  }
  if (up && plan.target < schema) {
    return Status::InvalidArgument("store schema " + V(schema) + " is above the target " +
                                   V(plan.target) + ": use 'refkv migrate down --to " +
                                   V(plan.target) + "'");
  }
  if (!up && plan.target > schema) {
    return Status::InvalidArgument("store schema " + V(schema) + " is below the target " +
                                   V(plan.target) + ": use 'refkv migrate up --to " +
                                   V(plan.target) + "'");
  }
  if (resume) {
    plan.total.rows += resume->estimate.rows;
    plan.steps.push_back(*resume);
  }
  if (up) {
    const int64_t start = snap.schema;
    for (int64_t v = schema; v < plan.target; ++v) {
      if (resume && resume->direction == Direction::kUp && resume->from == v) continue;
      const MigrationStep* s = steps.StepFrom(v);
      if (s == nullptr) return Status::Internal("no migration step from schema " + V(v));
      if (s->min_start_version > start) {
        std::string path;
        int64_t cur = start;
        for (int64_t w = start; w < plan.target; ++w) {
          const MigrationStep* t = steps.StepFrom(w);
          if (t != nullptr && t->min_start_version > cur) {
            path += "'refkv migrate up --to " + V(t->min_start_version) + "', then ";
            cur = t->min_start_version;
          }
        }
        path += "'refkv migrate up --to " + V(plan.target) + "'";
        return Status::VersionMismatch("migration step '" + s->id + "' (" + V(s->from) + "->" +
                                       V(s->to) + ") must start from schema " +
                                       V(s->min_start_version) +
                                       " or newer, and this run would start at " + V(start) +
                                       ": migrate in stages, one run each: " + path);
      }
      PlannedStep p = Planned(*s, Direction::kUp);
      REFKV_RETURN_IF_ERROR(Estimate(store, *s, p, plan));
      plan.steps.push_back(std::move(p));
    }
  } else {
    for (int64_t v = schema; v > plan.target; --v) {
      if (resume && resume->direction == Direction::kDown && resume->to == v) continue;
      const MigrationStep* s = steps.StepFrom(v - 1);
      if (s == nullptr) return Status::Internal("no migration step to schema " + V(v));
      if (!s->down) {
        return Status::Unsupported(
            "migration step '" + s->id + "' (" + V(s->from) + "->" + V(s->to) +
            ") is irreversible: " +
            (s->irreversible_reason.empty() ? "no down step" : s->irreversible_reason) +
            "; this store cannot go below schema " + V(v) +
            " (restore the backup taken before that step instead; 'refkv migrate status' lists "
            "it)");
      }
      PlannedStep p = Planned(*s, Direction::kDown);
      REFKV_RETURN_IF_ERROR(Estimate(store, *s, p, plan));
      plan.steps.push_back(std::move(p));
    }
  }
  return plan;
}

Result<Plan> MakeCleanupPlan(Store& store, const Snapshot& snap, const StepRegistry& steps) {
  REFKV_RETURN_IF_ERROR(CheckKnownSchema(snap, steps));
  REFKV_RETURN_IF_ERROR(CheckFingerprints(snap, steps));
  const MigrationState& st = snap.state;
  if (st.migrating && st.direction != Direction::kCleanup) {
    return Status::VersionMismatch("store is mid-migration (" + st.ToString() +
                                   "): finish it with 'refkv migrate up' (or down) before cleanup");
  }
  Plan plan;
  plan.store_schema = plan.target = snap.schema;
  for (const auto& [id, applied] : snap.kept) {
    const MigrationStep* s = steps.FindId(id);
    if (s == nullptr || !s->cleanup) continue;  // nothing this binary can drop
    PlannedStep p = Planned(*s, Direction::kCleanup);
    if (st.migrating && st.step_id == id) {
      p.resumes = true;
      p.cursor = st.cursor;
      p.rows_done = st.rows_done;
    }
    plan.steps.push_back(std::move(p));
  }
  return plan;
}

// ---- Public reads ----

Result<VersionInfo> Version(Store& store, const StepRegistry& steps) {
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  VersionInfo v;
  v.store_schema = snap.schema;
  v.code_schema = steps.newest();
  v.oldest_upgradable_schema = steps.oldest_upgradable();
  v.state = snap.state;
  v.state_name = snap.state.migrating ? "migrating" : "ready";
  return v;
}

Result<StatusInfo> GetStatus(Store& store, const StepRegistry& steps, Clock* clock) {
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  StatusInfo info;
  REFKV_ASSIGN_OR_RETURN(info.version, Version(store, steps));
  info.history = std::move(snap.history);
  REFKV_ASSIGN_OR_RETURN(info.lease, ReadLease(store));
  for (const auto& [id, d] : snap.kept) info.kept.push_back(id);
  REFKV_ASSIGN_OR_RETURN(info.nodes, ListLiveNodes(store, clock));
  return info;
}

Result<Plan> PlanUp(Store& store, const StepRegistry& steps, std::optional<int64_t> to) {
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  return MakePlan(store, snap, steps, Direction::kUp, to);
}

Result<Plan> PlanDown(Store& store, const StepRegistry& steps, int64_t to) {
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  return MakePlan(store, snap, steps, Direction::kDown, to);
}

}  // namespace refkv::kv::migrate
