// An older ref store node (Options::code_schema 2, heartbeat on) keeps staging entries
// while `migrate up` to schema 3 runs: the pre-flight refuses while it is live, the
// override migrates anyway, and within the bound the older node refuses every write
// kind with one clear line; nothing it tried after the fence landed. Every driver, the
// same code (the migration runs on the same kv::Store object the nodes use). The older
// node's heartbeat and the migration's lease and liveness judgements run on one test
// clock: time moves only while all of them wait, so a slow machine changes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "base/clock.h"
#include "engine/metadata.h"
#include "migrate/migrate.h"
#include "migrate/nodes.h"
#include "refstore/schema.h"
#include "refstore/test_seam.h"
#include "tests/refstore/harness.h"
#include "tests/support/clock_ticker.h"
#include "tests/support/require.h"

namespace refkv::testing {
namespace {

namespace mg = kv::migrate;
using Clock = std::chrono::steady_clock;

class NodeFenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Status s = OpenEnv(GetParam(), TestOptions(), &env_, refstore::kSchemaOriginal);
    if (s.IsUnsupported()) REFKV_SKIP_UNLESS_REQUIRED(s.ToString());
    ASSERT_OK(s);
    // The store at schema 2, as an older release left it.
    mg::RunOptions to2 = Run();
    to2.to = 2;
    ASSERT_OK(mg::Up(*env_.base, refstore::SchemaSteps(), to2));
    ASSERT_OK(env_.Reopen(TestOptions()));
    ASSERT_OK(env_.refs->CreateRepository("r"));
    ASSERT_OK(env_.refs->PutEntry("r", "main", "seed", "0"));
    ASSERT_OK(env_.refs->Commit("r", "main", {"t", "seed", {}, {}}));
    ASSERT_OK(env_.refs->CreateBranch("r", "side", "main"));
    ASSERT_OK(env_.refs->CreateTag("r", "v0", "main"));
  }

  mg::RunOptions Run() {
    mg::RunOptions o;
    o.clock = &clock_;
    o.to = 3;  // the older node knows 2; the newer schemas behave the same
    o.no_backup = true;
    o.lease_ttl_ms = 5000;
    o.lock_timeout_ms = 10000;
    return o;
  }

  // A ref store of an older refkv (code schema 2) with a fast heartbeat.
  std::unique_ptr<refstore::RefStore> OlderNode() {
    refstore::Options o = TestOptions();
    o.heartbeat = refstore::Options::Heartbeat::kOn;
    o.heartbeat_interval = std::chrono::milliseconds(20);
    o.heartbeat_clock = &clock_;
    o.node_role = "older test node";
    auto refs = refstore::test_seam::OpenAsCodeSchema(*env_.store, *env_.ranges, o, 2);
    EXPECT_TRUE(refs.ok()) << refs.status().ToString();
    return refs.ok() ? std::move(refs).value() : nullptr;
  }

  int64_t Schema() {
    auto md = kv::ReadMetadata(*env_.base);
    return md.ok() ? md->schema_version : -1;
  }

  ManualClock clock_;  // outlives every node of the test
  TestEnv env_;
};

void ExpectFenced(const Status& s, const std::string& what) {
  EXPECT_TRUE(s.IsVersionMismatch()) << what << ": " << s.ToString();
  EXPECT_NE(s.ToString().find("restart this node with a refkv that knows schema 3"),
            std::string::npos)
      << what << ": " << s.ToString();
}

TEST_P(NodeFenceTest, OlderNodeBlocksPreflightThenIsFencedOnEveryWriteKind) {
  auto older = OlderNode();
  ASSERT_NE(older, nullptr);
  ASSERT_OK(older->PutEntry("r", "main", "before", "1"));

  // Pre-flight: refused while the older node is live; nothing written.
  auto before = AllEntries(*env_.refs, "r", "main");
  mg::RunOptions o = Run();
  Result<mg::RunResult> refused = Status::Internal("not run");
  {
    // The older node is live on the test clock for as long as time stands still, and
    // nothing here may wait on it: the pre-flight refuses before the lease. Should it
    // not, time moves once the run sleeps (beside the beat), so the run ends and the
    // test fails instead of waiting forever on a frozen clock.
    ClockTicker watchdog(&clock_, 5, 2);
    refused = mg::Up(*env_.base, refstore::SchemaSteps(), o);
  }
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), StatusReason::kNodesRunning) << refused.status().ToString();
  EXPECT_NE(refused.status().ToString().find("older test node"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Schema(), 2);
  EXPECT_EQ(AllEntries(*env_.refs, "r", "main"), before);

  // The older node stages entries in a loop while the override migrates.
  std::mutex mu;
  std::set<std::string> acknowledged, refused_paths;
  Status first_error;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      std::string path = "w/" + std::to_string(i);
      Status s = older->PutEntry("r", "main", path, "v");
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok()) {
        EXPECT_TRUE(first_error.ok()) << "a write was acknowledged after the fence: " << path;
        acknowledged.insert(path);
      } else {
        if (first_error.ok()) first_error = s;
        refused_paths.insert(path);
      }
    }
  });
  while (true) {  // let it write a little first
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acknowledged.size() >= 5 || !first_error.ok()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  o.ignore_nodes = true;
  // Test time moves while the older node's beat, the lease renewer and the runner's wait
  // for the fence all sleep on it.
  ClockTicker ticker(&clock_, 5, 3);
  auto up = mg::Up(*env_.base, refstore::SchemaSteps(), o);
  ticker.Stop();
  EXPECT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(Schema(), 3);
  // The runner waited for the fence before its step: the node refuses from now on.
  EXPECT_FALSE(older->PutEntry("r", "main", "probe", "x").ok());
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {  // the writer's current call may still be running
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!refused_paths.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  writer.join();
  ASSERT_FALSE(first_error.ok()) << "the older node never refused a write";
  ExpectFenced(first_error, "PutEntry in the loop");

  // Every write kind refuses; reads still work.
  ExpectFenced(older->PutEntry("r", "main", "after", "x"), "PutEntry");
  ExpectFenced(older->DeleteEntry("r", "main", "seed"), "DeleteEntry");
  ExpectFenced(older->Commit("r", "main", {"t", "m", {}, {}}).status(), "Commit");
  ExpectFenced(older->CreateBranch("r", "b2", "main").status(), "CreateBranch");
  ExpectFenced(older->DeleteBranch("r", "side"), "DeleteBranch");
  ExpectFenced(older->ResetBranch("r", "main"), "ResetBranch");
  ExpectFenced(older->CreateRepository("r2").status(), "CreateRepository");
  ExpectFenced(older->DeleteRepository("r"), "DeleteRepository");
  ExpectFenced(older->CreateTag("r", "v1", "main").status(), "CreateTag");
  ExpectFenced(older->DeleteTag("r", "v0"), "DeleteTag");
  ExpectFenced(older->CollectGarbage().status(), "CollectGarbage");
  auto read = older->GetEntry("r", "main", "seed");
  ASSERT_OK(read);
  EXPECT_EQ(*read, "0");

  // The rows: exactly the acknowledged staged writes, none of the refused ones.
  auto now = AllEntries(*env_.refs, "r", "main");
  EXPECT_EQ(now.count("before"), 1u);
  EXPECT_EQ(now.count("after"), 0u);
  EXPECT_EQ(now.count("probe"), 0u);
  EXPECT_EQ(now.count("seed"), 1u);
  for (const auto& p : acknowledged) EXPECT_EQ(now.count(p), 1u) << p;
  for (const auto& p : refused_paths) EXPECT_EQ(now.count(p), 0u) << p << " landed";
  EXPECT_TRUE(env_.refs->GetBranch("r", "side").ok());
  EXPECT_TRUE(env_.refs->GetTag("r", "v0").ok());
  EXPECT_FALSE(env_.refs->GetRepository("r2").ok());
  // The current node commits at the new schema.
  ASSERT_OK(env_.refs->Commit("r", "main", {"t", "after the upgrade", {}, {}}));
}

TEST_P(NodeFenceTest, ANodeStartedOnANewerStoreIsFencedFromTheStart) {
  mg::RunOptions o = Run();
  ASSERT_OK(mg::Up(*env_.base, refstore::SchemaSteps(), o));
  auto older = OlderNode();
  ASSERT_NE(older, nullptr);
  ExpectFenced(older->PutEntry("r", "main", "x", "1"), "PutEntry");
  EXPECT_TRUE(older->GetEntry("r", "main", "seed").ok());
}

TEST_P(NodeFenceTest, NodesOfThisCodeAreNotFencedByAnUpgradeToTheirSchema) {
  refstore::Options opts = TestOptions();
  opts.heartbeat = refstore::Options::Heartbeat::kOn;
  opts.heartbeat_interval = std::chrono::milliseconds(20);
  opts.heartbeat_clock = &clock_;
  auto current = refstore::RefStore::Open(*env_.store, *env_.ranges, opts);
  ASSERT_OK(current);
  ASSERT_OK(mg::Up(*env_.base, refstore::SchemaSteps(), Run()));  // 2 -> 3: not blocked
  for (int beat = 0; beat < 5; ++beat) {                          // a few beats
    ASSERT_TRUE(clock_.AwaitSleepers(1));
    clock_.AdvanceMs(20);
  }
  ASSERT_TRUE(clock_.AwaitSleepers(1));
  ASSERT_OK((*current)->PutEntry("r", "main", "x", "1"));
  ASSERT_OK((*current)->Commit("r", "main", {"t", "m", {}, {}}));
}

// Options::Heartbeat::kAuto: a node exactly on shared stores (PostgreSQL), for the
// RefStore's lifetime.
TEST_P(NodeFenceTest, AutoHeartbeatRegistersOnSharedStoresOnly) {
  ASSERT_TRUE(mg::ListNodes(*env_.base)->empty());
  {
    auto refs = refstore::RefStore::Open(*env_.base, *env_.ranges, TestOptions());
    ASSERT_OK(refs);
    auto nodes = mg::ListNodes(*env_.base);
    ASSERT_OK(nodes);
    if (GetParam() == "postgres") {
      ASSERT_EQ(nodes->size(), 1u);
      EXPECT_EQ((*nodes)[0].role, "refstore");
      EXPECT_EQ((*nodes)[0].code_schema, refstore::kCodeSchema);
      EXPECT_EQ((*nodes)[0].interval_ms, 2000);
      EXPECT_EQ((*nodes)[0].ttl_ms, 6000);
    } else {
      EXPECT_TRUE(nodes->empty()) << "a heartbeat on a store no other process can open";
    }
  }
  EXPECT_TRUE(mg::ListNodes(*env_.base)->empty()) << "the record outlived the RefStore";
}

INSTANTIATE_TEST_SUITE_P(Drivers, NodeFenceTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
