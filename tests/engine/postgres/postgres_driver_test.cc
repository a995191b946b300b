// What only the PostgreSQL driver does: several processes on one database, a server that
// goes away and comes back, connection errors, timeouts, paged scans, URI parameters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "engine/open.h"
#include "tests/engine/conformance.h"
#include "tests/engine/postgres/pg_test_env.h"

namespace refkv::kv::testing {

namespace {

using refkv::testing::PgServer;
using refkv::testing::SharedPostgresUri;
using refkv::testing::WithParam;

const auto* const kServerEnv = ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

std::unique_ptr<Store> OpenOrDie(const std::string& uri, const OpenOptions& options = {}) {
  auto store = kv::Open(uri, options);
  EXPECT_TRUE(store.ok()) << uri << ": " << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// ---------------------------------------------------------------------------------------
// Several processes increment the same counters with Get + SetIf(equals); they also race
// to create the (new) table and the store metadata at open.

constexpr int kCounters = 3;

// The child: returns per-counter success counts through `fd`, exit code 0 on success.
[[noreturn]] void CountInChild(const std::string& uri, int fd, int attempts, int seed) {
  auto store = kv::Open(uri);
  if (!store.ok()) {
    fprintf(stderr, "child open: %s\n", store.status().ToString().c_str());
    _exit(2);
  }
  std::mt19937 rng(seed);
  int successes[kCounters] = {0, 0, 0};
  for (int i = 0; i < attempts; ++i) {
    int c = static_cast<int>(rng() % kCounters);
    std::string key = "counter-" + std::to_string(c);
    auto cur = (*store)->Get("ctr", key);
    Status st;
    if (cur.status().IsNotFound()) {
      st = (*store)->SetIf("ctr", key, "1", Predicate::Absent());
    } else if (cur.ok()) {
      st =
          (*store)->SetIf("ctr", key, std::to_string(std::stoi(*cur) + 1), Predicate::Equals(*cur));
    } else {
      fprintf(stderr, "child get: %s\n", cur.status().ToString().c_str());
      _exit(3);
    }
    if (st.ok()) {
      successes[c]++;
    } else if (!st.IsPredicateFailed()) {
      fprintf(stderr, "child setif: %s\n", st.ToString().c_str());
      _exit(4);
    }
  }
  if (write(fd, successes, sizeof(successes)) != sizeof(successes)) _exit(5);
  (void)(*store)->Close();
  _exit(0);
}

TEST(PostgresDriver, ProcessesIncrementingCountersLoseNoUpdate) {
  auto uri = FreshTableUri();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  constexpr int kProcesses = 4, kAttempts = 150;
  std::vector<std::pair<pid_t, int>> children;
  for (int p = 0; p < kProcesses; ++p) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CountInChild(*uri, fds[1], kAttempts, 1000 + p);
    }
    close(fds[1]);
    children.emplace_back(pid, fds[0]);
  }
  int total[kCounters] = {0, 0, 0};
  int sum = 0;
  for (auto [pid, fd] : children) {
    int counts[kCounters] = {0, 0, 0};
    ssize_t n = read(fd, counts, sizeof(counts));
    close(fd);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "child " << pid << " failed, status " << status;
    ASSERT_EQ(n, static_cast<ssize_t>(sizeof(counts)));
    for (int c = 0; c < kCounters; ++c) total[c] += counts[c];
  }
  auto store = OpenOrDie(*uri);
  ASSERT_NE(store, nullptr);
  for (int c = 0; c < kCounters; ++c) {
    auto v = store->Get("ctr", "counter-" + std::to_string(c));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(std::stoi(*v), total[c]) << "counter " << c;
    sum += total[c];
  }
  EXPECT_GT(sum, kAttempts / 2) << "processes mostly failed their SetIf";
}

// ---------------------------------------------------------------------------------------
// The server is stopped (fast, then immediate: a crash) and restarted mid-workload.

TEST(PostgresDriver, ServerRestartsMidWorkloadLoseNoAcknowledgedWrite) {
  auto server = PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = OpenOrDie((*server)->Uri() + "&table=fault&max_open_connections=4");
  ASSERT_NE(store, nullptr);

  struct Tally {
    std::map<std::string, std::string> acknowledged;
    int unknown = 0, failed = 0, predicate_failed = 0, ok_after_last_restart = 0;
    std::string first_unexpected;
  };
  constexpr int kWorkers = 3;
  std::vector<Tally> tallies(kWorkers);
  std::atomic<bool> stop{false};
  std::atomic<int> phase{0};  // incremented at each restart
  std::vector<std::thread> workers;
  for (int t = 0; t < kWorkers; ++t) {
    workers.emplace_back([&, t] {
      Tally& tally = tallies[t];
      for (int i = 0; !stop.load(); ++i) {
        // (appends, not "w" + std::string: a GCC 12 -Wrestrict false positive)
        std::string key = "w";
        key += std::to_string(t);
        key += "-";
        key += std::to_string(i);
        std::string value = "v";
        value += std::to_string(i);
        int at_phase = phase.load();
        Status st;
        std::vector<std::string> keys{key};
        switch (i % 3) {
          case 0:
            st = store->SetIf("f", key, value, Predicate::Absent());
            break;
          case 1:
            st = store->Set("f", key, value);
            break;
          default: {
            WriteBatch batch;
            keys = {key + "/a", key + "/b", key + "/c"};
            for (auto& k : keys) batch.Put(k, value);
            st = store->Write("f", batch);
          }
        }
        if (st.ok()) {
          for (auto& k : keys) tally.acknowledged[k] = value;
          if (at_phase == 4) tally.ok_after_last_restart++;
        } else if (st.IsUnknownOutcome()) {
          tally.unknown++;
        } else if (st.IsPredicateFailed()) {
          tally.predicate_failed++;  // a fresh key: only if a retried write had happened
          if (tally.first_unexpected.empty()) tally.first_unexpected = st.ToString();
        } else {
          tally.failed++;
          if (!st.IsIOError() && tally.first_unexpected.empty()) {
            tally.first_unexpected = st.ToString();
          }
        }
      }
    });
  }
  auto pause = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  pause(300);
  // Longer down than the driver's retry budget (~0.85 s), so some calls must fail.
  ASSERT_TRUE((*server)->Stop(/*immediate=*/false).ok());
  phase++;
  pause(1200);
  ASSERT_TRUE((*server)->Start().ok());
  phase++;
  pause(400);
  ASSERT_TRUE((*server)->Stop(/*immediate=*/true).ok());
  phase++;
  pause(1200);
  ASSERT_TRUE((*server)->Start().ok());
  phase++;
  pause(600);
  stop = true;
  for (auto& w : workers) w.join();

  int acknowledged = 0, unknown = 0, failed = 0, after = 0;
  for (auto& tally : tallies) {
    EXPECT_EQ(tally.predicate_failed, 0) << tally.first_unexpected;
    EXPECT_TRUE(tally.first_unexpected.empty()) << tally.first_unexpected;
    for (auto& [k, v] : tally.acknowledged) {
      auto got = store->Get("f", k);
      ASSERT_TRUE(got.ok()) << "acknowledged write of " << k
                            << " lost: " << got.status().ToString();
      EXPECT_EQ(*got, v) << k;
    }
    acknowledged += tally.acknowledged.size();
    unknown += tally.unknown;
    failed += tally.failed;
    after += tally.ok_after_last_restart;
  }
  EXPECT_GT(failed + unknown, 0) << "the outages went unnoticed: the test tested nothing";
  EXPECT_GT(after, 0) << "no write succeeded after the last restart";
  EXPECT_GT(acknowledged, 0);
  // The same store object works without reopening.
  ASSERT_TRUE(store->Set("f", "after", "restart").ok());
  auto got = store->Get("f", "after");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "restart");
  std::printf("acknowledged %d, unknown outcome %d, failed %d\n", acknowledged, unknown, failed);
}

// ---------------------------------------------------------------------------------------
// Errors at open and per call.

TEST(PostgresDriver, ConnectionErrorsAreClearAndTheStoreReconnects) {
  auto server = PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  PgServer& pg = **server;
  ASSERT_TRUE(
      pg.Exec("GRANT CREATE ON SCHEMA public TO " + std::string(refkv::testing::kPasswordUser))
          .ok());
  const std::string uri = pg.Uri() + "&table=errors";

  // Missing database: NotFound naming it.
  auto missing = kv::Open("postgres:///nosuchdb?host=" + pg.dir() +
                          "&port=" + std::to_string(pg.port()) + "&user=postgres");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("nosuchdb"), std::string::npos);

  // Authentication: a wrong password fails clearly and is not retryable; the right one works.
  const std::string pw_base = "postgres:///postgres?host=" + pg.dir() +
                              "&port=" + std::to_string(pg.port()) +
                              "&user=" + std::string(refkv::testing::kPasswordUser);
  auto wrong = kv::Open(pw_base + "&password=wrong&table=pw");
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().IsIOError()) << wrong.status().ToString();
  EXPECT_FALSE(wrong.status().retryable());
  EXPECT_NE(wrong.status().message().find("authentication failed"), std::string::npos)
      << wrong.status().ToString();
  auto nopw = kv::Open(pw_base + "&table=pw");
  ASSERT_FALSE(nopw.ok());
  EXPECT_NE(nopw.status().message().find("authentication failed"), std::string::npos)
      << nopw.status().ToString();
  auto right =
      kv::Open(pw_base + "&password=" + std::string(refkv::testing::kPassword) + "&table=pw");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_TRUE((*right)->Set("p", "k", "v").ok());

  // The libpq keyword/value form.
  std::string conninfo = "host%3D" + pg.dir() + "%20port%3D" + std::to_string(pg.port()) +
                         "%20user%3Dpostgres%20dbname%3Dpostgres";
  auto keyword = kv::Open("postgres://?conninfo=" + conninfo + "&table=errors");
  ASSERT_TRUE(keyword.ok()) << keyword.status().ToString();
  ASSERT_TRUE((*keyword)->Set("p", "k", "via conninfo").ok());

  auto store = OpenOrDie(uri);
  ASSERT_NE(store, nullptr);
  auto got = store->Get("p", "k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "via conninfo");

  // Server down: open fails naming the socket; calls on an open store fail after retries.
  ASSERT_TRUE(pg.Stop().ok());
  auto down = kv::Open(uri);
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.status().IsIOError()) << down.status().ToString();
  EXPECT_TRUE(down.status().retryable());
  EXPECT_NE(down.status().message().find(pg.dir()), std::string::npos)
      << "must name the socket: " << down.status().ToString();
  auto start = std::chrono::steady_clock::now();
  auto lost = store->Get("p", "k");
  EXPECT_TRUE(lost.status().IsIOError()) << lost.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  Status setif = store->SetIf("p", "new", "v", Predicate::Absent());
  EXPECT_TRUE(setif.IsIOError()) << "never sent, so not unknown: " << setif.ToString();

  // Back up: the same store object reconnects.
  ASSERT_TRUE(pg.Start().ok());
  got = store->Get("p", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "via conninfo");
  EXPECT_TRUE(store->SetIf("p", "new", "v", Predicate::Absent()).ok());
}

TEST(PostgresDriver, ConnectTimeoutIsTimeout) {
  // A TCP listener that never answers: the handshake completes in the kernel, then libpq
  // waits for the server's reply until connect_timeout.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string uri = "postgres://postgres@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                    "/postgres?connect_timeout=1&sslmode=disable&gssencmode=disable";
  auto start = std::chrono::steady_clock::now();
  auto store = kv::Open(uri);
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(fd);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kTimeout) << store.status().ToString();
  EXPECT_NE(store.status().message().find("127.0.0.1"), std::string::npos)
      << store.status().ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

// Holds an exclusive lock on a table through a raw libpq session.
class TableLock {
 public:
  TableLock(const std::string& base_uri, const std::string& table) {
    conn_ = PQconnectdb(base_uri.c_str());
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    std::string sql = "BEGIN; LOCK TABLE public.\"" + table + "\" IN ACCESS EXCLUSIVE MODE";
    PGresult* r = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);
  }
  ~TableLock() { PQfinish(conn_); }  // the transaction rolls back, releasing the lock

 private:
  PGconn* conn_;
};

TEST(PostgresDriver, StatementTimeoutIsTimeoutAndWritesNothing) {
  auto base = SharedPostgresUri();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  std::string table = FreshTableName("timeout");
  auto store = OpenOrDie(WithParam(*base, "table", table) + "&statement_timeout_ms=100");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Set("p", "k", "v").ok());
  {
    TableLock lock(*base, table);
    auto start = std::chrono::steady_clock::now();
    auto got = store->Get("p", "k");
    EXPECT_EQ(got.status().code(), StatusCode::kTimeout) << got.status().ToString();
    Status setif = store->SetIf("p", "k2", "v", Predicate::Absent());
    EXPECT_EQ(setif.code(), StatusCode::kTimeout) << setif.ToString();
    Status write = store->Set("p", "k3", "v");
    EXPECT_EQ(write.code(), StatusCode::kTimeout) << write.ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  }
  auto got = store->Get("p", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(store->Get("p", "k2").status().IsNotFound());
  EXPECT_TRUE(store->SetIf("p", "k2", "v", Predicate::Absent()).ok());
}

// ---------------------------------------------------------------------------------------
// Paged scans.

TEST(PostgresDriver, ScansPageThroughManyKeysInOrder) {
  auto uri = FreshTableUri();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto store = OpenOrDie(*uri);
  ASSERT_NE(store, nullptr);
  constexpr int kKeys = 6000;
  std::vector<std::string> want;
  WriteBatch batch;
  for (int i = 0; i < kKeys; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    want.push_back(key);
    batch.Put(key, std::string(key) + "=v");
  }
  ASSERT_TRUE(store->Write("big", batch).ok());
  ASSERT_TRUE(store->Set("big2", "k000001", "other").ok());
  EXPECT_EQ(Keys(*store, "big"), want);  // 64 + 256 + 1024 + 4096 + 4096 pages
  ScanOptions small;
  small.batch_size = 7;
  small.start = "k000100";
  small.end = "k000200";
  EXPECT_EQ(Keys(*store, "big", small),
            std::vector<std::string>(want.begin() + 100, want.begin() + 200));
  auto it = store->Scan("big", {});
  ASSERT_TRUE(it.ok());
  (*it)->Seek("k005000");
  ASSERT_TRUE((*it)->Valid());
  EXPECT_EQ((*it)->key(), "k005000");
  EXPECT_EQ((*it)->value(), "k005000=v");
  EXPECT_EQ(Drain(**it).size(), 1000u);
  auto many = store->MultiGet("big", {"k000000", "nope", "k005999"});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ((*many)[0].value_or(""), "k000000=v");
  EXPECT_TRUE((*many)[1].status().IsNotFound());
  EXPECT_EQ((*many)[2].value_or(""), "k005999=v");
  ASSERT_TRUE(store->DeleteRange("big", "k001000", "k005000").ok());
  EXPECT_EQ(Keys(*store, "big").size(), 2000u);
  ASSERT_TRUE(store->DropPartition("big").ok());
  EXPECT_TRUE(Keys(*store, "big").empty());
  EXPECT_EQ(Keys(*store, "big2").size(), 1u);
}

// InsertNew (the bulk path of kv migrate: COPY) adds binary rows atomically and
// refuses, writing nothing, a batch with a key that exists or appears twice.
TEST(PostgresDriver, InsertNewCopiesRowsAndRefusesExistingKeysWritingNothing) {
  auto uri = FreshTableUri();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto store = OpenOrDie(*uri);
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  std::vector<std::string> want;
  std::string binary("\0\xff\r\n\\", 5);
  for (int i = 0; i < 2500; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    want.push_back(key);
    batch.Put(key, i == 7 ? std::string() : binary + std::to_string(i));
  }
  const std::string partition("p\0bin", 5);
  ASSERT_TRUE(store->InsertNew(partition, batch).ok());
  EXPECT_EQ(Keys(*store, partition), want);
  EXPECT_EQ(store->Get(partition, "k000007").value_or("?"), "");
  EXPECT_EQ(store->Get(partition, "k002499").value_or(""), binary + "2499");

  WriteBatch clash;
  clash.Put("new-1", "v");
  clash.Put("k000100", "other");
  Status s = store->InsertNew(partition, clash);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_TRUE(store->Get(partition, "new-1").status().IsNotFound());
  EXPECT_EQ(store->Get(partition, "k000100").value_or(""), binary + "100");
  WriteBatch twice;
  twice.Put("dup", "1");
  twice.Put("dup", "2");
  EXPECT_TRUE(store->InsertNew("other", twice).IsAlreadyExists());
  EXPECT_TRUE(Keys(*store, "other").empty());
  WriteBatch with_delete;
  with_delete.Put("a", "1");
  with_delete.Delete("b");
  EXPECT_TRUE(store->InsertNew("other", with_delete).IsInvalidArgument());
  EXPECT_TRUE(store->InsertNew("other", WriteBatch()).ok());
  // The connection is usable afterwards (the failed COPY was rolled back).
  ASSERT_TRUE(store->Set("other", "after", "ok").ok());
  EXPECT_EQ(Keys(*store, "other"), std::vector<std::string>{"after"});
}

TEST(PostgresDriver, LongScanSeesCommittedWritesAheadButNeverAKeyTwice) {
  auto uri = FreshTableUri();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto store = OpenOrDie(*uri);
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (int i = 0; i < 400; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%04d", i);
    batch.Put(key, "old");
  }
  ASSERT_TRUE(store->Write("p", batch).ok());
  auto it = store->Scan("p", {});
  ASSERT_TRUE(it.ok());
  // The first page (64 keys) is in hand; change keys behind and ahead of the cursor.
  ASSERT_TRUE(store->Set("p", "k0001", "behind").ok());  // before the cursor: not seen
  ASSERT_TRUE(store->Set("p", "k0301", "ahead").ok());   // ahead, on a later page: seen
  ASSERT_TRUE(store->Delete("p", "k0302").ok());         // ahead: not seen
  ASSERT_TRUE(store->Set("p", "k0010", "new").ok());     // in the first page: old value
  std::vector<std::string> keys;
  std::map<std::string, std::string> values;
  for (; (*it)->Valid(); (*it)->Next()) {
    keys.emplace_back((*it)->key());
    values[keys.back()] = std::string((*it)->value());
  }
  ASSERT_TRUE((*it)->status().ok());
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  EXPECT_EQ(values.count("k0001"), 0u);
  EXPECT_EQ(values["k0301"], "ahead");
  EXPECT_EQ(values.count("k0302"), 0u);
  EXPECT_EQ(values["k0010"], "old");
  EXPECT_EQ(keys.size(), 200u);  // 200 - k0302 + k0301
}

// ---------------------------------------------------------------------------------------
// Options, parameters, limits.

TEST(PostgresDriver, UriParametersAndOpenOptions) {
  auto base = SharedPostgresUri();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  std::string table = FreshTableName("opts");
  std::string uri = WithParam(*base, "table", table);

  auto bad = kv::Open(uri + "&max_open_connections=0");
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();
  bad = kv::Open(uri + "&statement_timeout_ms=soon");
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();
  bad = kv::Open(*base + "&nosuchlibpqparameter=1");
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();

  OpenOptions no_create;
  no_create.create_if_missing = false;
  auto missing = kv::Open(uri, no_create);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  OpenOptions read_only;
  read_only.read_only = true;
  read_only.skip_metadata = true;
  missing = kv::Open(uri, read_only);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();

  auto store = OpenOrDie(uri);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Set("p", "k", "v").ok());
  auto reader = OpenOrDie(uri, read_only);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->Get("p", "k").value_or(""), "v");
  EXPECT_FALSE(reader->Set("p", "k", "w").ok());

  // Another schema holds another table of the same name.
  std::string schema = FreshTableName("schema");
  auto other = OpenOrDie(uri + "&schema=" + schema);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Get("p", "k").status().IsNotFound());
  bool saw_table = false;
  for (auto& prop : other->Properties()) saw_table |= prop.value.find(schema) != std::string::npos;
  EXPECT_TRUE(saw_table);

  // A key beyond a B-tree entry is InvalidArgument, not a crash or a hang.
  std::string huge(10000, '\0');
  std::mt19937 rng(1);
  for (auto& c : huge) c = static_cast<char>(rng());
  Status st = store->Set("p", huge, "v");
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();

  ASSERT_TRUE(store->Close().ok());
  EXPECT_FALSE(store->Get("p", "k").ok());
  EXPECT_TRUE(store->Close().ok());
}

TEST(PostgresDriver, PoolSmallerThanThreadCountServesEveryone) {
  auto uri = FreshTableUri("max_open_connections=2");
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto store = OpenOrDie(*uri);
  ASSERT_NE(store, nullptr);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        if (!store->Set("p", key, key).ok()) errors++;
        if (store->Get("p", key).value_or("") != key) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(Keys(*store, "p").size(), 120u);
}

}  // namespace
}  // namespace refkv::kv::testing
