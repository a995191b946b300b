// The DynamoDB driver beyond the conformance suite: DynamoDB's limits, paging across
// requests, its errors (missing table, endpoint down, credentials refused, a foreign
// schema), throttling and lost answers (a scripted fake server), and a server killed and
// restarted mid-workload (dynalite on LevelDB files).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "engine/dynamodb/dynamodb_store.h"
#include "engine/dynamodb/http_client.h"
#include "tests/engine/conformance.h"
#include "tests/engine/dynamodb/dynamo_test_env.h"

namespace refkv::kv::testing {
namespace {

::testing::Environment* const kDynalite =
    ::testing::AddGlobalTestEnvironment(new DynaliteEnvironment);

bool Contains(const Status& s, std::string_view text) {
  return s.ToString().find(text) != std::string::npos;
}

Result<std::unique_ptr<Store>> OpenUri(const std::string& text, OpenOptions options = {}) {
  REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse(text));
  return OpenDynamoStore(uri, options);
}

#define OPEN_OR_FAIL(var, uri)                                        \
  auto var##_result = OpenUri(uri);                                   \
  ASSERT_TRUE(var##_result.ok()) << var##_result.status().ToString(); \
  std::unique_ptr<Store> var = std::move(var##_result).value()

TEST(DynamoDriver, BinaryKeysAndValuesWithinTheItemLimit) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "write_mode=batch");
  OPEN_OR_FAIL(s, uri);
  const std::string zero("\0", 1), ff("\xff", 1), mixed("a\0b\xff\x01", 5);
  const std::string part("p\0\xff", 3);
  std::string big(300 << 10, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 8));
  ASSERT_TRUE(s->Set(part, zero, "zero").ok());
  ASSERT_TRUE(s->Set(part, ff, "").ok());
  ASSERT_TRUE(s->Set(part, mixed, big).ok());
  ASSERT_TRUE(s->Set(part, zero + zero, mixed).ok());
  EXPECT_EQ(*s->Get(part, ff), "");
  EXPECT_EQ(*s->Get(part, zero + zero), mixed);
  EXPECT_TRUE(*s->Get(part, mixed) == big);
  EXPECT_EQ(Keys(*s, part), (std::vector<std::string>{zero, zero + zero, mixed, ff}));
}

TEST(DynamoDriver, DynamoLimitsAreInvalidArgumentNamingTheSize) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "write_mode=batch");
  OPEN_OR_FAIL(s, uri);
  // partition "p" + key "k" + 3 bytes of names: the value that fills the item exactly.
  const std::string fits(kDynamoMaxItemBytes - 5, 'v');
  Status at_limit = s->Set("p", "k", fits);
  EXPECT_TRUE(at_limit.ok()) << at_limit.ToString();
  Status over = s->Set("p", "j", fits + "v");
  EXPECT_TRUE(over.IsInvalidArgument()) << over.ToString();
  EXPECT_TRUE(Contains(over, "409601") && Contains(over, "400 KB")) << over.ToString();
  Status over_if = s->SetIf("p", "k3", fits + "v", Predicate::Absent());
  EXPECT_TRUE(over_if.IsInvalidArgument()) << over_if.ToString();
  const std::string long_key(kDynamoMaxSortKeyBytes + 1, 'k');
  Status key = s->Set("p", long_key, "v");
  EXPECT_TRUE(key.IsInvalidArgument() && Contains(key, "1025") && Contains(key, "1024"))
      << key.ToString();
  WriteBatch batch;
  batch.Put("ok", "v");
  batch.Put("k4", fits + "v");
  EXPECT_TRUE(s->Write("p", batch).IsInvalidArgument());
  EXPECT_EQ(Keys(*s, "p"), std::vector<std::string>{"k"}) << "a refused write wrote something";
  EXPECT_TRUE(s->Get("p", long_key).status().IsNotFound());
  EXPECT_TRUE(s->Delete("p", long_key).ok());
}

TEST(DynamoDriver, PagingAcrossRequests) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "write_mode=batch&scan_page_size=7");
  OPEN_OR_FAIL(s, uri);
  WriteBatch batch;
  std::vector<std::string> keys;
  for (int i = 0; i < 120; ++i) {
    char k[8];
    snprintf(k, sizeof k, "k%03d", i);
    keys.push_back(k);
    batch.Put(k, std::string(k) + "v");
  }
  ASSERT_TRUE(s->Write("p", batch).ok());  // 5 BatchWriteItem requests
  EXPECT_EQ(Keys(*s, "p"), keys);          // 18 Query pages
  ScanOptions range{"k010", "k050"};
  EXPECT_EQ(Keys(*s, "p", range), std::vector<std::string>(keys.begin() + 10, keys.begin() + 50));
  std::vector<std::string> wanted(keys);
  wanted.push_back("missing");
  wanted.push_back(keys[3]);            // twice
  auto got = s->MultiGet("p", wanted);  // 2 BatchGetItem requests
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), wanted.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(*(*got)[i], keys[i] + "v");
  EXPECT_TRUE((*got)[120].status().IsNotFound());
  EXPECT_EQ(*(*got)[121], keys[3] + "v");
  ASSERT_TRUE(s->DeleteRange("p", "k020", "k080").ok());  // 3 BatchWriteItem requests
  EXPECT_EQ(Keys(*s, "p").size(), 60u);
  ASSERT_TRUE(s->DropPartition("p").ok());
  EXPECT_TRUE(Keys(*s, "p").empty());
}

TEST(DynamoDriver, AtomicWritesUseTransactionsUpToTheirLimit) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "write_mode=transact");
  OPEN_OR_FAIL(s, uri);
  WriteBatch big;
  for (int i = 0; i <= static_cast<int>(kDynamoMaxTransactItems); ++i) {
    big.Put("k" + std::to_string(i), "v");
  }
  Status refused = s->Write("p", big);
  EXPECT_TRUE(refused.IsInvalidArgument() && Contains(refused, "101") && Contains(refused, "100"))
      << refused.ToString();
  WriteBatch one;
  one.Put("a", "1");
  one.Put("a", "2");  // one distinct key: a plain PutItem
  ASSERT_TRUE(s->Write("p", one).ok());
  EXPECT_EQ(*s->Get("p", "a"), "2");
  WriteBatch two;
  two.Put("b", "1");
  two.Delete("a");
  Status st = s->Write("p", two);
  // dynalite has no TransactWriteItems; DynamoDB applies the batch.
  if (st.IsUnsupported()) {
    EXPECT_TRUE(Contains(st, "TransactWriteItems")) << st.ToString();
    EXPECT_EQ(Keys(*s, "p"), std::vector<std::string>{"a"});
  } else {
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(Keys(*s, "p"), std::vector<std::string>{"b"});
  }
}

TEST(DynamoDriver, OpenErrorsAreOneLineEach) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "");
  OpenOptions no_create;
  no_create.create_if_missing = false;
  auto missing = OpenUri(uri, no_create);
  EXPECT_TRUE(missing.status().IsNotFound() && Contains(missing.status(), "does not exist"))
      << missing.status().ToString();
  // A port nobody listens on (bound, never listening).
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto down =
      OpenUri("dynamodb://t?endpoint=http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
              "&retries=2");
  close(fd);
  EXPECT_TRUE(down.status().IsIOError() &&
              Contains(down.status(), "cannot reach DynamoDB endpoint http://127.0.0.1:"))
      << down.status().ToString();
  EXPECT_TRUE(OpenUri("dynamodb://t?endpoint=ftp://x").status().IsInvalidArgument());
  EXPECT_TRUE(OpenUri("dynamodb://t?nonsense=1").status().IsInvalidArgument());
  EXPECT_TRUE(OpenUri("dynamodb://t?write_mode=maybe").status().IsInvalidArgument());
  const std::string id = getenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_ACCESS_KEY_ID");
  auto no_credentials = OpenUri(uri);
  setenv("AWS_ACCESS_KEY_ID", id.c_str(), 1);
  EXPECT_TRUE(no_credentials.status().IsInvalidArgument() &&
              Contains(no_credentials.status(), "AWS_ACCESS_KEY_ID"))
      << no_credentials.status().ToString();
}

TEST(DynamoDriver, AForeignTableSchemaIsRefused) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "");
  auto parsed = Uri::Parse(uri);
  ASSERT_TRUE(parsed.ok());
  dynamodb::HttpClientOptions options;
  options.endpoint = parsed->Param("endpoint");
  options.region = "us-east-1";
  options.credentials = {getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), ""};
  dynamodb::HttpClient client(options);
  auto r = client.Post("CreateTable",
                       "{\"TableName\":\"" + parsed->location +
                           "\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\","
                           "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"id\","
                           "\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto store = OpenUri(uri);
  EXPECT_TRUE(store.status().IsInvalidArgument() &&
              Contains(store.status(), "key schema (id HASH S)"))
      << store.status().ToString();
}

TEST(DynamoDriver, RegisteredAndDescribedByStoreInfo) {
  REFKV_DYNAMO_URI_OR_SKIP(uri, "");
  auto store = kv::Open(uri);  // through the registry, with the metadata check
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->driver(), "dynamodb");
  EXPECT_TRUE((*store)->shared());
  std::map<std::string, std::string> props;
  for (auto& p : (*store)->Properties()) props[p.name] = p.value;
  auto parsed = Uri::Parse(uri);
  EXPECT_EQ(props["table"], parsed->location);
  EXPECT_EQ(props["endpoint"], parsed->Param("endpoint"));
  EXPECT_EQ(props["region"], "us-east-1");
}

// A fake DynamoDB on loopback answering from a script: one entry per request, "hang"
// never answers (the client times out); past its end, 200 {}. Keeps connections alive.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::pair<int, std::string>> script)
      : script_(std::move(script)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  std::string Uri(std::string_view extra) const {
    return "dynamodb://t?endpoint=http://127.0.0.1:" + std::to_string(port_) + "&" +
           std::string(extra);
  }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      for (;;) {
        size_t head = in.find("\r\n\r\n");
        if (head != std::string::npos) {
          size_t cl = in.find("content-length: ");
          if (cl == std::string::npos) cl = in.find("Content-Length: ");
          size_t body = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
          if (in.size() >= head + 4 + body) {
            in.erase(0, head + 4 + body);
            ++requests_;
            std::pair<int, std::string> next{200, "{}"};  // past the script: success
            if (!script_.empty()) {
              next = script_.front();
              script_.pop_front();
            }
            if (next.second == "hang") {
              std::this_thread::sleep_for(std::chrono::milliseconds(400));
              break;
            }
            std::string out = "HTTP/1.1 " + std::to_string(next.first) +
                              " X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " +
                              std::to_string(next.second.size()) + "\r\n\r\n" + next.second;
            (void)!write(c, out.data(), out.size());
            continue;
          }
        }
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, n);
      }
      close(c);
    }
  }

  std::deque<std::pair<int, std::string>> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

const std::string kActive =
    R"({"Table":{"TableStatus":"ACTIVE","AttributeDefinitions":[{"AttributeName":"p","AttributeType":"B"},{"AttributeName":"k","AttributeType":"B"}],"KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"k","KeyType":"RANGE"}]}})";
const std::string kThrottled =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})";

TEST(DynamoDriverFaults, ThrottlingAndFiveHundredsAreRetried) {
  refkv::testing::SetTestCredentials();
  ScriptedServer server({{200, kActive}, {400, kThrottled}, {500, "{}"}, {200, "{}"}});
  auto store = OpenUri(server.Uri("retries=5"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status set = (*store)->Set("p", "k", "v");
  EXPECT_TRUE(set.ok()) << set.ToString();
  EXPECT_EQ(server.requests(), 4);
}

TEST(DynamoDriverFaults, ALostAnswerToAConditionalWriteIsUnknownOutcome) {
  refkv::testing::SetTestCredentials();
  // Throttled: not executed, retried; then a 500: executed or not, nobody knows - a retry
  // (which the 200 after it would answer) could turn a write that happened into a refusal.
  ScriptedServer five({{200, kActive}, {400, kThrottled}, {500, "{}"}, {200, "{}"}});
  auto store = OpenUri(five.Uri("retries=5&request_timeout_ms=150"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status st = (*store)->SetIf("p", "k", "v", Predicate::Absent());
  EXPECT_TRUE(st.IsUnknownOutcome()) << st.ToString();
  EXPECT_EQ(five.requests(), 3);
  // No answer at all (timeout after the request was sent): the same.
  ScriptedServer silent({{200, kActive}, {0, "hang"}, {200, "{}"}});
  auto other = OpenUri(silent.Uri("retries=5&request_timeout_ms=150"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Status hang = (*other)->DeleteIf("p", "k", Predicate::Exists());
  EXPECT_TRUE(hang.IsUnknownOutcome()) << hang.ToString();
}

TEST(DynamoDriverFaults, RefusedCredentialsAndTimeoutsSaySo) {
  refkv::testing::SetTestCredentials();
  ScriptedServer server(
      {{400,
        R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})"}});
  auto refused = OpenUri(server.Uri("retries=2"));
  EXPECT_TRUE(refused.status().IsIOError() && Contains(refused.status(), "refused the credentials"))
      << refused.status().ToString();
  ScriptedServer silent({{200, kActive}, {0, "hang"}, {0, "hang"}});
  auto store = OpenUri(silent.Uri("retries=2&request_timeout_ms=100"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto got = (*store)->Get("p", "k");
  EXPECT_TRUE(got.status().code() == StatusCode::kTimeout) << got.status().ToString();
}

// dynalite on LevelDB files is killed (SIGKILL) and restarted while a writer runs: every
// acknowledged write is there afterwards; a SetIf never reports a write it did not make
// (fresh keys: PredicateFailed would mean a lost answer was taken for a refusal).
TEST(DynamoDriverFaults, ServerKilledAndRestartedMidWorkload) {
  refkv::testing::SetTestCredentials();
  auto server = refkv::testing::DynaliteServer::Create(/*persistent=*/true);
  if (!server.ok()) REFKV_SKIP_UNLESS_REQUIRED(server.status().ToString());
  const std::string uri =
      refkv::testing::DynamoTableUri((*server)->Endpoint(), "retries=40&request_timeout_ms=2000");
  OPEN_OR_FAIL(s, uri);
  std::atomic<int> done{0};
  std::vector<std::string> acked, unknown;
  std::string failure;
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      std::string k = "k" + std::to_string(i);
      Status st = i % 2 ? s->Set("p", k, "v" + k) : s->SetIf("p", k, "v" + k, Predicate::Absent());
      if (st.ok()) {
        acked.push_back(k);
      } else if (st.IsUnknownOutcome()) {
        unknown.push_back(k);
      } else {
        failure = k + ": " + st.ToString();
        break;
      }
      done = i + 1;
    }
  });
  while (done < 30 && failure.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  (*server)->Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Status restarted = (*server)->Start();
  writer.join();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  EXPECT_TRUE(failure.empty()) << failure;
  EXPECT_GE(acked.size(), 80u) << "too few writes survived the restart";
  for (const auto& k : acked) {
    auto got = s->Get("p", k);
    ASSERT_TRUE(got.ok()) << "acknowledged " << k << " lost: " << got.status().ToString();
    EXPECT_EQ(*got, "v" + k);
  }
}

}  // namespace
}  // namespace refkv::kv::testing
