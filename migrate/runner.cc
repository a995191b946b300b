// The runner: executes a plan under the lease, one step at a time, checkpointed.
//
// Per step: state "migrating" (fenced CaS) -> the step function (fenced writes and
// checkpoints) -> lease check + CaS of "schema_version" (the switch) -> history record
// -> kept record -> state "ready" (fenced CaS). A crash anywhere leaves either the old
// schema with the state naming the step and its cursor (the next run resumes or
// abandons it), or the new schema with the state still naming the step (the next run
// sees the switch happened and only writes the records).
#include <chrono>

#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/lease.h"
#include "migrate/migrate.h"
#include "migrate/plan.h"
#include "migrate/preflight.h"
#include "migrate/records.h"
#include "migrate/test_seam.h"

namespace refkv::kv::migrate {
namespace {

std::string V(int64_t v) { return std::to_string(v); }

class Run {
 public:
  Run(Store& store, const StepRegistry& steps, const RunOptions& options, Lease& lease,
      const Snapshot& snap, std::string backup)
      : store_(store),
        steps_(steps),
        options_(options),
        lease_(lease),
        state_raw_(snap.state_raw),
        schema_(snap.schema),
        next_seq_(snap.next_seq),
        backup_(std::move(backup)) {}

  Store& store() { return store_; }
  Lease& lease() { return lease_; }
  const RunOptions& options() const { return options_; }

  // The fenced CaS of the state record on the value this run last wrote or read.
  Status WriteState(const MigrationState& st) {
    REFKV_RETURN_IF_ERROR(lease_.Check());
    std::string encoded = EncodeState(st);
    Status s = store_.SetIf(kMetaPartition, kStateKey, encoded,
                            state_raw_ ? Predicate::Equals(*state_raw_) : Predicate::Absent());
    if (s.IsPredicateFailed()) {
      return Status(StatusCode::kBusy,
                    "migration state record changed under this run (another process took the "
                    "lease over); this process stops without writing",
                    false);
    }
    REFKV_RETURN_IF_ERROR(s);
    state_raw_ = std::move(encoded);
    return Status::OK();
  }

  Status FencedMetaSet(const std::string& key, std::string_view value) {
    REFKV_RETURN_IF_ERROR(lease_.Check());
    return store_.Set(kMetaPartition, key, value);
  }
  Status FencedMetaDelete(const std::string& key) {
    REFKV_RETURN_IF_ERROR(lease_.Check());
    return store_.Delete(kMetaPartition, key);
  }

  MigrationState Ready() const {
    MigrationState st;
    st.epoch = lease_.epoch();
    st.holder = lease_.holder_id();
    return st;
  }

  // Drops an interrupted step that went the other way; its partial form is kept for
  // Cleanup.
  Status Abandon(const Snapshot& snap) {
    const MigrationState& st = snap.state;
    const MigrationStep* s = steps_.FindId(st.step_id);
    if (s != nullptr && s->cleanup && st.direction != Direction::kCleanup) {
      // The step's partial output is the form that is not current.
      Direction kept = st.direction == Direction::kUp ? Direction::kDown : Direction::kUp;
      REFKV_RETURN_IF_ERROR(FencedMetaSet(KeptKey(s->id), DirectionName(kept)));
    }
    return WriteState(Ready());
  }

  Result<HistoryEntry> Apply(const PlannedStep& ps, const Snapshot& snap);

 private:
  Store& store_;
  const StepRegistry& steps_;
  const RunOptions& options_;
  Lease& lease_;
  std::optional<std::string> state_raw_;
  int64_t schema_;
  int64_t next_seq_;
  std::string backup_;
};

class Context final : public StepContext {
 public:
  Context(Run& run, const MigrationStep& step, Direction direction, MigrationState& state)
      : run_(run), step_(step), direction_(direction), state_(state) {}

  Store& store() override { return run_.store(); }
  const MigrationStep& step() const override { return step_; }
  Direction direction() const override { return direction_; }
  const std::string& cursor() const override { return state_.cursor; }
  int64_t rows_done() const override { return state_.rows_done; }
  void SetRowsTotal(int64_t rows_total) override { state_.rows_total = rows_total; }

  Status Write(std::string_view partition, const WriteBatch& batch) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().Write(partition, batch);
  }
  Status Set(std::string_view partition, std::string_view key, std::string_view value) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().Set(partition, key, value);
  }
  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().SetIf(partition, key, value, predicate);
  }
  Status Delete(std::string_view partition, std::string_view key) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().Delete(partition, key);
  }
  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().DeleteRange(partition, from, to);
  }
  Status DropPartition(std::string_view partition) override {
    REFKV_RETURN_IF_ERROR(Fence(partition));
    return run_.store().DropPartition(partition);
  }
  Status PreparePartitions(const std::vector<std::string>& partitions) override {
    for (const auto& p : partitions) REFKV_RETURN_IF_ERROR(Fence(p));
    return run_.store().PreparePartitions(partitions);
  }

  Status Checkpoint(std::string_view cursor, int64_t rows_done) override {
    MigrationState next = state_;
    next.cursor = std::string(cursor);
    next.rows_done = rows_done;
    REFKV_RETURN_IF_ERROR(run_.WriteState(next));
    state_ = std::move(next);
    if (run_.options().progress) {
      Progress p;
      p.step_id = step_.id;
      p.from = step_.from;
      p.to = step_.to;
      p.direction = state_.direction;
      p.rows_done = state_.rows_done;
      p.rows_total = state_.rows_total;
      p.elapsed_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      run_.options().progress(p);
    }
    return Status::OK();
  }

 private:
  Status Fence(std::string_view partition) {
    if (partition == kMetaPartition) {
      return Status::InvalidArgument("migration step '" + step_.id + "' may not write the '" +
                                     std::string(kMetaPartition) + "' partition");
    }
    return run_.lease().Check();
  }

  Run& run_;
  const MigrationStep& step_;
  const Direction direction_;
  MigrationState& state_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

Result<HistoryEntry> Run::Apply(const PlannedStep& ps, const Snapshot& snap) {
  const MigrationStep* found = steps_.FindId(ps.id);
  if (found == nullptr) return Status::Internal("planned step '" + ps.id + "' not registered");
  const MigrationStep& s = *found;
  const Direction dir = ps.direction;
  MigrationState st;
  if (ps.resumes) {
    st = snap.state;
  } else {
    st.migrating = true;
    st.step_id = s.id;
    st.from = s.from;
    st.to = s.to;
    st.direction = dir;
    st.rows_total = ps.estimate.rows;
    st.started_ms = NowMs();
    st.seq = next_seq_++;
    st.backup = backup_;
  }
  st.epoch = lease_.epoch();
  st.holder = lease_.holder_id();
  REFKV_RETURN_IF_ERROR(WriteState(st));  // from here on, a stalled former holder is out
  if (dir == Direction::kUp) {
    // Nodes of an older code schema fence themselves at their next beat (migrate/nodes.h):
    // the step must not run before they stopped writing.
    REFKV_RETURN_IF_ERROR(WaitForOlderNodes(
        store_, s.to, [this] { return lease_.Check(); }, options_.clock));
  }

  const int64_t old_schema = dir == Direction::kDown ? s.to : s.from;
  const int64_t new_schema = dir == Direction::kDown ? s.from : s.to;
  const bool switched = dir != Direction::kCleanup && schema_ == new_schema;
  if (!switched) {
    Direction ctx_direction = dir;
    if (dir == Direction::kCleanup) {
      for (const auto& [id, d] : snap.kept) {
        if (id == s.id) ctx_direction = d;
      }
    }
    Context ctx(*this, s, ctx_direction, st);
    const StepFunction& fn = dir == Direction::kUp     ? s.up
                             : dir == Direction::kDown ? s.down
                                                       : s.cleanup;
    Status r = fn(ctx);
    if (!r.ok()) {
      if (r.IsBusy()) return r;  // the lease was lost: say only that
      return r.WithContext("migration step '" + s.id + "' (" + std::string(DirectionName(dir)) +
                           " " + V(s.from) + "->" + V(s.to) + ") failed at cursor '" +
                           Printable(st.cursor) + "' after " + V(st.rows_done) +
                           " rows; the store is still valid at schema " + V(schema_) +
                           ": rerun the migration to resume");
    }
    if (dir != Direction::kCleanup) {
      // The switch. The fence is checked just before; see migrate/migrate.h for the window.
      REFKV_RETURN_IF_ERROR(lease_.Check());
      Status sw = SetSchemaVersion(store_, old_schema, new_schema);
      if (sw.IsPredicateFailed()) {
        REFKV_ASSIGN_OR_RETURN(StoreMetadata md, ReadMetadata(store_));
        if (md.schema_version != new_schema) {
          return Status::Internal("schema_version changed to " + V(md.schema_version) +
                                  " under migration step '" + s.id + "' (expected " +
                                  V(old_schema) + ")");
        }
      } else {
        REFKV_RETURN_IF_ERROR(sw);
      }
      schema_ = new_schema;
    }
  }

  HistoryEntry e;
  e.seq = st.seq;
  e.step_id = s.id;
  e.from = s.from;
  e.to = s.to;
  e.direction = dir;
  e.code_version = std::string(CodeVersion());
  e.started_ms = st.started_ms;
  e.finished_ms = NowMs();
  e.rows = st.rows_done;
  e.backup = st.backup;
  e.fingerprint = s.Fingerprint();
  e.holder = lease_.holder_id();
  REFKV_RETURN_IF_ERROR(FencedMetaSet(HistoryKey(e.seq), EncodeHistory(e)));
  if (dir == Direction::kCleanup) {
    REFKV_RETURN_IF_ERROR(FencedMetaDelete(KeptKey(s.id)));
  } else if (s.cleanup) {
    REFKV_RETURN_IF_ERROR(FencedMetaSet(KeptKey(s.id), DirectionName(dir)));
  }
  REFKV_RETURN_IF_ERROR(WriteState(Ready()));
  return e;
}

Result<Plan> PlanFor(Store& store, const Snapshot& snap, const StepRegistry& steps,
                     Direction direction, std::optional<int64_t> to) {
  if (direction == Direction::kCleanup) return MakeCleanupPlan(store, snap, steps);
  return MakePlan(store, snap, steps, direction, to);
}

Result<RunResult> Execute(Store& store, const StepRegistry& steps, Direction direction,
                          const RunOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  RunResult result;
  REFKV_ASSIGN_OR_RETURN(result.plan, PlanFor(store, snap, steps, direction, options.to));
  auto nothing_to_do = [](const Plan& p) { return p.steps.empty() && p.abandons.empty(); };
  if (options.dry_run || nothing_to_do(result.plan)) return result;
  // A half-loaded store is finished by its load first (engine/metadata.h).
  REFKV_ASSIGN_OR_RETURN(std::optional<PendingLoad> load, ReadPendingLoad(store));
  if (load) return Status::VersionMismatch(DescribePendingLoad(*load));

  // Pre-flight and backup come before any write, the lease included; the backup thus
  // holds no lease of ours and opens as an ordinary store.
  const Plan& first = result.plan;
  bool resuming = !first.steps.empty() && first.steps.front().resumes;
  if (direction != Direction::kCleanup) {
    REFKV_RETURN_IF_ERROR(CheckNodes(store, direction, first.target, options));
    if (!options.skip_free_space_check)
      REFKV_RETURN_IF_ERROR(CheckFreeSpace(store, first, options));
    if (!options.no_backup && !first.steps.empty() && !resuming) {
      REFKV_ASSIGN_OR_RETURN(result.backup, TakeBackup(store, first, options));
    }
  }

  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                         Lease::Acquire(store, options.lease_ttl_ms, options.lock_timeout_ms,
                                        test_seam::RenewsLease(store), options.clock));
  // Under the lease the records may differ from what we planned on (another run
  // finished meanwhile): plan again.
  auto run = [&]() -> Status {
    REFKV_ASSIGN_OR_RETURN(snap, ReadSnapshot(store));
    REFKV_ASSIGN_OR_RETURN(result.plan, PlanFor(store, snap, steps, direction, options.to));
    if (nothing_to_do(result.plan)) return Status::OK();
    std::string backup = result.backup.empty() ? snap.state.backup : result.backup;
    Run r(store, steps, options, *lease, snap, backup);
    if (!result.plan.abandons.empty()) REFKV_RETURN_IF_ERROR(r.Abandon(snap));
    for (const PlannedStep& ps : result.plan.steps) {
      REFKV_ASSIGN_OR_RETURN(HistoryEntry e, r.Apply(ps, snap));
      result.applied.push_back(std::move(e));
    }
    return Status::OK();
  };
  Status s = run();
  Status released = lease->Release();
  REFKV_RETURN_IF_ERROR(s);
  (void)released;  // a lease we could not release expires by itself
  return result;
}

}  // namespace

Result<RunResult> Up(Store& store, const StepRegistry& steps, const RunOptions& options) {
  return Execute(store, steps, Direction::kUp, options);
}

Result<RunResult> Down(Store& store, const StepRegistry& steps, const RunOptions& options) {
  if (!options.to) return Status::InvalidArgument("migrate down needs a target schema (--to N)");
  return Execute(store, steps, Direction::kDown, options);
}

Result<RunResult> Cleanup(Store& store, const StepRegistry& steps, const RunOptions& options) {
  return Execute(store, steps, Direction::kCleanup, options);
}

Status Unlock(Store& store, bool force, Clock* clock) { return UnlockLease(store, force, clock); }

Status RunUnderLease(Store& store, const RunOptions& options, const std::function<Status()>& fn) {
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                         Lease::Acquire(store, options.lease_ttl_ms, options.lock_timeout_ms,
                                        test_seam::RenewsLease(store), options.clock));
  Status s = fn();
  Status released = lease->Release();
  REFKV_RETURN_IF_ERROR(s);
  (void)released;  // a lease we could not release expires by itself
  return Status::OK();
}

Status ResetAfterRestore(Store& store, int64_t schema) {
  REFKV_ASSIGN_OR_RETURN(StoreMetadata md, ReadMetadata(store));
  if (md.schema_version != schema) {
    REFKV_RETURN_IF_ERROR(SetSchemaVersion(store, md.schema_version, schema));
  }
  REFKV_ASSIGN_OR_RETURN(Snapshot snap, ReadSnapshot(store));
  for (const auto& [id, d] : snap.kept) {
    REFKV_RETURN_IF_ERROR(store.Delete(kMetaPartition, KeptKey(id)));
  }
  MigrationState ready;
  return store.Set(kMetaPartition, kStateKey, EncodeState(ready));
}

OpenOptions ToolingOpenOptions(const StepRegistry& steps) {
  OpenOptions options;
  options.code_schema_version = steps.newest();
  options.allow_older_schema = true;
  options.allow_migrating = true;
  return options;
}

Result<std::unique_ptr<Store>> OpenAndMigrate(std::string_view uri, const StepRegistry& steps,
                                              const RunOptions& options) {
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, kv::Open(uri, ToolingOpenOptions(steps)));
  auto migrated = Up(*store, steps, options);
  if (!migrated.ok()) {
    (void)store->Close();
    return migrated.status();
  }
  return store;
}

}  // namespace refkv::kv::migrate
