// The migration runner on synthetic steps, the same tests on mem, rocks and PostgreSQL
// (a fresh table of the shared throwaway server per store, tests/support/pg_server.h).
#include "migrate/migrate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "engine/store_wrapper.h"
#include "migrate/test_seam.h"
#include "tests/engine/postgres/pg_test_env.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/clock_ticker.h"
#include "tests/support/fault_store.h"
#include "tests/support/status_assert.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::migrate::testing {
namespace {

constexpr int kRows = 200;

// A one-shot gate: threads wait until it is opened.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

const auto* const kServerEnv =
    ::testing::AddGlobalTestEnvironment(new kv::testing::PgServerEnvironment);

// A store URI of `driver` that no other store of this run uses.
std::string FreshUri(const std::string& driver, refkv::testing::TempDir& dir,
                     const std::string& name) {
  if (driver == "mem") return "mem://";
  if (driver == "rocks") return "rocks://" + dir.Sub(name);
  auto uri = kv::testing::FreshTableUri();
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : "postgres://unavailable";
}

RunOptions Fast() {
  RunOptions o;
  o.no_backup = true;
  o.lease_ttl_ms = 2000;
  o.lock_timeout_ms = 10000;
  return o;
}

class MigrateTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = FreshUri(GetParam(), dir_, "db");
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    ASSERT_OK(Populate(*store_, kRows));
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
  }

  std::unique_ptr<Store> OpenStore(OpenOptions options = {}) {
    options.allow_older_schema = true;
    options.allow_migrating = true;
    auto store = kv::Open(uri_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  bool rocks() const { return GetParam() == "rocks"; }
  void Sweep(bool down, bool sticky);

  int64_t Schema() {
    auto md = ReadMetadata(*store_);
    EXPECT_TRUE(md.ok()) << md.status().ToString();
    return md.ok() ? md->schema_version : -1;
  }
  void ExpectContent() {
    auto content = LogicalContent(*store_);
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    EXPECT_EQ(*content, Expected(kRows));
  }
  Dump DumpNow() {
    auto d = DumpAll(*store_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Dump{};
  }
  std::vector<HistoryEntry> History() {
    auto st = GetStatus(*store_, MakeRegistry());
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? st->history : std::vector<HistoryEntry>{};
  }

  refkv::testing::TempDir dir_{"migrate"};
  std::string uri_;  // the store's (mem: a new store at every open)
  std::unique_ptr<Store> store_;
};

TEST_P(MigrateTest, NewStoreIsReadyAtItsSchema) {
  auto v = Version(*store_, MakeRegistry());
  ASSERT_OK(v);
  EXPECT_EQ(v->store_schema, 1);
  EXPECT_EQ(v->code_schema, 3);
  EXPECT_EQ(v->oldest_upgradable_schema, 1);
  EXPECT_EQ(v->state_name, "ready");
}

TEST_P(MigrateTest, UpDownRoundTripKeepsContent) {
  auto before = DumpAll(*store_, false);
  ASSERT_OK(before);
  auto up = Up(*store_, MakeRegistry(), Fast());
  ASSERT_OK(up);
  EXPECT_EQ(Schema(), 3);
  ASSERT_EQ(up->applied.size(), 2u);
  EXPECT_EQ(up->applied[0].step_id, "format-b");
  EXPECT_EQ(up->applied[0].rows, kRows);
  EXPECT_EQ(up->applied[1].step_id, "index");
  ExpectContent();

  RunOptions down = Fast();
  down.to = 1;
  auto d = Down(*store_, MakeRegistry(), down);
  ASSERT_OK(d);
  EXPECT_EQ(Schema(), 1);
  ASSERT_EQ(d->applied.size(), 2u);
  EXPECT_EQ(d->applied[0].step_id, "index");
  EXPECT_EQ(d->applied[0].direction, Direction::kDown);
  ExpectContent();
  auto after = DumpAll(*store_, false);
  ASSERT_OK(after);
  EXPECT_EQ(after->at("data"), before->at("data"));  // byte for byte

  // Up again, clean the old form, and down again: rebuilt from the new form.
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  auto status = GetStatus(*store_, MakeRegistry());
  ASSERT_OK(status);
  EXPECT_EQ(status->kept, std::vector<std::string>{"format-b"});
  auto cleaned = Cleanup(*store_, MakeRegistry(), Fast());
  ASSERT_OK(cleaned);
  ASSERT_EQ(cleaned->applied.size(), 1u);
  EXPECT_EQ(cleaned->applied[0].direction, Direction::kCleanup);
  auto mid = DumpAll(*store_, false);
  ASSERT_OK(mid);
  EXPECT_EQ(mid->count("data"), 0u) << "cleanup dropped the old form";
  ExpectContent();
  ASSERT_OK(Down(*store_, MakeRegistry(), down));
  ExpectContent();
  auto again = DumpAll(*store_, false);
  ASSERT_OK(again);
  EXPECT_EQ(again->at("data"), before->at("data"));
  EXPECT_EQ(History().size(), 9u);  // 2 up, 2 down, 2 up, 1 cleanup, 2 down
}

TEST_P(MigrateTest, UpAtNewestWritesNothing) {
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  Dump before = DumpNow();
  refkv::testing::FaultStore counting(*store_);
  auto again = Up(counting, MakeRegistry(), Fast());
  ASSERT_OK(again);
  EXPECT_TRUE(again->applied.empty());
  EXPECT_TRUE(again->plan.steps.empty());
  EXPECT_EQ(counting.writes(), 0);
  EXPECT_EQ(DumpNow(), before);
}

TEST_P(MigrateTest, DryRunWritesNothingAndListsWhatTheRunRecords) {
  Dump before = DumpNow();
  RunOptions dry = Fast();
  dry.dry_run = true;
  refkv::testing::FaultStore counting(*store_);
  auto plan = Up(counting, MakeRegistry(), dry);
  ASSERT_OK(plan);
  EXPECT_EQ(counting.writes(), 0);
  EXPECT_EQ(DumpNow(), before);
  ASSERT_EQ(plan->plan.steps.size(), 2u);
  EXPECT_EQ(plan->plan.steps[0].estimate.rows, kRows);
  EXPECT_EQ(plan->plan.total.bytes, kRows * 64 + kRows * 32);

  auto real = Up(*store_, MakeRegistry(), Fast());
  ASSERT_OK(real);
  auto history = History();
  ASSERT_EQ(history.size(), plan->plan.steps.size());
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].step_id, plan->plan.steps[i].id);
    EXPECT_EQ(history[i].from, plan->plan.steps[i].from);
    EXPECT_EQ(history[i].to, plan->plan.steps[i].to);
    EXPECT_EQ(history[i].direction, plan->plan.steps[i].direction);
  }

  // The same for down.
  RunOptions dry_down = dry;
  dry_down.to = 1;
  Dump at3 = DumpNow();
  auto down_plan = Down(*store_, MakeRegistry(), dry_down);
  ASSERT_OK(down_plan);
  EXPECT_EQ(DumpNow(), at3);
  RunOptions down = Fast();
  down.to = 1;
  auto done = Down(*store_, MakeRegistry(), down);
  ASSERT_OK(done);
  ASSERT_EQ(done->applied.size(), down_plan->plan.steps.size());
  for (size_t i = 0; i < done->applied.size(); ++i) {
    EXPECT_EQ(done->applied[i].step_id, down_plan->plan.steps[i].id);
    EXPECT_EQ(done->applied[i].direction, Direction::kDown);
  }
}

TEST_P(MigrateTest, ChangedStepFingerprintIsRefusedNamingTheStep) {
  RunOptions to2 = Fast();
  to2.to = 2;
  ASSERT_OK(Up(*store_, MakeRegistry(), to2));
  Dump before = DumpNow();
  SyntheticOptions changed;
  changed.format_b_fingerprint = "format-b v2";
  auto up = Up(*store_, MakeRegistry(changed), Fast());
  ASSERT_FALSE(up.ok());
  EXPECT_TRUE(up.status().IsVersionMismatch()) << up.status().ToString();
  EXPECT_NE(up.status().message().find("'format-b'"), std::string::npos) << up.status().ToString();
  RunOptions down = Fast();
  down.to = 1;
  EXPECT_TRUE(Down(*store_, MakeRegistry(changed), down).status().IsVersionMismatch());
  EXPECT_TRUE(PlanUp(*store_, MakeRegistry(changed), {}).status().IsVersionMismatch());
  EXPECT_EQ(DumpNow(), before);
  EXPECT_OK(Up(*store_, MakeRegistry(), Fast()));  // the original binary goes on
}

TEST_P(MigrateTest, MinimumStartVersionSpellsOutThePath) {
  SyntheticOptions o;
  o.with_seal = true;
  o.seal_min_start = 3;
  Dump before = DumpNow();
  auto plan = PlanUp(*store_, MakeRegistry(o), {});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(plan.status().IsVersionMismatch());
  EXPECT_NE(
      plan.status().message().find("'refkv migrate up --to 3', then 'refkv migrate up --to 4'"),
      std::string::npos)
      << plan.status().ToString();
  EXPECT_NE(plan.status().message().find("'seal'"), std::string::npos);
  EXPECT_FALSE(Up(*store_, MakeRegistry(o), Fast()).ok());
  EXPECT_EQ(DumpNow(), before);
  RunOptions to3 = Fast();
  to3.to = 3;
  ASSERT_OK(Up(*store_, MakeRegistry(o), to3));
  ASSERT_OK(Up(*store_, MakeRegistry(o), Fast()));
  EXPECT_EQ(Schema(), 4);
}

TEST_P(MigrateTest, StoreTooOldOrTooNewIsRefusedWithWhatToDo) {
  StepRegistry newer(1, "run refkv 0.1 'migrate up' first");
  MigrationStep s;
  s.id = "two-three";
  s.from = 2;
  s.to = 3;
  s.up = [](StepContext&) { return Status::OK(); };
  ASSERT_OK(newer.Add(s));
  auto plan = PlanUp(*store_, newer, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(plan.status().IsVersionMismatch());
  EXPECT_NE(plan.status().message().find("refkv 0.1"), std::string::npos);
  EXPECT_NE(plan.status().message().find("oldest schema this refkv"), std::string::npos);

  StepRegistry older(1);  // knows nothing past 1
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  auto refused = Up(*store_, older, Fast());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsVersionMismatch());
  EXPECT_NE(refused.status().message().find("schema 3 is newer"), std::string::npos)
      << refused.status().ToString();
}

TEST_P(MigrateTest, IrreversibleStepRefusesDownWithItsReason) {
  SyntheticOptions o;
  o.with_seal = true;
  ASSERT_OK(Up(*store_, MakeRegistry(o), Fast()));
  auto plan = PlanUp(*store_, MakeRegistry(o), {});
  ASSERT_OK(plan);
  RunOptions down = Fast();
  down.to = 1;
  Dump before = DumpNow();
  auto d = Down(*store_, MakeRegistry(o), down);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsUnsupported());
  EXPECT_NE(d.status().message().find("sealing cannot be undone"), std::string::npos);
  EXPECT_EQ(DumpNow(), before);
}

TEST_P(MigrateTest, InterruptedStepBlocksOpenAndTheNextRunResumes) {
  SyntheticOptions failing;
  std::atomic<int> batches{0};
  failing.on_batch = [&](const std::string& step, int batch) {
    ++batches;
    return step == "format-b" && batch == 4 ? Status::IOError("injected") : Status::OK();
  };
  auto up = Up(*store_, MakeRegistry(failing), Fast());
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.status().message().find("rerun"), std::string::npos) << up.status().ToString();
  auto v = Version(*store_, MakeRegistry());
  ASSERT_OK(v);
  EXPECT_EQ(v->state_name, "migrating");
  EXPECT_EQ(v->state.step_id, "format-b");
  EXPECT_EQ(v->state.rows_done, 4 * 20);

  OpenOptions plain;
  plain.code_schema_version = 3;
  plain.allow_older_schema = true;
  auto refused = InitOrCheckMetadata(*store_, plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("refkv migrate up"), std::string::npos);
  EXPECT_NE(refused.status().message().find("1->2"), std::string::npos)
      << refused.status().ToString();
  if (GetParam() != "mem") {  // a real reopen is refused the same way
    ASSERT_OK(store_->Close());
    store_.reset();
    auto reopened = kv::Open(uri_, plain);
    ASSERT_FALSE(reopened.ok());
    EXPECT_NE(reopened.status().message().find("mid-migration"), std::string::npos);
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  SyntheticOptions counting;
  std::atomic<int> rows_written{0};
  counting.on_batch = [&](const std::string& step, int) {
    if (step == "format-b") rows_written += 20;
    return Status::OK();
  };
  auto resumed = Up(*store_, MakeRegistry(counting), Fast());
  ASSERT_OK(resumed);
  EXPECT_TRUE(resumed->plan.steps[0].resumes);
  EXPECT_LE(rows_written.load(), kRows - 80 + 20) << "resumed from the cursor";
  EXPECT_EQ(resumed->applied[0].rows, kRows);
  ExpectContent();
  EXPECT_OK(InitOrCheckMetadata(*store_, plain));
}

TEST_P(MigrateTest, InterruptedStepInTheOtherDirectionIsAbandonedForFree) {
  SyntheticOptions failing;
  failing.on_batch = [](const std::string& step, int batch) {
    return step == "format-b" && batch == 3 ? Status::IOError("injected") : Status::OK();
  };
  ASSERT_FALSE(Up(*store_, MakeRegistry(failing), Fast()).ok());
  RunOptions down = Fast();
  down.to = 1;
  auto plan = Down(*store_, MakeRegistry(), [&] {
    RunOptions dry = down;
    dry.dry_run = true;
    return dry;
  }());
  ASSERT_OK(plan);
  EXPECT_NE(plan->plan.abandons.find("format-b"), std::string::npos);
  EXPECT_TRUE(plan->plan.steps.empty());
  auto d = Down(*store_, MakeRegistry(), down);
  ASSERT_OK(d);
  EXPECT_TRUE(d->applied.empty());
  EXPECT_EQ(Schema(), 1);
  auto v = Version(*store_, MakeRegistry());
  ASSERT_OK(v);
  EXPECT_EQ(v->state_name, "ready");
  ExpectContent();
  // The partial new form waits for cleanup, which drops it.
  auto status = GetStatus(*store_, MakeRegistry());
  ASSERT_OK(status);
  EXPECT_EQ(status->kept, std::vector<std::string>{"format-b"});
  ASSERT_OK(Cleanup(*store_, MakeRegistry(), Fast()));
  auto dump = DumpAll(*store_, false);
  ASSERT_OK(dump);
  EXPECT_EQ(dump->count("data_b"), 0u);
  ExpectContent();

  // And the other way: an interrupted down, then up.
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  SyntheticOptions failing_down;
  failing_down.on_batch = [](const std::string& step, int batch) {
    return step == "format-b" && batch == 2 ? Status::IOError("injected") : Status::OK();
  };
  ASSERT_FALSE(Down(*store_, MakeRegistry(failing_down), down).ok());
  EXPECT_EQ(Schema(), 2);  // "index" went down, "format-b" was interrupted
  auto up = Up(*store_, MakeRegistry(), Fast());
  ASSERT_OK(up);
  EXPECT_FALSE(up->plan.abandons.empty());
  ASSERT_EQ(up->applied.size(), 1u);
  EXPECT_EQ(up->applied[0].step_id, "index");
  ExpectContent();
}

TEST_P(MigrateTest, ProgressIsReportedAtEveryCheckpoint) {
  std::vector<Progress> seen;
  RunOptions o = Fast();
  o.progress = [&](const Progress& p) { seen.push_back(p); };
  ASSERT_OK(Up(*store_, MakeRegistry(), o));
  ASSERT_EQ(seen.size(), 2u * kRows / 20);
  EXPECT_EQ(seen.front().step_id, "format-b");
  EXPECT_EQ(seen.front().rows_done, 20);
  EXPECT_EQ(seen.front().rows_total, kRows);
  EXPECT_EQ(seen.back().step_id, "index");
  EXPECT_EQ(seen.back().rows_done, kRows);
  for (size_t i = 1; i < seen.size(); ++i) {
    if (seen[i].step_id == seen[i - 1].step_id) {
      EXPECT_GT(seen[i].rows_done, seen[i - 1].rows_done);
    }
  }
}

TEST_P(MigrateTest, SecondRunWaitsThenFailsNamingTheHolder) {
  Gate reached, release;
  SyntheticOptions blocking;
  blocking.on_batch = [&](const std::string& step, int batch) {
    if (step == "format-b" && batch == 2) {
      reached.Open();
      release.Wait();
    }
    return Status::OK();
  };
  // Both runs on test time: the holder's lease cannot expire because its renewer
  // starved, and the second run's wait is exactly its lock timeout.
  ManualClock clock;
  RunOptions o = Fast();
  o.clock = &clock;
  Result<RunResult> first = Status::Internal("not run");
  std::thread holder([&] { first = Up(*store_, MakeRegistry(blocking), o); });
  reached.Wait();

  auto status = GetStatus(*store_, MakeRegistry(), &clock);
  ASSERT_OK(status);
  EXPECT_EQ(status->version.state_name, "migrating");
  EXPECT_EQ(status->version.state.rows_done, 40);  // progress of the running step
  ASSERT_TRUE(status->lease.has_value());
  EXPECT_EQ(status->lease->pid, getpid());

  RunOptions impatient = o;
  impatient.lock_timeout_ms = 200;
  const int64_t start = clock.NowMs();
  Result<RunResult> second = Status::Internal("not run");
  {
    // Time moves while the holder's renewer and the second run's wait both sleep.
    refkv::testing::ClockTicker ticker(&clock, 5, 2);
    second = Up(*store_, MakeRegistry(), impatient);
  }
  const int64_t waited = clock.NowMs() - start;
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy());
  EXPECT_GE(waited, 200);
  EXPECT_LT(waited, 200 + 100);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(getpid())), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find("host "), std::string::npos);
  EXPECT_TRUE(Unlock(*store_, false, &clock).IsBusy());

  release.Open();
  holder.join();
  ASSERT_OK(first);
  ExpectContent();
  EXPECT_EQ(History().size(), 2u);
}

void ConcurrentUps(MigrateTest* t, Store& store, int threads) {
  std::vector<std::thread> pool;
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::atomic<int> applied{0};
  SyntheticOptions slow;
  slow.sleep_us_per_batch = 200;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      RunOptions o = Fast();
      o.lock_timeout_ms = i % 2 == 0 ? 20000 : 50;
      auto r = Up(store, MakeRegistry(slow), o);
      if (r.ok()) {
        ++ok;
        applied += static_cast<int>(r->applied.size());
      } else if (r.status().IsBusy()) {
        ++busy;
      } else {
        ++other;
        ADD_FAILURE() << r.status().ToString();
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(ok.load(), 1);
  EXPECT_EQ(applied.load(), 2) << "exactly one run migrated";
}

TEST_P(MigrateTest, TwoAndFourConcurrentRunsMigrateOnce) {
  ConcurrentUps(this, *store_, 2);
  ExpectContent();
  EXPECT_EQ(History().size(), 2u);
  RunOptions down = Fast();
  down.to = 1;
  ASSERT_OK(Down(*store_, MakeRegistry(), down));
  ConcurrentUps(this, *store_, 4);
  ExpectContent();
  EXPECT_EQ(History().size(), 6u);
}

TEST_P(MigrateTest, StalledHolderIsTakenOverAndFencedOut) {
  Gate stalled, resume;
  std::atomic<bool> first{true};
  SyntheticOptions stalling;
  stalling.on_batch = [&](const std::string& step, int batch) {
    if (step == "format-b" && batch == 3 && first.exchange(false)) {
      stalled.Open();
      resume.Wait();  // a SIGSTOP or a long GC pause: no renewal meanwhile
    }
    return Status::OK();
  };
  RunOptions a_opts = Fast();
  a_opts.lease_ttl_ms = 300;
  StoreWrapper a_store(*store_);  // A's own handle: its lease is never renewed
  test_seam::StalledLease no_renewal(a_store);
  Result<RunResult> a = Status::Internal("not run");
  std::thread holder([&] { a = Up(a_store, MakeRegistry(stalling), a_opts); });
  stalled.Wait();

  RunOptions b_opts = Fast();
  b_opts.lease_ttl_ms = 300;
  b_opts.lock_timeout_ms = 5000;
  auto b = Up(*store_, MakeRegistry(), b_opts);  // waits for the expiry, takes over
  ASSERT_OK(b);
  ASSERT_EQ(b->applied.size(), 2u);
  EXPECT_TRUE(b->plan.steps[0].resumes) << "continued from A's cursor";
  Dump after_b = DumpNow();

  resume.Open();
  holder.join();
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.status().IsBusy()) << a.status().ToString();
  EXPECT_NE(a.status().message().find("lost"), std::string::npos) << a.status().ToString();
  EXPECT_EQ(DumpNow(), after_b) << "the stalled holder wrote nothing after waking up";
  ExpectContent();
  auto history = History();
  ASSERT_EQ(history.size(), 2u);
  for (const auto& e : history) EXPECT_EQ(e.holder, history[0].holder);
}

TEST_P(MigrateTest, ForcedUnlockFencesTheHolder) {
  Gate reached, release;
  SyntheticOptions blocking;
  blocking.on_batch = [&](const std::string& step, int batch) {
    if (step == "format-b" && batch == 1) {
      reached.Open();
      release.Wait();
    }
    return Status::OK();
  };
  Result<RunResult> a = Status::Internal("not run");
  std::thread holder([&] { a = Up(*store_, MakeRegistry(blocking), Fast()); });
  reached.Wait();
  EXPECT_TRUE(Unlock(*store_, false).IsBusy());
  ASSERT_OK(Unlock(*store_, true));
  release.Open();
  holder.join();
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.status().IsBusy()) << a.status().ToString();
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));  // the next run finishes the job
  ExpectContent();
}

TEST_P(MigrateTest, FreeSpacePreflightRefusesBeforeAnyWrite) {
  Dump before = DumpNow();
  RunOptions o = Fast();
  o.free_space = [](Store&) -> Result<int64_t> { return int64_t{100}; };
  auto r = Up(*store_, MakeRegistry(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIOError());
  EXPECT_NE(r.status().message().find("not enough free space"), std::string::npos);
  EXPECT_EQ(DumpNow(), before);
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));  // default check (statvfs on rocks) passes
}

TEST_P(MigrateTest, BackupBeforeTheFirstStep) {
  RunOptions o = Fast();
  o.no_backup = false;
  o.backup_dir = dir_.Sub("backups");
  std::filesystem::create_directories(o.backup_dir);
  Dump before = DumpNow();
  auto r = Up(*store_, MakeRegistry(), o);
  ASSERT_OK(r);
  ASSERT_FALSE(r->backup.empty());
  if (!rocks()) {
    // No files of its own to checkpoint: the module takes a dump into backup_dir.
    EXPECT_EQ(r->backup.rfind(o.backup_dir + "/", 0), 0u) << r->backup;
    EXPECT_NE(r->backup.find(".dump"), std::string::npos) << r->backup;
    EXPECT_TRUE(std::filesystem::is_regular_file(r->backup)) << r->backup;
  }
  for (const auto& e : History()) EXPECT_EQ(e.backup, r->backup);
  if (rocks()) {
    // An unusable backup target is refused before anything is written.
    RunOptions bad = o;
    bad.backup_dir = dir_.Sub("not-a-dir");
    {
      std::FILE* f = std::fopen(bad.backup_dir.c_str(), "w");
      if (f) std::fclose(f);
    }
    ASSERT_OK(Down(*store_, MakeRegistry(), [] {
      RunOptions d = Fast();
      d.to = 1;
      return d;
    }()));
    Dump at1 = DumpNow();
    auto refused = Up(*store_, MakeRegistry(), bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("nothing was changed"), std::string::npos)
        << refused.status().ToString();
    EXPECT_EQ(DumpNow(), at1);
    ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  }
  if (rocks()) {  // restore = open the checkpoint as the store
    auto restored = kv::Open("rocks://" + r->backup);
    ASSERT_OK(restored);
    auto content = LogicalContent(**restored);
    ASSERT_OK(content);
    EXPECT_EQ(*content, Expected(kRows));
    auto v = Version(**restored, MakeRegistry());
    ASSERT_OK(v);
    EXPECT_EQ(v->store_schema, 1);
    EXPECT_EQ(v->state_name, "ready");
    auto restored_dump = DumpAll(**restored);
    ASSERT_OK(restored_dump);
    EXPECT_EQ(*restored_dump, before);
    ASSERT_OK(Up(**restored, MakeRegistry(), Fast()));  // no stale lease in the way
  }
}

void FaultSweep(MigrateTest* t, const std::function<std::unique_ptr<Store>(int)>& fresh, bool down,
                bool sticky) {
  // Count the calls of a clean run first.
  auto probe_store = fresh(0);
  ASSERT_NE(probe_store, nullptr);
  RunOptions o = Fast();
  o.lease_ttl_ms = 50;  // a lease whose release failed expires quickly
  RunOptions down_opts = o;
  down_opts.to = 1;
  if (down) ASSERT_OK(Up(*probe_store, MakeRegistry(), o));
  refkv::testing::FaultStore probe(*probe_store);
  ASSERT_OK(down ? Down(probe, MakeRegistry(), down_opts) : Up(probe, MakeRegistry(), o));
  const bool mem = probe_store->driver() == "mem";
  (void)probe_store->Close();
  const int64_t total = probe.calls();
  const int64_t stride = std::max<int64_t>(1, total / (mem ? 150 : 20));
  int failed_runs = 0;
  for (int64_t n = 1; n <= total; n += stride) {
    SCOPED_TRACE("fault at KV call #" + std::to_string(n) + " of " + std::to_string(total));
    auto store = fresh(static_cast<int>(n));
    ASSERT_NE(store, nullptr);
    if (down) ASSERT_OK(Up(*store, MakeRegistry(), o));
    refkv::testing::FaultStore faulty(*store);
    refkv::testing::CallCounter counter;  // the n-th call fails (sticky: every later one too)
    counter.Arm(static_cast<uint64_t>(n), sticky, refkv::testing::Fault::kFailBefore);
    faulty.SetHook(std::ref(counter));
    auto r = down ? Down(faulty, MakeRegistry(), down_opts) : Up(faulty, MakeRegistry(), o);
    if (!r.ok()) ++failed_runs;
    // Never unopenable: the metadata reads, and the migration tooling can open it.
    OpenOptions tooling;
    tooling.code_schema_version = 3;
    tooling.allow_older_schema = tooling.allow_migrating = true;
    ASSERT_OK(InitOrCheckMetadata(*store, tooling));
    auto again = down ? Down(*store, MakeRegistry(), down_opts) : Up(*store, MakeRegistry(), o);
    ASSERT_OK(again);
    auto content = LogicalContent(*store);
    ASSERT_OK(content);
    EXPECT_EQ(*content, Expected(kRows));
    auto md = ReadMetadata(*store);
    ASSERT_OK(md);
    EXPECT_EQ(md->schema_version, down ? 1 : 3);
    auto v = Version(*store, MakeRegistry());
    ASSERT_OK(v);
    EXPECT_EQ(v->state_name, "ready");
    (void)store->Close();
  }
  EXPECT_GT(failed_runs, 0);
}

// The n-th KV call fails (or, sticky, every call from the n-th on), swept over n.
void MigrateTest::Sweep(bool down, bool sticky) {
  int created = 0;
  auto fresh = [&](int) -> std::unique_ptr<Store> {
    std::string uri = FreshUri(GetParam(), dir_, "sweep" + std::to_string(++created));
    OpenOptions opts;
    auto store = kv::Open(uri, opts);
    if (!store.ok() || !Populate(**store, kRows).ok()) return nullptr;
    return std::move(store).value();
  };
  FaultSweep(this, fresh, down, sticky);
}

TEST_P(MigrateTest, FaultInUpNeverBreaksTheStore) { Sweep(false, false); }
TEST_P(MigrateTest, StickyFaultInUpNeverBreaksTheStore) { Sweep(false, true); }
TEST_P(MigrateTest, FaultInDownNeverBreaksTheStore) { Sweep(true, false); }
TEST_P(MigrateTest, StickyFaultInDownNeverBreaksTheStore) { Sweep(true, true); }

TEST_P(MigrateTest, UnlockReleasesAnExpiredLeaseWithoutForce) {
  RunOptions stalled = Fast();
  stalled.lease_ttl_ms = 50;
  StoreWrapper stalled_store(*store_);  // the stalled run's own handle
  test_seam::StalledLease no_renewal(stalled_store);
  Gate reached, release;
  SyntheticOptions blocking;
  blocking.on_batch = [&](const std::string& step, int batch) {
    if (step == "format-b" && batch == 1) {
      reached.Open();
      release.Wait();
    }
    return Status::OK();
  };
  Result<RunResult> a = Status::Internal("not run");
  std::thread holder([&] { a = Up(stalled_store, MakeRegistry(blocking), stalled); });
  reached.Wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_OK(Unlock(*store_, false));  // expired: no force needed
  auto status = GetStatus(*store_, MakeRegistry());
  ASSERT_OK(status);
  ASSERT_TRUE(status->lease.has_value());
  EXPECT_TRUE(status->lease->holder_id.empty());
  release.Open();
  holder.join();
  EXPECT_TRUE(a.status().IsBusy()) << a.status().ToString();
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  ExpectContent();
}

TEST_P(MigrateTest, VersionAndStatusReadAStoreNewerThanTheCode) {
  ASSERT_OK(Up(*store_, MakeRegistry(), Fast()));
  StepRegistry older(1);
  auto v = Version(*store_, older);
  ASSERT_OK(v);
  EXPECT_EQ(v->store_schema, 3);
  EXPECT_EQ(v->code_schema, 1);
  EXPECT_OK(GetStatus(*store_, older));
}

TEST(OpenAndMigrateTest, CreatesAtNewestAndMigratesOlderStores) {
  refkv::testing::TempDir dir("migrate-open");
  StepRegistry steps = MakeRegistry();
  RunOptions o = Fast();
  auto fresh = OpenAndMigrate("rocks://" + dir.Sub("new"), steps, o);
  ASSERT_OK(fresh);
  auto md = ReadMetadata(**fresh);
  ASSERT_OK(md);
  EXPECT_EQ(md->schema_version, 3);  // a new store starts at the newest schema
  ASSERT_OK((*fresh)->Close());

  {
    auto old = kv::Open("rocks://" + dir.Sub("old"));  // created by code of schema 1
    ASSERT_OK(old);
    ASSERT_OK(Populate(**old, kRows));
    ASSERT_OK((*old)->Close());
  }
  OpenOptions app;
  app.code_schema_version = steps.newest();
  auto refused = kv::Open("rocks://" + dir.Sub("old"), app);
  EXPECT_TRUE(refused.status().IsVersionMismatch());
  auto migrated = OpenAndMigrate("rocks://" + dir.Sub("old"), steps, o);
  ASSERT_OK(migrated);
  auto content = LogicalContent(**migrated);
  ASSERT_OK(content);
  EXPECT_EQ(*content, Expected(kRows));
  ASSERT_OK((*migrated)->Close());
  EXPECT_OK(kv::Open("rocks://" + dir.Sub("old"), app));
}

TEST(StepRegistryTest, RejectsMalformedSteps) {
  StepRegistry r;
  MigrationStep s;
  s.id = "a";
  s.from = 1;
  s.to = 3;
  s.up = [](StepContext&) { return Status::OK(); };
  EXPECT_TRUE(r.Add(s).IsInvalidArgument());
  s.to = 2;
  EXPECT_TRUE(r.Add(s).ok());
  EXPECT_TRUE(r.Add(s).IsInvalidArgument());  // duplicate
  MigrationStep gap = s;
  gap.id = "b";
  gap.from = 5;
  gap.to = 6;
  EXPECT_TRUE(r.Add(gap).IsInvalidArgument());
  MigrationStep no_up;
  no_up.id = "c";
  no_up.from = 2;
  no_up.to = 3;
  EXPECT_TRUE(r.Add(no_up).IsInvalidArgument());
  EXPECT_EQ(r.newest(), 2);
  EXPECT_EQ(r.oldest_upgradable(), 1);
  EXPECT_NE(s.Fingerprint(), gap.Fingerprint());
}

INSTANTIATE_TEST_SUITE_P(Drivers, MigrateTest, ::testing::Values("mem", "rocks", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::kv::migrate::testing
