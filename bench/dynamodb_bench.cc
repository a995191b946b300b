// DynamoDB driver vs the same requests signed and sent by a bare libcurl loop, paired:
//   pair/dynamodb_vs_curl/{get,set,setif}   both in one loop, alternating, each timed
// Against a throwaway dynalite (tests/support/dynalite_server.h), or the endpoint of
// $REFKV_BENCH_DYNAMODB (dynamodb://TABLE?endpoint=...). dynamodb_vs_curl = raw time /
// driver time (1.0 = parity). Absolute rates against a local emulator say little about
// DynamoDB; the ratio is the driver's own cost (JSON, base64, pool, retries bookkeeping).
#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "engine/dynamodb/dynamodb_store.h"
#include "engine/dynamodb/sigv4.h"
#include "engine/open.h"
#include "tests/support/dynalite_server.h"

namespace refkv {
namespace {

struct Shared {
  std::unique_ptr<refkv::testing::DynaliteServer> server;
  std::string endpoint, table;
  std::unique_ptr<kv::Store> store;
  std::string error;
};

Shared& Get() {
  static Shared* shared = [] {
    auto* s = new Shared;
    refkv::testing::SetTestCredentials();
    const char* uri = std::getenv("REFKV_BENCH_DYNAMODB");
    if (uri && *uri) {
      auto parsed = kv::Uri::Parse(uri);
      if (!parsed.ok()) {
        s->error = parsed.status().ToString();
        return s;
      }
      s->endpoint = parsed->Param("endpoint");
    } else {
      auto server = refkv::testing::DynaliteServer::Create();
      if (!server.ok()) {
        s->error = server.status().ToString();
        return s;
      }
      s->server = std::move(*server);
      s->endpoint = s->server->Endpoint();
    }
    std::string text = refkv::testing::DynamoTableUri(s->endpoint, "max_connections=4");
    auto parsed = kv::Uri::Parse(text);
    s->table = parsed->location;
    auto store = kv::OpenDynamoStore(*parsed, {});
    if (!store.ok()) {
      s->error = store.status().ToString();
      return s;
    }
    s->store = std::move(*store);
    return s;
  }();
  return *shared;
}

std::string B64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {k[n >> 18], k[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
  }
  return out;
}

size_t Sink(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One keep-alive libcurl handle posting hand-written JSON, signed with SigV4.
class RawClient {
 public:
  explicit RawClient(const Shared& s) : endpoint_(s.endpoint), table_(s.table) {
    h_ = curl_easy_init();
    curl_easy_setopt(h_, CURLOPT_URL, endpoint_.c_str());
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, Sink);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &body_);
    credentials_ = {std::getenv("AWS_ACCESS_KEY_ID"), std::getenv("AWS_SECRET_ACCESS_KEY"), ""};
    host_ = endpoint_.substr(endpoint_.find("://") + 3);
  }
  ~RawClient() { curl_easy_cleanup(h_); }

  // Posts; true on HTTP 200. The answer is in body().
  bool Post(const std::string& target, const std::string& json) {
    kv::dynamodb::SigV4Request req{
        "POST",
        "/",
        "",
        {{"host", host_},
         {"x-amz-date", kv::dynamodb::AmzDate(std::chrono::system_clock::now())},
         {"x-amz-target", "DynamoDB_20120810." + target},
         {"content-type", "application/x-amz-json-1.0"}},
        json};
    std::string auth = kv::dynamodb::SigV4Authorization(req, credentials_, "us-east-1", "dynamodb");
    curl_slist* headers = nullptr;
    for (size_t i = 1; i < req.headers.size(); ++i) {
      headers =
          curl_slist_append(headers, (req.headers[i].first + ": " + req.headers[i].second).c_str());
    }
    headers = curl_slist_append(headers, ("authorization: " + auth).c_str());
    headers = curl_slist_append(headers, "Expect:");
    body_.clear();
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, json.data());
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
    long status = 0;
    bool ok = curl_easy_perform(h_) == CURLE_OK &&
              curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    curl_slist_free_all(headers);
    return ok;
  }
  const std::string& body() const { return body_; }

  std::string Key(std::string_view p, std::string_view k) const {
    return "{\"p\":{\"B\":\"" + B64(p) + "\"},\"k\":{\"B\":\"" + B64(k) + "\"}}";
  }
  std::string GetJson(std::string_view p, std::string_view k) const {
    return "{\"TableName\":\"" + table_ + "\",\"Key\":" + Key(p, k) + ",\"ConsistentRead\":true}";
  }
  std::string PutJson(std::string_view p, std::string_view k, std::string_view v,
                      std::string_view expected = {}) const {
    std::string item = "{\"p\":{\"B\":\"" + B64(p) + "\"},\"k\":{\"B\":\"" + B64(k) +
                       "\"},\"v\":{\"B\":\"" + B64(v) + "\"}}";
    std::string out = "{\"TableName\":\"" + table_ + "\",\"Item\":" + item;
    if (!expected.empty()) {
      out +=
          ",\"ConditionExpression\":\"#v = :expected\",\"ExpressionAttributeNames\":{\"#v\":"
          "\"v\"},\"ExpressionAttributeValues\":{\":expected\":{\"B\":\"" +
          B64(expected) + "\"}}";
    }
    return out + "}";
  }

 private:
  CURL* h_;
  std::string endpoint_, table_, host_, body_;
  kv::dynamodb::SigV4Credentials credentials_;
};

enum class Op { kGet, kSet, kSetIf };
constexpr int kKeys = 200;

std::string KeyName(int i) { return "key-" + std::to_string(i); }

void Paired(benchmark::State& state, Op op) {
  Shared& s = Get();
  if (!s.store) return state.SkipWithError(s.error.c_str());
  static std::once_flag filled;
  std::call_once(filled, [&] {
    for (int i = 0; i < kKeys; ++i) (void)s.store->Set("bench", KeyName(i), std::string(100, 'v'));
  });
  RawClient raw(s);
  kv::Store& store = *s.store;
  std::mt19937 rng(21 + state.thread_index());
  const std::string value(100, 'p');
  const std::string kv_key = "pair-kv-" + std::to_string(state.thread_index());
  const std::string raw_key = "pair-raw-" + std::to_string(state.thread_index());
  (void)store.Set("setif", kv_key, "0");
  (void)store.Set("setif", raw_key, "0");
  int64_t n = 0;
  double kv_s = 0, raw_s = 0;
  bool failed = false;
  auto run_kv = [&](const std::string& key, const std::string& cur, const std::string& next) {
    switch (op) {
      case Op::kGet:
        failed |= !store.Get("bench", key).ok();
        break;
      case Op::kSet:
        failed |= !store.Set("bench", key, value).ok();
        break;
      case Op::kSetIf:
        failed |= !store.SetIf("setif", kv_key, next, kv::Predicate::Equals(cur)).ok();
        break;
    }
  };
  auto run_raw = [&](const std::string& key, const std::string& cur, const std::string& next) {
    switch (op) {
      case Op::kGet:
        failed |= !raw.Post("GetItem", raw.GetJson("bench", key)) ||
                  raw.body().find("\"Item\"") == std::string::npos;
        break;
      case Op::kSet:
        failed |= !raw.Post("PutItem", raw.PutJson("bench", key, value));
        break;
      case Op::kSetIf:
        failed |= !raw.Post("PutItem", raw.PutJson("setif", raw_key, next, cur));
        break;
    }
  };
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    std::string key = KeyName(static_cast<int>(rng() % kKeys));
    std::string cur = std::to_string(n), next = std::to_string(n + 1);
    auto t0 = Clock::now();
    if (n % 2 == 0) {
      run_kv(key, cur, next);
    } else {
      run_raw(key, cur, next);
    }
    auto t1 = Clock::now();
    if (n % 2 == 0) {
      run_raw(key, cur, next);
    } else {
      run_kv(key, cur, next);
    }
    auto t2 = Clock::now();
    double first = std::chrono::duration<double>(t1 - t0).count();
    double second = std::chrono::duration<double>(t2 - t1).count();
    (n % 2 == 0 ? kv_s : raw_s) += first;
    (n % 2 == 0 ? raw_s : kv_s) += second;
    ++n;
  }
  if (failed) state.SkipWithError("an operation failed");
  using benchmark::Counter;
  state.counters["kv_per_s"] = Counter(n / kv_s);
  state.counters["curl_per_s"] = Counter(n / raw_s);
  state.counters["dynamodb_vs_curl"] = Counter(raw_s / kv_s, Counter::kAvgThreads);
  state.SetItemsProcessed(2 * n);
}

void PairedGet(benchmark::State& state) { Paired(state, Op::kGet); }
void PairedSet(benchmark::State& state) { Paired(state, Op::kSet); }
void PairedSetIf(benchmark::State& state) { Paired(state, Op::kSetIf); }

const bool kRegistered = [] {
  using Case = std::pair<const char*, void (*)(benchmark::State&)>;
  for (const Case& c :
       {Case{"pair/dynamodb_vs_curl/get", PairedGet}, Case{"pair/dynamodb_vs_curl/set", PairedSet},
        Case{"pair/dynamodb_vs_curl/setif", PairedSetIf}}) {
    benchmark::RegisterBenchmark(c.first, c.second)->Threads(1)->Threads(2)->UseRealTime();
  }
  return true;
}();

}  // namespace
}  // namespace refkv
