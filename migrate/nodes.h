// Node heartbeats: which processes ("nodes") are writing a shared store, with which
// code schema, so that a migration can refuse to start under an older node, and an
// older node that a migration overtook stops writing within a bounded time.
//
// Records in kMetaPartition (engine/metadata.h), one per node, ASCII as the migration
// records (migrate/records.h):
//   "node/<node id>"   node id, host, pid, code schema, code version, role, started,
//                      last beat (unix ms), beat interval and ttl (3 x interval), and
//                      the fence reason once fenced
// A reader judges a record by the ttl recorded in it (the writer's), never its own.
//
// A NodeHeartbeat registers the node, then a PeriodicTask beats every interval of its
// Clock (NodeOptions::clock; tests drive a ManualClock):
// it reads the store's schema and migration state (one MultiGet) and rewrites its
// record (one SetIf on the exact bytes it last wrote). The node becomes *fenced*, for
// good, when a beat finds
//   - the store at a schema newer than the node's code schema, or
//   - a migration step running (or interrupted) towards such a schema, or
//   - its record changed or removed by another process (a migration runner removes the
//     record of a node whose beat is older than its ttl: it counts as dead).
// A fenced node keeps its record (with the reason) so `migrate status` shows it; it
// refuses every write from then on (BeginWrite: VersionMismatch, one line naming both
// schemas and what to do). Before its record says "fenced", the writes in flight have
// finished (BeginWrite holds a count the fencing beat waits for).
//
// Bound: a node notices a migration within one beat interval of the state record
// saying "migrating" (default 2 s). A node whose thread could not confirm a beat for a
// whole ttl (a stall, SIGSTOP, a slow store) beats synchronously in its next
// BeginWrite before writing. The migration runner (migrate/migrate.h) waits, after
// writing "migrating", until every live older node's record says fenced or is older
// than its ttl (then removed), so no older node starts a write while the step runs.
// The remaining window, as for the migration lease: a write already past BeginWrite
// when its process stalls longer than the ttl lands late. Wall clocks of the nodes are
// compared with each other's records: keep their skew well below the ttl.
//
// Thread-safety: a NodeHeartbeat is thread-safe (BeginWrite from any number of
// threads). ListNodes and RemoveDeadNodes may run anywhere, any time.
#ifndef REFKV_MIGRATE_NODES_H_
#define REFKV_MIGRATE_NODES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/periodic_task.h"
#include "base/result.h"
#include "base/status.h"
#include "engine/store.h"

namespace refkv::kv::migrate {

inline constexpr std::string_view kNodePrefix = "node/";

// One node record, as stored.
struct NodeInfo {
  std::string node_id;
  std::string host;
  int64_t pid = 0;
  int64_t code_schema = 0;   // the schema the node's code writes
  std::string code_version;  // refkv's version (CodeVersion())
  std::string role;          // what the node is ("refstore", "refkv entry put", ...)
  int64_t started_ms = 0;    // unix milliseconds
  int64_t beat_ms = 0;       // when the last beat began (its state read)
  int64_t interval_ms = 0;
  int64_t ttl_ms = 0;  // the record counts as live while now - beat_ms < ttl_ms
  std::string fenced;  // why the node refuses writes; "" while it writes
  bool live(int64_t now_ms) const { return now_ms - beat_ms < ttl_ms; }
  // "node ID (host H, pid P, refkv V, code schema N), last beat X ms ago (ttl T ms)".
  std::string ToString(int64_t now_ms) const;
};

struct NodeOptions {
  // The schema this node's code writes (required, > 0); tests may report an older one.
  int64_t code_schema = 0;
  std::string role = "node";
  // Beat period; the ttl recorded is 3 x interval. Must be > 0.
  int64_t interval_ms = 2000;
  // Records of other nodes whose last beat is older than this (and than 3 of their own
  // ttls) are removed at registration, in the background. 0: never.
  int64_t remove_dead_after_ms = 10 * 60 * 1000;
  // Tests: false = a node that registers and then never beats (as if stalled) and
  // whose destructor leaves its record (as if killed).
  bool beat = true;
  // The time of beats, the interval and staleness (must outlive the node). nullptr: the
  // system clock.
  Clock* clock = nullptr;
};

class NodeHeartbeat {
 public:
  // Registers the node (one MultiGet + one SetIf) and starts beating. The node starts
  // fenced if the store is already past its code schema. InvalidArgument for a bad
  // option; the store's errors.
  static Result<std::unique_ptr<NodeHeartbeat>> Start(Store& store, NodeOptions options);
  // Stops beating and removes the record (errors ignored; a record left behind expires).
  ~NodeHeartbeat();
  NodeHeartbeat(const NodeHeartbeat&) = delete;
  NodeHeartbeat& operator=(const NodeHeartbeat&) = delete;

  // Held for the duration of one write operation; the fencing beat waits for it.
  class WriteGuard {
   public:
    WriteGuard() = default;
    explicit WriteGuard(std::atomic<int64_t>* inflight) : inflight_(inflight) {}
    WriteGuard(WriteGuard&& o) noexcept : inflight_(o.inflight_) { o.inflight_ = nullptr; }
    WriteGuard& operator=(WriteGuard&& o) noexcept;
    WriteGuard(const WriteGuard&) = delete;
    WriteGuard& operator=(const WriteGuard&) = delete;
    ~WriteGuard();

   private:
    std::atomic<int64_t>* inflight_ = nullptr;
  };

  // Call before every write operation and keep the guard until it is done. OK unless
  // fenced: VersionMismatch with the fence reason. Cost: two atomic operations; a
  // synchronous beat (2 round trips) if no beat was confirmed for a whole ttl, and then
  // the errors of that beat.
  Result<WriteGuard> BeginWrite();

  // One beat now, on the calling thread (tests; BeginWrite when stale). The store's
  // errors; OK when the beat was recorded (fenced or not).
  Status BeatNow() EXCLUDES(beat_mu_);

  bool fenced() const { return fenced_flag_.load(); }
  // The status BeginWrite returns once fenced (OK before).
  Status FenceStatus() const EXCLUDES(mu_);
  const std::string& node_id() const { return info_.node_id; }
  int64_t code_schema() const { return info_.code_schema; }

 private:
  NodeHeartbeat(Store& store, NodeOptions options, NodeInfo info);
  // Reads the state, fences if needed, writes the record.
  Status BeatLocked() REQUIRES(beat_mu_);
  void Fence(std::string reason) REQUIRES(beat_mu_);  // waits for writes in flight

  Store& store_;
  const NodeOptions options_;
  Clock* const clock_;
  const NodeInfo info_;  // as registered (beat_ms and fenced are set per record written)
  Mutex beat_mu_;        // one beat at a time; before mu_
  std::string raw_ GUARDED_BY(beat_mu_);  // the record as last written
  std::atomic<bool> fenced_flag_{false};
  std::atomic<int64_t> inflight_{0};
  // The clock's monotonic ms when the last good beat began.
  std::atomic<int64_t> confirmed_steady_ms_{0};
  mutable Mutex mu_;
  std::string fence_reason_ GUARDED_BY(mu_);
  std::unique_ptr<PeriodicTask> beater_;
};

// Every node record, live or not, by node id. One prefix scan. Corruption for a
// malformed record (naming it).
Result<std::vector<NodeInfo>> ListNodes(Store& store);
// The records that are live now by `clock` (nullptr: the system clock; fenced ones
// included: see NodeInfo::fenced).
Result<std::vector<NodeInfo>> ListLiveNodes(Store& store, Clock* clock = nullptr);

// Removes records whose last beat is older than max(older_than_ms, 3 x their ttl) by
// `clock` (nullptr: the system clock). Returns how many were removed (each with DeleteIf
// on the bytes read: a record that beat meanwhile stays).
Result<int> RemoveDeadNodes(Store& store, int64_t older_than_ms, Clock* clock = nullptr);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_NODES_H_
