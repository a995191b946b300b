// Schema migrations: a registry of steps, and a runner that moves a store's schema
// version up or down one step at a time, resumably, under a fenced lease.
//
// The runner knows nothing about what the steps do (the ref store registers its own);
// it owns the bookkeeping in kMetaPartition (engine/metadata.h):
//   "schema_version"        the store's schema (switched with one CaS per step)
//   "migration/state"       "ready", or the running step, its direction, cursor, rows
//                           done / total, and the lease epoch of the run that wrote it
//   "migration/history/N"   one record per applied step (and per cleanup), in order
//   "migration/lease"       holder id, host, pid, epoch, expiry, ttl
//   "migration/kept/ID"     a step whose old form (after up) or new form (after down)
//                           is still stored, until Cleanup drops it
//
// A step's contract (what makes every run resumable and every crash harmless):
//   - It writes the new form *beside* the old one and never destroys the old form:
//     the step becomes visible only when the runner switches "schema_version" (one CaS)
//     after the step function returned OK. Until then the store is fully valid at
//     `from`, so an interrupted step can be resumed from its cursor or abandoned for free.
//   - It works in batches, writes through the StepContext (fenced writes) and calls
//     ctx.Checkpoint(cursor, rows_done) after each batch; a rerun starts at ctx.cursor().
//   - Writes are idempotent and deterministic (the same input gives the same bytes), so
//     a batch repeated after a crash, or written late by a fenced-out holder (see
//     StepContext), is harmless.
//   - `cleanup` drops the form that is no longer current (the old one after up, the new
//     one after down); it runs only from Cleanup(), never implicitly.
//
// Fencing: every state write and every fenced data write first checks that this run
// still holds the lease (its holder id and epoch are the current lease record and the
// lease has not expired by the local clock); the state record itself is only ever
// changed by a CaS on the value this run last wrote. A holder that stalled past its
// lease (SIGSTOP, a GC pause) and was taken over is refused with Busy on its next
// checkpoint or write. The remaining window (one round trip): a write already past its
// check when the lease is taken over lands late. For a data write, idempotent steps
// make that harmless. For the schema switch it matters only if the stalled holder
// sleeps exactly there longer than its lease while another run finishes the same step
// *and* takes it back down: the late CaS would then succeed. Renewal every ttl/4 and
// the local-expiry check right before the switch make that stall the only way in.
//
// Nodes (shared stores, migrate/nodes.h): Up and Down refuse before any write while a live
// node of an older (Down: newer) code schema than the target writes the store, unless
// RunOptions::ignore_nodes; and before each up step runs, the runner waits until every
// live node older than the step's target has recorded its fence or expired.
//
// Thread-safety: the functions may be called from any number of threads and processes
// on one store; the lease serialises the runs. A StepRegistry is immutable once built.
#ifndef REFKV_MIGRATE_MIGRATE_H_
#define REFKV_MIGRATE_MIGRATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/status.h"
#include "engine/open.h"
#include "engine/store.h"
#include "migrate/nodes.h"

namespace refkv::kv::migrate {

enum class Direction { kUp, kDown, kCleanup };
std::string_view DirectionName(Direction d);  // "up", "down", "cleanup"

struct MigrationStep;

// What the runner hands a step. Not thread-safe: one step, one thread.
class StepContext {
 public:
  virtual ~StepContext() = default;

  // The store, for reads (writes through it bypass fencing; use the methods below).
  virtual Store& store() = 0;
  virtual const MigrationStep& step() const = 0;
  // kUp, kDown, or for a cleanup function the direction the step was last applied in.
  virtual Direction direction() const = 0;
  // Where a rerun resumes: the last checkpointed cursor; "" the first time.
  virtual const std::string& cursor() const = 0;
  virtual int64_t rows_done() const = 0;
  // Refines the total shown in progress (initially the step's estimate).
  virtual void SetRowsTotal(int64_t rows_total) = 0;

  // Fenced writes: Busy (nothing written) if this run no longer holds the lease;
  // otherwise the store's own result. Each costs one extra Get of the lease record:
  // write in batches. Writing kMetaPartition is InvalidArgument.
  virtual Status Write(std::string_view partition, const WriteBatch& batch) = 0;
  virtual Status Set(std::string_view partition, std::string_view key, std::string_view value) = 0;
  virtual Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
                       const Predicate& predicate) = 0;
  virtual Status Delete(std::string_view partition, std::string_view key) = 0;
  virtual Status DeleteRange(std::string_view partition, std::string_view from,
                             std::string_view to) = 0;
  virtual Status DropPartition(std::string_view partition) = 0;
  virtual Status PreparePartitions(const std::vector<std::string>& partitions) = 0;

  // Records progress: a rerun resumes at `cursor` with `rows_done`. A CaS of the state
  // record conditional on this run's lease epoch. Busy if the lease was lost; the step
  // must return that Status. Calls the progress callback.
  virtual Status Checkpoint(std::string_view cursor, int64_t rows_done) = 0;
};

using StepFunction = std::function<Status(StepContext& ctx)>;

struct StepEstimate {
  int64_t rows = 0;   // rows the step reads or writes
  int64_t bytes = 0;  // extra space it needs on the store's file system
};

struct MigrationStep {
  std::string id;  // stable, unique: "refs-parent-index"
  int64_t from = 0;
  int64_t to = 0;  // must be from + 1
  std::string description;
  StepFunction up;    // required
  StepFunction down;  // empty: irreversible, and irreversible_reason says why
  std::string irreversible_reason;
  StepFunction cleanup;  // optional: drops the form that is no longer current
  // Optional: the work the step will do on this store (for plan, progress, free space).
  // Keep it cheap (a counter, a sample): it runs at every plan, twice per run. Steps
  // after the first see the store before the earlier ones ran.
  std::function<Result<StepEstimate>(Store& store, Direction direction)> estimate;
  // Optional: a run must start at schema >= this to pass through the step (a store at
  // an older schema migrates to it first, in a separate run). 0: no constraint.
  int64_t min_start_version = 0;
  // Recorded in the history; a binary whose step differs refuses to migrate. Bump it
  // whenever the step's behaviour changes. Empty: a hash of id, from, to, description.
  std::string fingerprint;

  std::string Fingerprint() const;  // the effective fingerprint
};

// The steps this binary knows: a chain from oldest_upgradable() to newest().
class StepRegistry {
 public:
  // `base_schema`: the schema of a store with no steps (kInitialSchemaVersion).
  // `too_old_advice`: what a user with a store older than oldest_upgradable() must do
  // ("run refkv 0.3 'migrate up' first, or export with it and import with this one").
  explicit StepRegistry(int64_t base_schema = 1, std::string too_old_advice = {});

  // InvalidArgument: no id or up, to != from + 1, a duplicate id or from, or a gap.
  Status Add(MigrationStep step);

  int64_t newest() const;                             // the highest `to`, or base_schema
  int64_t oldest_upgradable() const;                  // the lowest `from`, or base_schema
  const MigrationStep* StepFrom(int64_t from) const;  // nullptr if none
  const MigrationStep* FindId(std::string_view id) const;
  const std::vector<MigrationStep>& steps() const { return steps_; }  // by from
  const std::string& too_old_advice() const { return too_old_advice_; }

 private:
  int64_t base_schema_;
  std::string too_old_advice_;
  std::vector<MigrationStep> steps_;
};

// One applied step (or cleanup), as recorded in "migration/history/N".
struct HistoryEntry {
  int64_t seq = 0;
  std::string step_id;
  int64_t from = 0, to = 0;
  Direction direction = Direction::kUp;
  std::string code_version;
  int64_t started_ms = 0, finished_ms = 0;  // unix milliseconds
  int64_t rows = 0;
  std::string backup;  // where the backup taken before the run is; "" none
  std::string fingerprint;
  std::string holder;  // lease holder id of the run
};

// The lease, as recorded in "migration/lease".
struct LeaseInfo {
  std::string holder_id;  // empty: released
  std::string host;
  int64_t pid = 0;
  int64_t epoch = 0;
  int64_t expiry_ms = 0;  // unix milliseconds
  int64_t ttl_ms = 0;
  std::string code_version;
  bool held(int64_t now_ms) const { return !holder_id.empty() && now_ms < expiry_ms; }
  std::string ToString() const;  // "holder H (host X, pid P), epoch E, expires ..."
};

// The state record. A store without one is ready.
struct MigrationState {
  bool migrating = false;
  std::string step_id;
  int64_t from = 0, to = 0;
  Direction direction = Direction::kUp;
  std::string cursor;
  int64_t rows_done = 0, rows_total = 0;
  int64_t epoch = 0;
  std::string holder;
  int64_t started_ms = 0;
  int64_t seq = 0;  // the history record this step will write
  std::string backup;
  std::string ToString() const;  // "ready" / "migrating up 1->2 (step X, 40/100 rows)"
};

struct VersionInfo {
  int64_t store_schema = 0;
  int64_t code_schema = 0;
  int64_t oldest_upgradable_schema = 0;
  MigrationState state;
  std::string state_name;  // "ready" or "migrating"
};

struct StatusInfo {
  VersionInfo version;
  std::vector<HistoryEntry> history;  // oldest first
  std::optional<LeaseInfo> lease;     // the lease record, if any (it may be released)
  std::vector<std::string> kept;      // step ids whose other form awaits Cleanup
  std::vector<NodeInfo> nodes;        // live node records (migrate/nodes.h), fenced included
};

struct PlannedStep {
  std::string id;
  int64_t from = 0, to = 0;
  Direction direction = Direction::kUp;
  std::string description;
  StepEstimate estimate;
  bool resumes = false;  // continues an interrupted run of this step
  std::string cursor;    // where it resumes
  int64_t rows_done = 0;
  std::string irreversible_reason;  // non-empty: `down` of this step is impossible
};

struct Plan {
  int64_t store_schema = 0;
  int64_t target = 0;
  // An interrupted step in the other direction that the run abandons (free: the store
  // is valid at its current schema) before the steps; "" none.
  std::string abandons;
  std::vector<PlannedStep> steps;  // exactly what a real run records in the history
  StepEstimate total;
};

struct Progress {
  std::string step_id;
  int64_t from = 0, to = 0;
  Direction direction = Direction::kUp;
  int64_t rows_done = 0, rows_total = 0;
  double elapsed_seconds = 0;  // since this run started the step
};

struct RunOptions {
  // Up: the newest schema when unset. Down: required.
  std::optional<int64_t> to;
  // Plan, check and report; write nothing (not even the lease).
  bool dry_run = false;
  int64_t lease_ttl_ms = 30'000;     // recorded in the lease
  int64_t lock_timeout_ms = 60'000;  // how long to wait for another holder
  // The time of the lease, its renewals and waits, and of node liveness (must outlive the
  // run). nullptr: the system clock; tests pass a ManualClock.
  Clock* clock = nullptr;
  // Called at every checkpoint, from the running thread.
  std::function<void(const Progress&)> progress;
  // The backup before the first step. Returns where it is (recorded in the history).
  // Empty: the module chooses - store.Checkpoint(backup_dir) for a store with files
  // (rocks; default dir: "<store path>.backup-s<N>-<time>"), else a dump
  // (migrate/backup.h DumpBackup into backup_dir, default the working directory).
  std::function<Result<std::string>(Store& store, const Plan& plan)> backup;
  std::string backup_dir;
  bool no_backup = false;
  // Free bytes available to the store. Empty: statvfs of the store's "path" property
  // (drivers without one skip the check).
  std::function<Result<int64_t>(Store& store)> free_space;
  bool skip_free_space_check = false;
  // Free bytes to keep beyond what the plan needs (the check refuses if free < need +
  // reserve_bytes).
  int64_t reserve_bytes = 0;
  // Up refuses while a live, unfenced node's code schema is older than the target, Down
  // while one is newer (migrate/nodes.h); true skips that refusal. Either way, before
  // each up step runs, the runner waits (at most one node ttl) until every live node
  // older than the step's target has recorded its fence or expired.
  bool ignore_nodes = false;
};

struct RunResult {
  Plan plan;                          // what was (or, dry run, would be) done
  std::vector<HistoryEntry> applied;  // the history records written by this run
  std::string backup;                 // "" if none was taken
};

// Reads; no lease. Corruption if a record is malformed.
Result<VersionInfo> Version(Store& store, const StepRegistry& steps);
// `clock` judges which nodes are live (nullptr: the system clock).
Result<StatusInfo> GetStatus(Store& store, const StepRegistry& steps, Clock* clock = nullptr);

// The steps Up/Down to `to` would run, or the reason they would refuse:
// VersionMismatch - the store's schema is newer than this code (name both versions) or
//   older than oldest_upgradable (with too_old_advice); a step's fingerprint differs
//   from the history's (naming the step); a step's min_start_version forbids the jump
//   (the stepping-stone path spelled out); `to` outside the known schemas.
// InvalidArgument - Up to a lower or Down to a higher schema.
// Unsupported - Down through an irreversible step (its reason).
Result<Plan> PlanUp(Store& store, const StepRegistry& steps, std::optional<int64_t> to);
Result<Plan> PlanDown(Store& store, const StepRegistry& steps, int64_t to);

// Runs the plan under the lease: pre-flight (free space), backup (unless no_backup or
// resuming), then each step, checkpointed; finishes or abandons an interrupted step
// first. A store already at the target writes nothing. Errors: those of Plan;
// VersionMismatch - the store holds an unfinished load (engine/metadata.h: finish it
// first; the message names the command), before any write; Busy -
// the lease is held by another (naming it) after lock_timeout, or was lost mid-run;
// IOError from pre-flight before any write: not enough space (reason()
// StatusReason::kFreeSpace) or the backup failed (kBackupFailed); Busy from pre-flight (a
// live node of another code schema, naming it; kNodesRunning) before any write; a step's
// own error (the state stays "migrating" with the last cursor: rerun to resume).
Result<RunResult> Up(Store& store, const StepRegistry& steps, const RunOptions& options = {});
Result<RunResult> Down(Store& store, const StepRegistry& steps, const RunOptions& options);
// Runs the cleanup function of every kept step, resumably; records each in the history.
Result<RunResult> Cleanup(Store& store, const StepRegistry& steps, const RunOptions& options = {});

// The OpenOptions of the migration tooling (the `migrate` commands): this code's newest
// schema, and a store at an older schema or mid-migration opens.
OpenOptions ToolingOpenOptions(const StepRegistry& steps);

// Opens `uri` and brings it to the newest schema with Up(options) before returning it
// (`database.auto_migrate: true`). A new store is created at the newest schema. The
// errors of Open and of Up; on an error the store is closed.
Result<std::unique_ptr<Store>> OpenAndMigrate(std::string_view uri, const StepRegistry& steps,
                                              const RunOptions& options = {});

// Runs `fn` under the migration lease (taken and released as Up does: Busy naming the
// holder after options.lock_timeout_ms). For `migrate restore` from a dump, so that no
// migration runs on the store while it is replaced. `fn`'s status is returned.
Status RunUnderLease(Store& store, const RunOptions& options, const std::function<Status()>& fn);

// After the store's data was replaced by a backup that does not carry the metadata
// partition (a dump): sets "schema_version" to `schema`, drops the "migration/kept/"
// records (the forms they name are gone) and sets the state to "ready". The history
// is kept. Call it inside RunUnderLease. Errors: the store's.
Status ResetAfterRestore(Store& store, int64_t schema);

// Releases the lease if it is free or expired; with `force` even if held (the holder is
// then fenced out). Busy naming the holder otherwise. Never needed after a crash.
Status Unlock(Store& store, bool force, Clock* clock = nullptr);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_MIGRATE_H_
