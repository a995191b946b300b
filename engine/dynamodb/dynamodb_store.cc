#include "engine/dynamodb/dynamodb_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "engine/dynamodb/http_client.h"

namespace refkv::kv {
namespace {

using dynamodb::HttpClient;
using dynamodb::HttpClientOptions;
using dynamodb::HttpResponse;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], kB64[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], '='};
  }
  return out;
}

bool Unbase64(std::string_view in, std::string* out) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (size_t i = 0; i < kB64.size(); ++i) t[uint8_t(kB64[i])] = int8_t(i);
    return t;
  }();
  out->clear();
  out->reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int8_t v = table[uint8_t(c)];
    if (v < 0) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(char((acc >> bits) & 0xFF));
    }
  }
  return true;
}

void Binary(JsonWriter& w, std::string_view name, std::string_view bytes) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.StartObject();
  w.Key("B");
  const std::string b64 = Base64(bytes);
  w.String(b64.data(), static_cast<rapidjson::SizeType>(b64.size()));
  w.EndObject();
}

void Str(JsonWriter& w, std::string_view name, std::string_view value) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// {"p": {"B": ..}, "k": {"B": ..}}
void KeyObject(JsonWriter& w, std::string_view name, std::string_view p, std::string_view k) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.StartObject();
  Binary(w, "p", p);
  Binary(w, "k", k);
  w.EndObject();
}

// Decodes item[attr].B into *out. False if missing or malformed.
bool ItemBinary(const rapidjson::Value& item, const char* attr, std::string* out) {
  if (!item.IsObject()) return false;
  auto a = item.FindMember(attr);
  if (a == item.MemberEnd() || !a->value.IsObject()) return false;
  auto b = a->value.FindMember("B");
  if (b == a->value.MemberEnd() || !b->value.IsString()) return false;
  return Unbase64(std::string_view(b->value.GetString(), b->value.GetStringLength()), out);
}

// Why a call failed, as the retry loop sees it.
enum class Retry {
  kIdempotent,   // reads and unconditional writes: retry on anything transient
  kConditional,  // SetIf/DeleteIf: retry only what cannot have been executed
};

struct Settings {
  std::string table;
  std::string endpoint;
  std::string region;
  std::string billing = "PAY_PER_REQUEST";
  int64_t read_capacity = 5;
  int64_t write_capacity = 5;
  size_t scan_page = 1000;
  size_t max_connections = 16;
  long timeout_ms = 10000;
  int retries = 8;
  bool atomic_writes = true;  // write_mode=transact (default) or batch
};

Result<int64_t> IntParam(const Uri& uri, std::string_view name, int64_t fallback, int64_t lo,
                         int64_t hi) {
  std::string text = uri.Param(name);
  if (text.empty()) return fallback;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || v < lo || v > hi) {
    return Status::InvalidArgument("dynamodb URI: parameter " + std::string(name) + "='" + text +
                                   "' is not an integer in [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(v);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class DynamoStore;

class DynamoIterator final : public Iterator {
 public:
  DynamoIterator(DynamoStore* store, std::string_view partition, const ScanOptions& options,
                 size_t page)
      : store_(store),
        partition_(partition),
        start_(options.start),
        end_(options.end),
        page_(options.batch_size > 0 ? options.batch_size : page) {}

  bool Valid() const override { return status_.ok() && row_ < rows_.size(); }
  void Seek(std::string_view key) override {
    std::string target(key < std::string_view(start_) ? std::string_view(start_) : key);
    rows_.clear();
    row_ = 0;
    exclusive_start_.clear();
    has_more_ = true;
    from_ = target;
    status_ = FetchUntilRowOrEnd();
  }
  void Next() override {
    if (!Valid()) return;
    if (++row_ < rows_.size()) return;
    rows_.clear();
    row_ = 0;
    status_ = FetchUntilRowOrEnd();
  }
  std::string_view key() const override { return rows_[row_].first; }
  std::string_view value() const override { return rows_[row_].second; }
  Status status() const override { return status_; }

 private:
  Status FetchUntilRowOrEnd();

  DynamoStore* store_;
  std::string partition_, start_, end_;
  size_t page_;
  std::string from_;             // keys >= from_ (the seek target)
  std::string exclusive_start_;  // the last key of the previous page; "" before the first
  bool has_more_ = true;
  std::vector<std::pair<std::string, std::string>> rows_;
  size_t row_ = 0;
  Status status_;
};

class DynamoStore final : public Store {
 public:
  DynamoStore(Settings settings, HttpClientOptions http)
      : settings_(std::move(settings)), client_(std::move(http)) {}

  std::string_view driver() const override { return "dynamodb"; }
  bool shared() const override { return true; }

  // --- the one request path ---

  // Posts `body` as `action`, retrying per `retry`. On a DynamoDB error answer, the
  // error's type (after '#') is put in *error_type (when given) and a Status returned.
  Result<rapidjson::Document> Call(std::string_view action, const std::string& body, Retry retry,
                                   const std::string& where, std::string* error_type = nullptr) {
    thread_local std::mt19937_64 rng(std::random_device{}());
    std::string last;
    bool timed_out = false;
    for (int attempt = 0; attempt < settings_.retries; ++attempt) {
      if (attempt > 0) {
        int64_t cap = std::min<int64_t>(1000, int64_t{20} << std::min(attempt - 1, 10));
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng)));
      }
      HttpResponse r = client_.Post(action, body);
      if (r.transport != HttpResponse::Transport::kOk) {
        last = r.transport_error;
        timed_out = r.timed_out;
        if (r.transport == HttpResponse::Transport::kLost && retry == Retry::kConditional) {
          return Status::UnknownOutcome(where + ": the connection to DynamoDB at " +
                                        settings_.endpoint +
                                        " failed after the request was sent (" + r.transport_error +
                                        "); the write may or may not have happened");
        }
        continue;
      }
      rapidjson::Document doc;
      doc.Parse(r.body.data(), r.body.size());
      if (r.status == 200) {
        if (doc.HasParseError()) {
          return Status::Corruption(where + ": DynamoDB answered with malformed JSON");
        }
        return doc;
      }
      std::string type, message;
      if (!doc.HasParseError() && doc.IsObject()) {
        if (auto t = doc.FindMember("__type"); t != doc.MemberEnd() && t->value.IsString()) {
          type = t->value.GetString();
          type = type.substr(type.find('#') == std::string::npos ? 0 : type.find('#') + 1);
        }
        for (const char* m : {"message", "Message"}) {
          if (auto it = doc.FindMember(m); it != doc.MemberEnd() && it->value.IsString()) {
            message = it->value.GetString();
          }
        }
      }
      if (error_type) *error_type = type;
      last = "HTTP " + std::to_string(r.status) + " " + type + ": " + message;
      if (r.status >= 500) {
        if (retry == Retry::kConditional) {
          return Status::UnknownOutcome(where + ": DynamoDB failed the request (" + last +
                                        "); the write may or may not have happened");
        }
        continue;
      }
      if (type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
          type == "RequestLimitExceeded" || type == "TransactionConflictException" ||
          type == "TransactionInProgressException" ||
          (type == "TransactionCanceledException" &&
           (message.find("TransactionConflict") != std::string::npos ||
            message.find("ThrottlingError") != std::string::npos))) {
        continue;
      }
      if (type == "ConditionalCheckFailedException") return Status::PredicateFailed(where);
      if (type == "ResourceNotFoundException") {
        return Status::NotFound("DynamoDB table '" + settings_.table + "' does not exist at " +
                                settings_.endpoint + " (" + where + ")");
      }
      if (type == "UnrecognizedClientException" || type == "InvalidSignatureException" ||
          type == "MissingAuthenticationTokenException" || type == "AccessDeniedException" ||
          type == "IncompleteSignatureException" || type == "ExpiredTokenException") {
        return Status::IOError("DynamoDB at " + settings_.endpoint +
                               " refused the credentials of AWS_ACCESS_KEY_ID (" + type + ": " +
                               message + ")");
      }
      if (type == "ValidationException" || type == "SerializationException") {
        return Status::InvalidArgument(where + ": DynamoDB refused the request: " + message);
      }
      if (type == "UnknownOperationException") {
        return Status::Unsupported(where + ": the server at " + settings_.endpoint +
                                   " does not implement " + std::string(action));
      }
      return Status::IOError(where + ": DynamoDB at " + settings_.endpoint + ": " + last);
    }
    if (timed_out) {
      return Status::Timeout(where + ": DynamoDB at " + settings_.endpoint + " did not answer in " +
                             std::to_string(settings_.timeout_ms) + " ms (" +
                             std::to_string(settings_.retries) + " attempts)");
    }
    if (last.rfind("HTTP ", 0) == 0) {
      return Status::IOError(where + ": DynamoDB at " + settings_.endpoint +
                                 " kept failing after " + std::to_string(settings_.retries) +
                                 " attempts: " + last,
                             true);
    }
    return Status::IOError(
        "cannot reach DynamoDB endpoint " + settings_.endpoint + " (" + where + "): " + last, true);
  }

  static std::string Where(std::string_view verb, std::string_view p, std::string_view k) {
    return "dynamodb " + std::string(verb) + " of key '" + Printable(k) + "' in partition '" +
           Printable(p) + "'";
  }

  // DynamoDB's limits beyond refkv's (header).
  static Status CheckItem(std::string_view verb, std::string_view p, std::string_view k,
                          std::string_view v) {
    if (k.size() > kDynamoMaxSortKeyBytes) {
      return Status::InvalidArgument(Where(verb, p, k) + ": a key of " + std::to_string(k.size()) +
                                     " bytes exceeds DynamoDB's sort-key limit of " +
                                     std::to_string(kDynamoMaxSortKeyBytes) + " bytes");
    }
    size_t item = p.size() + k.size() + v.size() + 3;
    if (item > kDynamoMaxItemBytes) {
      return Status::InvalidArgument(
          Where(verb, p, k) + ": an item of " + std::to_string(item) +
          " bytes (partition, key, value and 3 bytes of attribute names) exceeds DynamoDB's "
          "item limit of " +
          std::to_string(kDynamoMaxItemBytes) + " bytes (400 KB)");
    }
    return Status::OK();
  }

  std::string Begin(JsonWriter& w) {
    w.StartObject();
    Str(w, "TableName", settings_.table);
    return {};
  }

  // --- verbs ---

  Result<std::string> Get(std::string_view p, std::string_view k) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("get", p, k));
    if (k.size() > kDynamoMaxSortKeyBytes) return KeyNotFound(p, k);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Begin(w);
    KeyObject(w, "Key", p, k);
    w.Key("ConsistentRead");
    w.Bool(true);
    w.EndObject();
    REFKV_ASSIGN_OR_RETURN(rapidjson::Document doc, Call("GetItem", buf.GetString(),
                                                         Retry::kIdempotent, Where("get", p, k)));
    auto item = doc.FindMember("Item");
    if (item == doc.MemberEnd()) return KeyNotFound(p, k);
    std::string value;
    if (!ItemBinary(item->value, "v", &value)) {
      return Status::Corruption(Where("get", p, k) + ": the item has no binary attribute v");
    }
    return value;
  }

  std::string PutBody(std::string_view p, std::string_view k, std::string_view v,
                      const Predicate* predicate) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Begin(w);
    w.Key("Item");
    w.StartObject();
    Binary(w, "p", p);
    Binary(w, "k", k);
    Binary(w, "v", v);
    w.EndObject();
    if (predicate) Condition(w, *predicate);
    w.EndObject();
    return buf.GetString();
  }

  static void Condition(JsonWriter& w, const Predicate& predicate) {
    switch (predicate.kind()) {
      case Predicate::Kind::kAbsent:
        Str(w, "ConditionExpression", "attribute_not_exists(#k)");
        break;
      case Predicate::Kind::kExists:
        Str(w, "ConditionExpression", "attribute_exists(#k)");
        break;
      case Predicate::Kind::kEquals:
        Str(w, "ConditionExpression", "#v = :expected");
        w.Key("ExpressionAttributeValues");
        w.StartObject();
        Binary(w, ":expected", predicate.value());
        w.EndObject();
        break;
    }
    w.Key("ExpressionAttributeNames");
    w.StartObject();
    if (predicate.kind() == Predicate::Kind::kEquals) {
      Str(w, "#v", "v");
    } else {
      Str(w, "#k", "k");
    }
    w.EndObject();
  }

  Status Set(std::string_view p, std::string_view k, std::string_view v) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("set", p, k, v));
    REFKV_RETURN_IF_ERROR(CheckItem("set", p, k, v));
    return Call("PutItem", PutBody(p, k, v, nullptr), Retry::kIdempotent, Where("set", p, k))
        .status();
  }

  Status SetIf(std::string_view p, std::string_view k, std::string_view v,
               const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("setif", p, k, v));
    REFKV_RETURN_IF_ERROR(CheckItem("setif", p, k, v));
    Status s =
        Call("PutItem", PutBody(p, k, v, &predicate), Retry::kConditional, Where("setif", p, k))
            .status();
    if (s.IsPredicateFailed()) return PredicateNotHeld(p, k, predicate);
    return s;
  }

  std::string DeleteBody(std::string_view p, std::string_view k, const Predicate* predicate) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Begin(w);
    KeyObject(w, "Key", p, k);
    if (predicate) Condition(w, *predicate);
    w.EndObject();
    return buf.GetString();
  }

  Status Delete(std::string_view p, std::string_view k) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("delete", p, k));
    if (k.size() > kDynamoMaxSortKeyBytes) return Status::OK();
    return Call("DeleteItem", DeleteBody(p, k, nullptr), Retry::kIdempotent, Where("delete", p, k))
        .status();
  }

  Status DeleteIf(std::string_view p, std::string_view k, const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("deleteif", p, k));
    if (predicate.kind() == Predicate::Kind::kAbsent || k.size() > kDynamoMaxSortKeyBytes) {
      Result<std::string> got =
          k.size() > kDynamoMaxSortKeyBytes ? Result<std::string>(KeyNotFound(p, k)) : Get(p, k);
      if (!got.ok() && !got.status().IsNotFound()) return got.status();
      return EvaluatePredicate(p, k, predicate, got.ok(), got.ok() ? *got : std::string_view());
    }
    Status s = Call("DeleteItem", DeleteBody(p, k, &predicate), Retry::kConditional,
                    Where("deleteif", p, k))
                   .status();
    if (s.IsPredicateFailed()) return PredicateNotHeld(p, k, predicate);
    return s;
  }

  // One Query page of partition `p`: keys in [from, end) after `exclusive_start` (if not
  // empty), at most `limit`; `keys_only` projects k. *next: the key to continue after,
  // "" when DynamoDB has no more pages (`exclusive_start` is a copy: callers pass *next).
  Status QueryPage(std::string_view p, const std::string& from, const std::string& end,
                   std::string exclusive_start, size_t limit, bool keys_only,
                   std::vector<std::pair<std::string, std::string>>* out, std::string* next) {
    out->clear();
    next->clear();
    if (!end.empty() && !from.empty() && from >= end) return Status::OK();
    // Bounds DynamoDB can express: keys are at most kDynamoMaxSortKeyBytes long, so a
    // longer bound is truncated (from: a smaller bound; end: inclusive of its prefix) and
    // the exact bounds applied here.
    std::string lo = from.substr(0, kDynamoMaxSortKeyBytes);
    std::string hi = end.substr(0, kDynamoMaxSortKeyBytes);
    const bool hi_inclusive = end.size() > kDynamoMaxSortKeyBytes;
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Begin(w);
    std::string condition = "#p = :p";
    if (!lo.empty() && !hi.empty()) {
      condition += " AND #k BETWEEN :lo AND :hi";
    } else if (!lo.empty()) {
      condition += " AND #k >= :lo";
    } else if (!hi.empty()) {
      condition += hi_inclusive ? " AND #k <= :hi" : " AND #k < :hi";
    }
    Str(w, "KeyConditionExpression", condition);
    w.Key("ExpressionAttributeNames");
    w.StartObject();
    Str(w, "#p", "p");
    if (!lo.empty() || !hi.empty() || keys_only) Str(w, "#k", "k");
    w.EndObject();
    w.Key("ExpressionAttributeValues");
    w.StartObject();
    Binary(w, ":p", p);
    if (!lo.empty()) Binary(w, ":lo", lo);
    if (!hi.empty()) Binary(w, ":hi", hi);
    w.EndObject();
    if (keys_only) Str(w, "ProjectionExpression", "#k");
    w.Key("ConsistentRead");
    w.Bool(true);
    w.Key("Limit");
    w.Uint64(limit);
    if (!exclusive_start.empty()) KeyObject(w, "ExclusiveStartKey", p, exclusive_start);
    w.EndObject();
    REFKV_ASSIGN_OR_RETURN(rapidjson::Document doc,
                           Call("Query", buf.GetString(), Retry::kIdempotent,
                                "dynamodb scan of partition '" + Printable(p) + "'"));
    auto items = doc.FindMember("Items");
    if (items != doc.MemberEnd() && items->value.IsArray()) {
      for (const auto& item : items->value.GetArray()) {
        std::string k, v;
        if (!ItemBinary(item, "k", &k) || (!keys_only && !ItemBinary(item, "v", &v))) {
          return Status::Corruption("dynamodb scan of partition '" + Printable(p) +
                                    "': an item without binary k and v");
        }
        if (k < from || (!end.empty() && k >= end)) continue;
        out->emplace_back(std::move(k), std::move(v));
      }
    }
    if (doc.HasMember("LastEvaluatedKey") &&
        (!ItemBinary(doc["LastEvaluatedKey"], "k", next) || next->empty())) {
      return Status::Corruption("dynamodb scan: a LastEvaluatedKey without k");
    }
    return Status::OK();
  }

  Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                         const ScanOptions& options) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("scan", partition));
    auto it = std::make_unique<DynamoIterator>(this, partition, options, settings_.scan_page);
    it->Seek(options.start);
    REFKV_RETURN_IF_ERROR(it->status());
    return std::unique_ptr<Iterator>(std::move(it));
  }

  // Every key of [from, to) in `p`, paged; calls `page` with each page's keys.
  template <typename Fn>
  Status ForEachKeyPage(std::string_view p, std::string_view from, std::string_view to, Fn page) {
    std::string cursor;
    std::vector<std::pair<std::string, std::string>> rows;
    do {
      REFKV_RETURN_IF_ERROR(QueryPage(p, std::string(from), std::string(to), cursor, 1000,
                                      /*keys_only=*/true, &rows, &cursor));
      std::vector<std::string> keys;
      for (auto& r : rows) keys.push_back(std::move(r.first));
      REFKV_RETURN_IF_ERROR(page(keys));
    } while (!cursor.empty());
    return Status::OK();
  }

  // One op of BatchWriteItem: a put (value set) or a delete of `key`.
  struct BatchOp {
    std::string key;
    std::optional<std::string> value;
  };

  // BatchWriteItem, 25 ops per request, unprocessed items retried with backoff. Not
  // atomic: each item is applied on its own.
  Status BatchWrite(std::string_view p, std::vector<BatchOp> ops, const std::string& where) {
    thread_local std::mt19937_64 rng(std::random_device{}());
    for (size_t i = 0; i < ops.size(); i += 25) {
      std::vector<BatchOp> pending(
          std::make_move_iterator(ops.begin() + i),
          std::make_move_iterator(ops.begin() + std::min(ops.size(), i + 25)));
      for (int round = 0; !pending.empty(); ++round) {
        if (round >= settings_.retries) {
          return Status::IOError(where + ": DynamoDB left " + std::to_string(pending.size()) +
                                     " writes unprocessed after " +
                                     std::to_string(settings_.retries) + " attempts",
                                 true);
        }
        if (round > 0) {
          int64_t cap = std::min<int64_t>(1000, int64_t{20} << std::min(round - 1, 10));
          std::this_thread::sleep_for(
              std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng)));
        }
        rapidjson::StringBuffer body;
        JsonWriter b(body);
        b.StartObject();
        b.Key("RequestItems");
        b.StartObject();
        b.Key(settings_.table.c_str());
        b.StartArray();
        for (const auto& op : pending) {
          b.StartObject();
          if (op.value) {
            b.Key("PutRequest");
            b.StartObject();
            b.Key("Item");
            b.StartObject();
            Binary(b, "p", p);
            Binary(b, "k", op.key);
            Binary(b, "v", *op.value);
            b.EndObject();
          } else {
            b.Key("DeleteRequest");
            b.StartObject();
            KeyObject(b, "Key", p, op.key);
          }
          b.EndObject();
          b.EndObject();
        }
        b.EndArray();
        b.EndObject();
        b.EndObject();
        REFKV_ASSIGN_OR_RETURN(rapidjson::Document doc,
                               Call("BatchWriteItem", body.GetString(), Retry::kIdempotent, where));
        std::vector<BatchOp> left;
        if (auto u = doc.FindMember("UnprocessedItems");
            u != doc.MemberEnd() && u->value.IsObject()) {
          if (auto t = u->value.FindMember(settings_.table.c_str());
              t != u->value.MemberEnd() && t->value.IsArray()) {
            for (const auto& req : t->value.GetArray()) {
              BatchOp op;
              if (req.HasMember("DeleteRequest") && req["DeleteRequest"].HasMember("Key") &&
                  ItemBinary(req["DeleteRequest"]["Key"], "k", &op.key)) {
                left.push_back(std::move(op));
              } else if (req.HasMember("PutRequest") && req["PutRequest"].HasMember("Item")) {
                std::string v;
                if (!ItemBinary(req["PutRequest"]["Item"], "k", &op.key) ||
                    !ItemBinary(req["PutRequest"]["Item"], "v", &v)) {
                  return Status::Corruption(where + ": an unprocessed put without k and v");
                }
                op.value = std::move(v);
                left.push_back(std::move(op));
              }
            }
          }
        }
        pending = std::move(left);
      }
    }
    return Status::OK();
  }

  Status DeleteRange(std::string_view p, std::string_view from, std::string_view to) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("deleterange", p));
    const std::string where = "dynamodb deleterange of partition '" + Printable(p) + "'";
    return ForEachKeyPage(p, from, to, [&](const std::vector<std::string>& keys) {
      std::vector<BatchOp> ops;
      for (const auto& k : keys) ops.push_back({k, std::nullopt});
      return BatchWrite(p, std::move(ops), where);
    });
  }

  Status DropPartition(std::string_view p) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("droppartition", p));
    return DeleteRange(p, "", "");
  }

  Result<std::vector<Result<std::string>>> MultiGet(std::string_view p,
                                                    const std::vector<std::string>& keys) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("multiget", p));
    std::map<std::string, std::optional<std::string>> found;  // key -> value (nullopt: absent)
    std::vector<std::string> wanted;
    for (const auto& k : keys) {
      REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("multiget", p, k));
      if (k.size() <= kDynamoMaxSortKeyBytes && found.emplace(k, std::nullopt).second) {
        wanted.push_back(k);
      }
    }
    thread_local std::mt19937_64 rng(std::random_device{}());
    const std::string where = "dynamodb multiget in partition '" + Printable(p) + "'";
    for (size_t i = 0; i < wanted.size(); i += 100) {
      std::vector<std::string> pending(wanted.begin() + i,
                                       wanted.begin() + std::min(wanted.size(), i + 100));
      for (int round = 0; !pending.empty(); ++round) {
        if (round >= settings_.retries) {
          return Status::IOError(where + ": DynamoDB left " + std::to_string(pending.size()) +
                                     " keys unprocessed after " +
                                     std::to_string(settings_.retries) + " attempts",
                                 true);
        }
        if (round > 0) {
          int64_t cap = std::min<int64_t>(1000, int64_t{20} << std::min(round - 1, 10));
          std::this_thread::sleep_for(
              std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng)));
        }
        rapidjson::StringBuffer body;
        JsonWriter b(body);
        b.StartObject();
        b.Key("RequestItems");
        b.StartObject();
        b.Key(settings_.table.c_str());
        b.StartObject();
        b.Key("Keys");
        b.StartArray();
        for (const auto& k : pending) {
          b.StartObject();
          Binary(b, "p", p);
          Binary(b, "k", k);
          b.EndObject();
        }
        b.EndArray();
        b.Key("ConsistentRead");
        b.Bool(true);
        b.EndObject();
        b.EndObject();
        b.EndObject();
        REFKV_ASSIGN_OR_RETURN(rapidjson::Document doc,
                               Call("BatchGetItem", body.GetString(), Retry::kIdempotent, where));
        if (auto r = doc.FindMember("Responses"); r != doc.MemberEnd() && r->value.IsObject()) {
          if (auto t = r->value.FindMember(settings_.table.c_str());
              t != r->value.MemberEnd() && t->value.IsArray()) {
            for (const auto& item : t->value.GetArray()) {
              std::string k, v;
              if (!ItemBinary(item, "k", &k) || !ItemBinary(item, "v", &v)) {
                return Status::Corruption(where + ": an item without binary k and v");
              }
              found[k] = std::move(v);
            }
          }
        }
        std::vector<std::string> left;
        if (auto u = doc.FindMember("UnprocessedKeys");
            u != doc.MemberEnd() && u->value.IsObject()) {
          if (auto t = u->value.FindMember(settings_.table.c_str());
              t != u->value.MemberEnd() && t->value.IsObject() && t->value.HasMember("Keys")) {
            for (const auto& key : t->value["Keys"].GetArray()) {
              std::string k;
              if (ItemBinary(key, "k", &k)) left.push_back(std::move(k));
            }
          }
        }
        pending = std::move(left);
      }
    }
    std::vector<Result<std::string>> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
      auto f = found.find(k);
      if (f == found.end() || !f->second) {
        out.push_back(KeyNotFound(p, k));
      } else {
        out.push_back(*f->second);
      }
    }
    return out;
  }

  Status Write(std::string_view p, const WriteBatch& batch) override {
    REFKV_RETURN_IF_ERROR(CheckBatch("write", p, batch));
    // The last op per key wins; DynamoDB refuses two ops on one item in a transaction.
    std::map<std::string_view, const WriteBatch::Op*> last;
    for (const auto& op : batch.ops()) last[op.key] = &op;
    for (const auto& [k, op] : last) {
      if (op->kind == WriteBatch::Op::Kind::kPut) {
        REFKV_RETURN_IF_ERROR(CheckItem("write", p, k, op->value));
      }
    }
    // Deletes of keys DynamoDB cannot hold are no-ops.
    std::erase_if(last, [](const auto& e) {
      return e.second->kind == WriteBatch::Op::Kind::kDelete &&
             e.first.size() > kDynamoMaxSortKeyBytes;
    });
    if (last.empty()) return Status::OK();
    if (!settings_.atomic_writes) {
      std::vector<BatchOp> ops;
      for (const auto& [k, op] : last) {
        ops.push_back({std::string(k), op->kind == WriteBatch::Op::Kind::kPut
                                           ? std::optional<std::string>(op->value)
                                           : std::nullopt});
      }
      return BatchWrite(p, std::move(ops),
                        "dynamodb write (non-atomic) to partition '" + Printable(p) + "'");
    }
    if (last.size() > kDynamoMaxTransactItems) {
      return Status::InvalidArgument(
          "dynamodb write to partition '" + Printable(p) + "': a batch of " +
          std::to_string(last.size()) + " distinct keys exceeds DynamoDB's transaction limit of " +
          std::to_string(kDynamoMaxTransactItems) +
          " items; nothing written (write_mode=batch in the URI writes larger batches, not "
          "atomically: for bulk loads such as kv migrate)");
    }
    if (last.size() == 1) {
      const auto& [k, op] = *last.begin();
      return op->kind == WriteBatch::Op::Kind::kPut ? Set(p, k, op->value) : Delete(p, k);
    }
    thread_local std::mt19937_64 rng(std::random_device{}());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token(32, '0');
    for (char& c : token) c = kHex[rng() & 15];
    rapidjson::StringBuffer body;
    JsonWriter w(body);
    w.StartObject();
    Str(w, "ClientRequestToken", token);
    w.Key("TransactItems");
    w.StartArray();
    for (const auto& [k, op] : last) {
      w.StartObject();
      if (op->kind == WriteBatch::Op::Kind::kPut) {
        w.Key("Put");
        w.StartObject();
        Str(w, "TableName", settings_.table);
        w.Key("Item");
        w.StartObject();
        Binary(w, "p", p);
        Binary(w, "k", k);
        Binary(w, "v", op->value);
        w.EndObject();
        w.EndObject();
      } else {
        w.Key("Delete");
        w.StartObject();
        Str(w, "TableName", settings_.table);
        KeyObject(w, "Key", p, k);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return Call("TransactWriteItems", body.GetString(), Retry::kIdempotent,
                "dynamodb write of " + std::to_string(last.size()) + " keys to partition '" +
                    Printable(p) + "'")
        .status();
  }

  Result<std::vector<std::string>> ListPartitions() override {
    std::vector<std::string> out;
    std::string start_p, start_k;
    for (;;) {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      Begin(w);
      Str(w, "ProjectionExpression", "#p, #k");
      w.Key("ExpressionAttributeNames");
      w.StartObject();
      Str(w, "#p", "p");
      Str(w, "#k", "k");
      w.EndObject();
      w.Key("ConsistentRead");
      w.Bool(true);
      if (!start_p.empty()) KeyObject(w, "ExclusiveStartKey", start_p, start_k);
      w.EndObject();
      REFKV_ASSIGN_OR_RETURN(
          rapidjson::Document doc,
          Call("Scan", buf.GetString(), Retry::kIdempotent, "dynamodb listpartitions"));
      if (auto items = doc.FindMember("Items");
          items != doc.MemberEnd() && items->value.IsArray()) {
        for (const auto& item : items->value.GetArray()) {
          std::string p;
          if (ItemBinary(item, "p", &p)) out.push_back(std::move(p));
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      auto last = doc.FindMember("LastEvaluatedKey");
      if (last == doc.MemberEnd()) break;
      if (!ItemBinary(last->value, "p", &start_p) || !ItemBinary(last->value, "k", &start_k)) {
        return Status::Corruption("dynamodb listpartitions: a LastEvaluatedKey without p and k");
      }
    }
    return out;
  }

  std::vector<StoreProperty> Properties() override {
    return {{"table", settings_.table},
            {"endpoint", settings_.endpoint},
            {"region", settings_.region},
            {"billing", settings_.billing},
            {"write_mode", settings_.atomic_writes ? "transact" : "batch (not atomic)"},
            {"max_connections", std::to_string(settings_.max_connections)}};
  }

  Status Close() override { return Status::OK(); }

  // --- the table ---

  Result<rapidjson::Document> Describe() {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Begin(w);
    w.EndObject();
    return Call("DescribeTable", buf.GetString(), Retry::kIdempotent, "dynamodb open");
  }

  Status CheckSchema(const rapidjson::Document& doc) {
    const std::string want = "p HASH B, k RANGE B";
    std::string got;
    const auto& table = doc["Table"];
    std::map<std::string, std::string> types;
    if (table.HasMember("AttributeDefinitions")) {
      for (const auto& a : table["AttributeDefinitions"].GetArray()) {
        types[a["AttributeName"].GetString()] = a["AttributeType"].GetString();
      }
    }
    if (table.HasMember("KeySchema")) {
      for (const auto& k : table["KeySchema"].GetArray()) {
        if (!got.empty()) got += ", ";
        std::string name = k["AttributeName"].GetString();
        got += name + " " + k["KeyType"].GetString() + " " + types[name];
      }
    }
    if (got != want) {
      return Status::InvalidArgument("DynamoDB table '" + settings_.table + "' at " +
                                     settings_.endpoint + " has the key schema (" + got +
                                     "); a refkv table has (" + want + ")");
    }
    return Status::OK();
  }

  Status OpenTable(const OpenOptions& options) {
    Result<rapidjson::Document> doc = Describe();
    if (doc.status().IsNotFound()) {
      if (!options.create_if_missing || options.read_only) return doc.status();
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      Begin(w);
      w.Key("AttributeDefinitions");
      w.StartArray();
      for (const char* a : {"p", "k"}) {
        w.StartObject();
        Str(w, "AttributeName", a);
        Str(w, "AttributeType", "B");
        w.EndObject();
      }
      w.EndArray();
      w.Key("KeySchema");
      w.StartArray();
      for (auto [a, t] : {std::pair{"p", "HASH"}, std::pair{"k", "RANGE"}}) {
        w.StartObject();
        Str(w, "AttributeName", a);
        Str(w, "KeyType", t);
        w.EndObject();
      }
      w.EndArray();
      Str(w, "BillingMode", settings_.billing);
      if (settings_.billing == "PROVISIONED") {
        w.Key("ProvisionedThroughput");
        w.StartObject();
        w.Key("ReadCapacityUnits");
        w.Int64(settings_.read_capacity);
        w.Key("WriteCapacityUnits");
        w.Int64(settings_.write_capacity);
        w.EndObject();
      }
      w.EndObject();
      std::string type;
      Result<rapidjson::Document> created =
          Call("CreateTable", buf.GetString(), Retry::kIdempotent, "dynamodb create table", &type);
      // Another process creating it at the same time is fine.
      if (!created.ok() && type != "ResourceInUseException") return created.status();
      doc = Describe();
    }
    REFKV_RETURN_IF_ERROR(doc.status());
    // Wait until ACTIVE (CREATING on a fresh table).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      REFKV_RETURN_IF_ERROR(doc.status());
      const auto& table = (*doc)["Table"];
      std::string status = table.HasMember("TableStatus") ? table["TableStatus"].GetString() : "";
      if (status == "ACTIVE") return CheckSchema(*doc);
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Timeout("DynamoDB table '" + settings_.table + "' at " + settings_.endpoint +
                               " is still " + status + " after 60 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      doc = Describe();
    }
  }

 private:
  Settings settings_;
  HttpClient client_;
};

Status DynamoIterator::FetchUntilRowOrEnd() {
  // Pages can come back empty (every key filtered, or DynamoDB's 1 MB cut): go on until a
  // row or the end.
  while (rows_.empty() && has_more_) {
    REFKV_RETURN_IF_ERROR(store_->QueryPage(partition_, from_, end_, exclusive_start_, page_,
                                            /*keys_only=*/false, &rows_, &exclusive_start_));
    has_more_ = !exclusive_start_.empty();
  }
  return Status::OK();
}

Result<std::unique_ptr<Store>> Open(const Uri& uri, const OpenOptions& options) {
  Settings s;
  s.table = uri.location;
  if (s.table.empty()) {
    return Status::InvalidArgument("dynamodb URI '" + uri.raw +
                                   "' names no table (dynamodb://TABLE?endpoint=...&region=...)");
  }
  for (const auto& [name, value] : uri.params) {
    static const char* const kKnown[] = {
        "endpoint",       "region",         "billing",         "read_capacity",
        "write_capacity", "scan_page_size", "max_connections", "request_timeout_ms",
        "retries",        "write_mode"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      return Status::InvalidArgument("dynamodb URI: unknown parameter '" + name + "'");
    }
  }
  s.region = uri.Param("region");
  if (s.region.empty()) s.region = Env("AWS_REGION");
  if (s.region.empty()) s.region = Env("AWS_DEFAULT_REGION");
  if (s.region.empty()) s.region = "us-east-1";
  s.endpoint = uri.Param("endpoint", "https://dynamodb." + s.region + ".amazonaws.com");
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (dynamodb::EndpointHost(s.endpoint).empty() ||
      (s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0)) {
    return Status::InvalidArgument("dynamodb URI: endpoint '" + s.endpoint +
                                   "' is not an http:// or https:// URL");
  }
  std::string billing = uri.Param("billing", "pay_per_request");
  if (billing == "pay_per_request") {
    s.billing = "PAY_PER_REQUEST";
  } else if (billing == "provisioned") {
    s.billing = "PROVISIONED";
  } else {
    return Status::InvalidArgument("dynamodb URI: billing='" + billing +
                                   "' (expected pay_per_request or provisioned)");
  }
  std::string write_mode = uri.Param("write_mode", "transact");
  if (write_mode != "transact" && write_mode != "batch") {
    return Status::InvalidArgument("dynamodb URI: write_mode='" + write_mode +
                                   "' (expected transact or batch)");
  }
  s.atomic_writes = write_mode == "transact";
  REFKV_ASSIGN_OR_RETURN(s.read_capacity, IntParam(uri, "read_capacity", 5, 1, 1000000));
  REFKV_ASSIGN_OR_RETURN(s.write_capacity, IntParam(uri, "write_capacity", 5, 1, 1000000));
  REFKV_ASSIGN_OR_RETURN(int64_t page, IntParam(uri, "scan_page_size", 1000, 1, 1000000));
  REFKV_ASSIGN_OR_RETURN(int64_t conns, IntParam(uri, "max_connections", 16, 1, 1000));
  REFKV_ASSIGN_OR_RETURN(int64_t timeout, IntParam(uri, "request_timeout_ms", 10000, 1, 3600000));
  REFKV_ASSIGN_OR_RETURN(int64_t retries, IntParam(uri, "retries", 8, 1, 100));
  s.scan_page = static_cast<size_t>(page);
  s.max_connections = static_cast<size_t>(conns);
  s.timeout_ms = static_cast<long>(timeout);
  s.retries = static_cast<int>(retries);

  HttpClientOptions http;
  http.endpoint = s.endpoint;
  http.region = s.region;
  http.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                      Env("AWS_SESSION_TOKEN")};
  http.max_connections = s.max_connections;
  http.timeout_ms = s.timeout_ms;
  if (http.credentials.access_key_id.empty() || http.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "dynamodb: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  auto store = std::make_unique<DynamoStore>(std::move(s), std::move(http));
  REFKV_RETURN_IF_ERROR(store->OpenTable(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<Store>> OpenDynamoStore(const Uri& uri, const OpenOptions& options) {
  return Open(uri, options);
}

}  // namespace refkv::kv

// Linking refkv_dynamodb registers the driver (its target keeps this symbol).
extern "C" {
extern const bool refkv_dynamodb_driver;
const bool refkv_dynamodb_driver = [] {
  (void)refkv::kv::RegisterDriver("dynamodb", refkv::kv::OpenDynamoStore);
  return true;
}();
}
