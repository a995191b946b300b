// Node heartbeats (migrate/nodes.h).
#include "migrate/nodes.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>

#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/records.h"

namespace refkv::kv::migrate {
namespace {

// Why a node of `code_schema` must stop writing a store at `schema` in `state`, with
// what to do; "" if it may write.
std::string FenceReason(const NodeInfo& me, int64_t schema, const MigrationState& state) {
  int64_t target = schema;
  std::string what;
  if (state.migrating && std::max(state.from, state.to) > me.code_schema) {
    target = std::max({schema, state.from, state.to});
    what = "the store is migrating to schema " + std::to_string(target) + " (" +
           std::string(DirectionName(state.direction)) + " " + std::to_string(state.from) + "->" +
           std::to_string(state.to) + ", step '" + state.step_id + "')";
  } else if (schema > me.code_schema) {
    what = "the store was migrated to schema " + std::to_string(schema);
  } else {
    return {};
  }
  return "this node (" + me.node_id + ", refkv " + me.code_version + ", code schema " +
         std::to_string(me.code_schema) + ") refuses every write: " + what +
         ", newer than its code schema " + std::to_string(me.code_schema) +
         "; restart this node with a refkv that knows schema " + std::to_string(target);
}

// The store's schema (0 without metadata) and migration state.
Status ReadSchemaAndState(Store& store, int64_t* schema, MigrationState* state) {
  REFKV_ASSIGN_OR_RETURN(auto both, store.MultiGet(kMetaPartition, {std::string(kMetaSchemaVersion),
                                                                    std::string(kStateKey)}));
  if (both.size() != 2) return Status::Internal("MultiGet of 2 keys returned another count");
  *schema = 0;
  if (both[0].ok()) {
    const std::string& raw = *both[0];
    int64_t v = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec != std::errc() || end != raw.data() + raw.size()) {
      return Status::Corruption("metadata schema_version '" + Printable(raw) + "' is not a number");
    }
    *schema = v;
  } else if (!both[0].status().IsNotFound()) {
    return both[0].status().WithContext("node heartbeat: reading the store's schema");
  }
  *state = MigrationState();
  if (both[1].ok()) {
    REFKV_ASSIGN_OR_RETURN(*state, DecodeState(*both[1]));
  } else if (!both[1].status().IsNotFound()) {
    return both[1].status().WithContext("node heartbeat: reading the migration state");
  }
  return Status::OK();
}

}  // namespace

NodeHeartbeat::WriteGuard& NodeHeartbeat::WriteGuard::operator=(WriteGuard&& o) noexcept {
  if (this != &o) {
    if (inflight_ != nullptr) inflight_->fetch_sub(1);
    inflight_ = o.inflight_;
    o.inflight_ = nullptr;
  }
  return *this;
}

NodeHeartbeat::WriteGuard::~WriteGuard() {
  if (inflight_ != nullptr) inflight_->fetch_sub(1);
}

Result<std::unique_ptr<NodeHeartbeat>> NodeHeartbeat::Start(Store& store, NodeOptions options) {
  if (options.code_schema <= 0) {
    return Status::InvalidArgument("node heartbeat: code_schema must be positive");
  }
  if (options.interval_ms <= 0) {
    return Status::InvalidArgument("node heartbeat: interval_ms must be positive");
  }
  NodeInfo info;
  info.node_id = NewRandomId();
  info.host = HostName();
  info.pid = getpid();
  info.code_schema = options.code_schema;
  info.code_version = std::string(CodeVersion());
  info.role = options.role;
  Clock* clock = options.clock != nullptr ? options.clock : Clock::System();
  info.started_ms = clock->NowMs();
  info.interval_ms = options.interval_ms;
  info.ttl_ms = 3 * options.interval_ms;
  std::unique_ptr<NodeHeartbeat> node(new NodeHeartbeat(store, std::move(options), info));
  {
    MutexLock lock(&node->beat_mu_);
    REFKV_RETURN_IF_ERROR(node->BeatLocked().WithContext("registering node " + info.node_id));
  }
  if (node->options_.beat) {
    NodeHeartbeat* n = node.get();
    n->beater_ = std::make_unique<PeriodicTask>(
        n->clock_, n->options_.interval_ms,
        [n] {
          MutexLock beat(&n->beat_mu_);
          (void)n->BeatLocked();  // an error: not confirmed; retried next period
          return true;
        },
        [n] {
          if (n->options_.remove_dead_after_ms > 0) {
            (void)RemoveDeadNodes(n->store_, n->options_.remove_dead_after_ms, n->clock_);
          }
        });
  }
  return node;
}

NodeHeartbeat::NodeHeartbeat(Store& store, NodeOptions options, NodeInfo info)
    : store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::System()),
      info_(std::move(info)) {}

NodeHeartbeat::~NodeHeartbeat() {
  if (beater_ != nullptr) beater_->Stop();
  if (!options_.beat) return;  // tests: a node that was killed leaves its record
  MutexLock lock(&beat_mu_);
  if (!raw_.empty()) {
    (void)store_.DeleteIf(kMetaPartition, NodeKey(info_.node_id), Predicate::Equals(raw_));
  }
}

Status NodeHeartbeat::BeatNow() {
  MutexLock lock(&beat_mu_);
  return BeatLocked();
}

void NodeHeartbeat::Fence(std::string reason) {
  {
    MutexLock lock(&mu_);
    if (!fence_reason_.empty()) return;
    fence_reason_ = std::move(reason);
  }
  fenced_flag_.store(true);
  // Writes that passed BeginWrite before the flag finish before the record says
  // "fenced" (bounded by one ttl of the clock, so a nested BeginWrite cannot hang the
  // beat). Polled in real time: the writes finish on their own, not when time moves.
  const int64_t deadline = clock_->MonotonicMs() + info_.ttl_ms;
  while (inflight_.load() > 0 && clock_->MonotonicMs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Status NodeHeartbeat::BeatLocked() {
  const int64_t wall = clock_->NowMs();
  const int64_t steady = clock_->MonotonicMs();
  if (!fenced_flag_.load()) {
    int64_t schema = 0;
    MigrationState state;
    REFKV_RETURN_IF_ERROR(ReadSchemaAndState(store_, &schema, &state));
    std::string reason = FenceReason(info_, schema, state);
    if (!reason.empty()) Fence(std::move(reason));
  }
  const std::string key = NodeKey(info_.node_id);
  auto write = [&]() -> Status {
    NodeInfo next = info_;
    next.beat_ms = wall;
    {
      MutexLock lock(&mu_);
      next.fenced = fence_reason_;
    }
    std::string encoded = EncodeNode(next);
    Status s;
    if (fenced_flag_.load()) {
      s = store_.Set(kMetaPartition, key, encoded);  // visible to status, nothing to guard
    } else {
      s = store_.SetIf(kMetaPartition, key, encoded,
                       raw_.empty() ? Predicate::Absent() : Predicate::Equals(raw_));
      if (s.IsUnknownOutcome()) {
        auto now = store_.Get(kMetaPartition, key);
        if (now.ok() && *now == encoded) s = Status::OK();
      }
    }
    if (s.ok()) raw_ = std::move(encoded);
    return s;
  };
  Status s = write();
  if (s.IsPredicateFailed()) {
    // Someone removed or rewrote our record: a migration runner counted this node as
    // dead (no beat for its ttl). Whatever it then did, this node must not write.
    Fence("this node (" + info_.node_id + ", refkv " + info_.code_version + ", code schema " +
          std::to_string(info_.code_schema) +
          ") refuses every write: its registration was removed by another process after no "
          "beat for its ttl (" +
          std::to_string(info_.ttl_ms) +
          " ms; was this process stalled?); restart this node with a refkv that knows the "
          "store's schema");
    s = write();
  }
  REFKV_RETURN_IF_ERROR(s.WithContext("node heartbeat: writing " + key));
  if (!fenced_flag_.load()) confirmed_steady_ms_.store(steady);
  return Status::OK();
}

Result<NodeHeartbeat::WriteGuard> NodeHeartbeat::BeginWrite() {
  if (!fenced_flag_.load() && clock_->MonotonicMs() - confirmed_steady_ms_.load() >= info_.ttl_ms) {
    // No beat confirmed for a whole ttl (a stall, a slow store): confirm before writing,
    // so that a node a migration counted as dead cannot write.
    MutexLock lock(&beat_mu_);
    if (!fenced_flag_.load() &&
        clock_->MonotonicMs() - confirmed_steady_ms_.load() >= info_.ttl_ms) {
      Status s = BeatLocked();
      if (!s.ok() && !fenced_flag_.load()) {
        return s.WithContext("node " + info_.node_id +
                             " could not confirm its registration before writing");
      }
    }
  }
  inflight_.fetch_add(1);
  if (fenced_flag_.load()) {
    inflight_.fetch_sub(1);
    return FenceStatus();
  }
  return WriteGuard(&inflight_);
}

Status NodeHeartbeat::FenceStatus() const {
  MutexLock lock(&mu_);
  if (fence_reason_.empty()) return Status::OK();
  return Status(StatusCode::kVersionMismatch, fence_reason_, /*retryable=*/false);
}

Result<std::vector<NodeInfo>> ListNodes(Store& store) {
  std::vector<NodeInfo> nodes;
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(kMetaPartition, ScanOptions::Prefix(kNodePrefix)));
  for (; it->Valid(); it->Next()) {
    REFKV_ASSIGN_OR_RETURN(NodeInfo n, DecodeNode(it->key(), it->value()));
    nodes.push_back(std::move(n));
  }
  REFKV_RETURN_IF_ERROR(it->status());
  return nodes;
}

Result<std::vector<NodeInfo>> ListLiveNodes(Store& store, Clock* clock) {
  REFKV_ASSIGN_OR_RETURN(std::vector<NodeInfo> all, ListNodes(store));
  const int64_t now = (clock != nullptr ? clock : Clock::System())->NowMs();
  std::vector<NodeInfo> live;
  for (auto& n : all) {
    if (n.live(now)) live.push_back(std::move(n));
  }
  return live;
}

Result<int> RemoveDeadNodes(Store& store, int64_t older_than_ms, Clock* clock) {
  std::vector<std::pair<std::string, std::string>> dead;  // key, raw
  {
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(kMetaPartition, ScanOptions::Prefix(kNodePrefix)));
    const int64_t now = (clock != nullptr ? clock : Clock::System())->NowMs();
    for (; it->Valid(); it->Next()) {
      auto n = DecodeNode(it->key(), it->value());
      if (!n.ok()) continue;  // not ours to judge; ListNodes reports it
      if (now - n->beat_ms > std::max(older_than_ms, 3 * n->ttl_ms)) {
        dead.emplace_back(std::string(it->key()), std::string(it->value()));
      }
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  int removed = 0;
  for (const auto& [key, raw] : dead) {
    Status s = store.DeleteIf(kMetaPartition, key, Predicate::Equals(raw));
    if (s.ok()) {
      ++removed;
    } else if (!s.IsPredicateFailed()) {
      return s;
    }
  }
  return removed;
}

}  // namespace refkv::kv::migrate
