// Node heartbeats (migrate/nodes.h) and the migration pre-flight on live nodes, the same
// tests on mem (one store object shared by the "nodes" of this process) and PostgreSQL
// (a fresh table of the shared throwaway server). Heartbeats, liveness and the runner's
// waits all run on one test clock (clock_): time moves only when a test advances it (or a
// ClockTicker does, while every party sleeps), so no test depends on the machine's speed.
#include "migrate/nodes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "base/periodic_task.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/migrate.h"
#include "migrate/records.h"
#include "tests/engine/postgres/pg_test_env.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/clock_ticker.h"
#include "tests/support/status_assert.h"

namespace refkv::kv::migrate::testing {
namespace {

// OK unless the node refuses to write.
#define EXPECT_OK_WRITE(node)                                                 \
  do {                                                                        \
    auto _g = (node)->BeginWrite();                                           \
    EXPECT_TRUE(_g.ok()) << "BeginWrite refused: " << _g.status().ToString(); \
  } while (0)

const auto* const kServerEnv =
    ::testing::AddGlobalTestEnvironment(new kv::testing::PgServerEnvironment);

using Steady = std::chrono::steady_clock;
using refkv::testing::ClockTicker;

// Polls `done` every 5 ms (real time: for work another thread does, not for time to
// pass) for up to `limit`; true once it held.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = Steady::now() + limit;
  while (Steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class NodesTest : public ::testing::TestWithParam<std::string> {
 protected:
  RunOptions Fast() {
    RunOptions o;
    o.no_backup = true;
    o.lease_ttl_ms = 2000;
    o.lock_timeout_ms = 10000;
    o.clock = &clock_;
    return o;
  }

  NodeOptions Node(int64_t code_schema, int64_t interval_ms = 20) {
    NodeOptions o;
    o.code_schema = code_schema;
    o.interval_ms = interval_ms;
    o.role = "test";
    o.clock = &clock_;
    return o;
  }

  void SetUp() override {
    std::string uri = "mem://";
    if (GetParam() == "postgres") {
      auto fresh = kv::testing::FreshTableUri();
      ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
      uri = *fresh;
    }
    OpenOptions options;
    options.allow_older_schema = true;
    options.allow_migrating = true;
    auto store = kv::Open(uri, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_OK(Populate(*store_, 100));
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
  }

  std::unique_ptr<NodeHeartbeat> StartNode(const NodeOptions& o) {
    auto node = NodeHeartbeat::Start(*store_, o);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }
  std::optional<NodeInfo> Record(const std::string& id) {
    auto all = ListNodes(*store_);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    for (const auto& n : all.ok() ? *all : std::vector<NodeInfo>{}) {
      if (n.node_id == id) return n;
    }
    return std::nullopt;
  }
  int64_t Schema() {
    auto md = ReadMetadata(*store_);
    return md.ok() ? md->schema_version : -1;
  }

  ManualClock clock_;  // declared first: outlives the store and every node
  std::unique_ptr<Store> store_;
};

TEST_P(NodesTest, RegistersBeatsWithItsTtlAndUnregisters) {
  auto node = StartNode(Node(2, 200));  // ttl 600 ms
  ASSERT_NE(node, nullptr);
  auto first = Record(node->node_id());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->pid, getpid());
  EXPECT_FALSE(first->host.empty());
  EXPECT_EQ(first->code_schema, 2);
  EXPECT_EQ(first->code_version, CodeVersion());
  EXPECT_EQ(first->role, "test");
  EXPECT_EQ(first->interval_ms, 200);
  EXPECT_EQ(first->ttl_ms, 600);  // 3 x interval, recorded for every reader
  EXPECT_TRUE(first->fenced.empty());
  ASSERT_TRUE(clock_.AwaitSleepers(1));
  clock_.AdvanceMs(200);  // one interval: one beat
  EXPECT_TRUE(Eventually([&] {
    auto now = Record(node->node_id());
    return now && now->beat_ms == first->beat_ms + 200;
  })) << "the record was never renewed";
  auto live = ListLiveNodes(*store_, &clock_);
  ASSERT_OK(live);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].node_id, node->node_id());
  EXPECT_OK_WRITE(node);
  const std::string id = node->node_id();
  node.reset();
  EXPECT_FALSE(Record(id).has_value()) << "the record outlived its node";
}

TEST_P(NodesTest, ARecordExpiresAfterItsTtlAndLongDeadOnesAreRemoved) {
  auto beating = StartNode(Node(3, 200));
  NodeOptions stalled = Node(3, 20);
  stalled.beat = false;  // never renews, and leaves its record like a killed process
  std::string dead_id = StartNode(stalled)->node_id();
  ASSERT_TRUE(Record(dead_id).has_value());
  auto live = ListLiveNodes(*store_, &clock_);
  ASSERT_OK(live);
  EXPECT_EQ(live->size(), 2u);
  clock_.AdvanceMs(59);  // within the stalled node's ttl (60 ms)
  EXPECT_EQ(ListLiveNodes(*store_, &clock_)->size(), 2u);
  clock_.AdvanceMs(1);
  live = ListLiveNodes(*store_, &clock_);
  ASSERT_OK(live);
  ASSERT_EQ(live->size(), 1u) << "a record without beats stayed live";
  EXPECT_EQ((*live)[0].node_id, beating->node_id());
  // Removal waits for max(older_than, 3 ttls); the beating node is never removed.
  auto none = RemoveDeadNodes(*store_, 60'000, &clock_);
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0);
  none = RemoveDeadNodes(*store_, 0, &clock_);  // 60 ms: not yet 3 ttls
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0);
  clock_.AdvanceMs(121);
  auto removed = RemoveDeadNodes(*store_, 0, &clock_);
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(Record(dead_id).has_value());
  EXPECT_TRUE(Record(beating->node_id()).has_value());
}

TEST_P(NodesTest, FencesWithinOneBeatWhenTheStoreMovesPastItsSchema) {
  auto old_node = StartNode(Node(1, 20));
  auto new_node = StartNode(Node(2, 20));
  EXPECT_OK_WRITE(old_node);
  ASSERT_OK(SetSchemaVersion(*store_, 1, 2));
  ASSERT_TRUE(clock_.AwaitSleepers(2));
  clock_.AdvanceMs(19);
  ASSERT_TRUE(clock_.AwaitSleepers(2));
  EXPECT_FALSE(old_node->fenced()) << "fenced before its beat";
  clock_.AdvanceMs(1);  // one interval: the next beat fences
  ASSERT_TRUE(clock_.AwaitSleepers(2));
  ASSERT_TRUE(old_node->fenced());
  auto refused = old_node->BeginWrite();
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsVersionMismatch()) << refused.status().ToString();
  const std::string msg = refused.status().ToString();
  EXPECT_NE(msg.find("code schema 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("schema 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("restart this node with a refkv that knows schema 2"), std::string::npos)
      << msg;
  auto recorded = Record(old_node->node_id());
  ASSERT_TRUE(recorded.has_value());
  EXPECT_FALSE(recorded->fenced.empty()) << "the fence is not recorded";
  // Sticky, even if the store went back; the newer node writes on.
  ASSERT_OK(SetSchemaVersion(*store_, 2, 1));
  ASSERT_OK(old_node->BeatNow());
  EXPECT_FALSE(old_node->BeginWrite().ok());
  EXPECT_OK_WRITE(new_node);
  EXPECT_FALSE(new_node->fenced());
}

TEST_P(NodesTest, TheFenceIsRecordedOnlyAfterWritesInFlightFinished) {
  auto node = StartNode(Node(1, 1000));  // test time stands still: no background beat
  auto guard = node->BeginWrite();
  ASSERT_OK(guard);
  ASSERT_OK(SetSchemaVersion(*store_, 1, 2));
  std::thread beat([&] { EXPECT_TRUE(node->BeatNow().ok()); });
  ASSERT_TRUE(Eventually([&] { return node->fenced(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto during = Record(node->node_id());
  ASSERT_TRUE(during.has_value());
  EXPECT_TRUE(during->fenced.empty()) << "recorded fenced while a write was in flight";
  EXPECT_FALSE(node->BeginWrite().ok());  // no new write starts meanwhile
  { auto done = std::move(guard).value(); }
  beat.join();
  auto after = Record(node->node_id());
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->fenced.empty());
}

TEST_P(NodesTest, AStalledNodeWhoseRecordWasRemovedIsFencedBeforeItsNextWrite) {
  NodeOptions o = Node(3, 20);
  o.beat = false;  // stalled: no beats; BeginWrite must confirm by itself
  auto node = StartNode(o);
  clock_.AdvanceMs(181);  // 3 ttls without a beat
  auto removed = RemoveDeadNodes(*store_, 0, &clock_);
  ASSERT_OK(removed);
  ASSERT_EQ(*removed, 1);
  auto refused = node->BeginWrite();
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsVersionMismatch()) << refused.status().ToString();
  EXPECT_NE(refused.status().ToString().find("registration was removed"), std::string::npos)
      << refused.status().ToString();
}

TEST_P(NodesTest, PreflightRefusesALiveOlderNodeAndWritesNothing) {
  auto node = StartNode(Node(1, 200));
  auto before = DumpAll(*store_, /*include_meta=*/false);
  ASSERT_OK(before);
  RunOptions o = Fast();
  auto r = Up(*store_, MakeRegistry(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), StatusReason::kNodesRunning);
  EXPECT_TRUE(r.status().IsBusy()) << r.status().ToString();
  const std::string msg = r.status().ToString();
  for (const std::string& part :
       {node->node_id(), "pid " + std::to_string(getpid()), std::string("code schema 1"),
        std::string("older than the target schema 3"), std::string("ms ago"),
        std::string("Stop those nodes"), std::string("--ignore-nodes"),
        std::string("Nothing was changed")}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  }
  EXPECT_EQ(Schema(), 1);
  auto lease = GetStatus(*store_, MakeRegistry(), &clock_);
  ASSERT_OK(lease);
  EXPECT_FALSE(lease->lease.has_value()) << "the lease was written";
  EXPECT_EQ(lease->version.state_name, "ready");
  ASSERT_EQ(lease->nodes.size(), 1u);
  EXPECT_EQ(*DumpAll(*store_, false), *before);
  EXPECT_FALSE(node->fenced());

  node.reset();  // stopped: unregistered
  ASSERT_OK(Up(*store_, MakeRegistry(), o));
  EXPECT_EQ(Schema(), 3);
}

TEST_P(NodesTest, PreflightPassesOnceAnOlderNodeExpired) {
  NodeOptions o = Node(1, 20);
  o.beat = false;
  StartNode(o);  // destroyed at once, its record stays (as after kill -9)
  ASSERT_EQ(ListNodes(*store_)->size(), 1u);
  RunOptions run = Fast();
  auto refused = Up(*store_, MakeRegistry(), run);
  ASSERT_FALSE(refused.ok()) << "live for its ttl";
  EXPECT_EQ(Schema(), 1);
  clock_.AdvanceMs(60);  // its ttl
  ASSERT_TRUE(ListLiveNodes(*store_, &clock_)->empty());
  clock_.AdvanceMs(20);  // and the runner's margin of one interval: it counts as dead
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  EXPECT_EQ(Schema(), 3);
}

TEST_P(NodesTest, SameVersionNodesDoNotBlockAndStayUnfenced) {
  auto node = StartNode(Node(3, 20));
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  EXPECT_EQ(Schema(), 3);
  ASSERT_OK(node->BeatNow());
  EXPECT_OK_WRITE(node);
}

TEST_P(NodesTest, OverrideMigratesAndTheStepRunsOnlyOnceOlderNodesAreFenced) {
  auto old_node = StartNode(Node(1, 20));
  NodeOptions stalled = Node(2, 20);
  stalled.beat = false;  // never fences itself: the runner waits for its ttl, removes it
  auto silent = StartNode(stalled);
  SyntheticOptions so;
  std::atomic<int> batches{0}, unfenced{0};
  so.on_batch = [&](const std::string& step, int) {
    ++batches;
    if (!old_node->fenced()) ++unfenced;  // older than both steps' targets (2, 3)
    if (step == "index") {                // 2->3: the silent node (schema 2) is older too
      auto r = Record(silent->node_id());
      if (r && r->fenced.empty()) ++unfenced;
    }
    return Status::OK();
  };
  RunOptions o = Fast();
  o.ignore_nodes = true;
  // Time moves while old_node's beat, the lease renewer and the runner's wait all sleep.
  ClockTicker ticker(&clock_, 5, 3);
  ASSERT_OK(Up(*store_, MakeRegistry(so), o));
  ticker.Stop();
  EXPECT_EQ(Schema(), 3);
  EXPECT_GT(batches.load(), 0);
  EXPECT_EQ(unfenced.load(), 0) << "a step ran while an older node could still write";
  EXPECT_FALSE(old_node->BeginWrite().ok());
  EXPECT_FALSE(silent->BeginWrite().ok());  // its record is gone: fenced on confirming
}

// A "node" that keeps its record fresh but never fences itself (not this code: a
// record rewritten by hand) cannot hold a migration forever: after 4 ttls the run
// stops with Busy naming it, before the step wrote anything; a rerun resumes.
TEST_P(NodesTest, TheWaitForANodeThatNeverFencesIsBounded) {
  NodeInfo rogue;
  rogue.node_id = "rogue";
  rogue.host = "elsewhere";
  rogue.pid = 1;
  rogue.code_schema = 1;
  rogue.code_version = "0.0.1";
  rogue.interval_ms = 100;
  rogue.ttl_ms = 300;
  auto beat = [&] {
    NodeInfo n = rogue;
    n.beat_ms = clock_.NowMs();
    return store_->Set(kMetaPartition, NodeKey(n.node_id), EncodeNode(n));
  };
  ASSERT_OK(beat());  // registered before the run starts
  RunOptions o = Fast();
  o.ignore_nodes = true;
  const int64_t started = clock_.NowMs();
  Result<RunResult> r = Status::Internal("not run");
  {
    PeriodicTask beater(&clock_, 10, [&] {
      (void)beat();
      return true;
    });
    // Time moves while the rogue's beat, the lease renewer and the runner's wait sleep.
    ClockTicker ticker(&clock_, 5, 3);
    r = Up(*store_, MakeRegistry(), o);
  }
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsBusy()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("node rogue (host elsewhere"), std::string::npos)
      << r.status().ToString();
  // 4 x (ttl + interval) plus a second of test time, then it gives up.
  const int64_t waited = clock_.NowMs() - started;
  EXPECT_GT(waited, 4 * (300 + 100) + 1000);
  EXPECT_LT(waited, 4 * (300 + 100) + 1000 + 200);
  EXPECT_EQ(Schema(), 1);
  ASSERT_OK(store_->Delete(kMetaPartition, NodeKey("rogue")));
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));  // resumes the interrupted step
  EXPECT_EQ(Schema(), 3);
}

TEST_P(NodesTest, DownRefusesANewerLiveNode) {
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  auto node = StartNode(Node(3, 200));
  RunOptions o = Fast();
  o.to = 1;
  auto r = Down(*store_, MakeRegistry(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), StatusReason::kNodesRunning);
  EXPECT_NE(r.status().ToString().find("newer than the target schema 1"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(Schema(), 3);
  o.ignore_nodes = true;
  ASSERT_OK(Down(*store_, MakeRegistry(), o));
  EXPECT_EQ(Schema(), 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, NodesTest, ::testing::Values("mem", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::kv::migrate::testing
