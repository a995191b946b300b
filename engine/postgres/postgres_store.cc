#include "engine/postgres/postgres_store.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "engine/postgres/pg_connection.h"

namespace refkv::kv {
namespace {

using pg::ConnPtr;
using pg::Params;
using pg::ResultPtr;
using pg::Retry;
using pg::Where;

// The prepared statements, by index. Parameters: $1 partition, $2 key, then as noted.
enum Stmt : size_t {
  kGet,            // -> value
  kSet,            // $3 value
  kInsertAbsent,   // $3 value; 1 row iff the key was absent
  kUpdateExists,   // $3 value; 1 row iff the key existed
  kUpdateEquals,   // $3 value, $4 expected; 1 row iff it held
  kDelete,         // 1 row iff the key existed
  kDeleteEquals,   // $3 expected
  kDeleteRange,    // $2 from, $3 to
  kDeleteFrom,     // $2 from
  kDropPartition,  // $1 only
  kMultiGet,       // $2 bytea[] -> key, value
  kWrite,          // $2 bytea[] deleted keys, $3 bytea[] put keys, $4 bytea[] put values
  kScanGeLt,       // $2 from, $3 end, $4 limit -> key, value
  kScanGe,         // $2 from, $3 limit
  kScanGtLt,       // $2 after, $3 end, $4 limit
  kScanGt,         // $2 after, $3 limit
  kListPartitions,
  kStatementCount,
};

std::vector<pg::Statement> BuildStatements(const std::string& t) {
  using pg::kByteaArrayOid;
  using pg::kByteaOid;
  using pg::kInt8Oid;
  const std::vector<Oid> b2{kByteaOid, kByteaOid}, b3{kByteaOid, kByteaOid, kByteaOid},
      b4{kByteaOid, kByteaOid, kByteaOid, kByteaOid};
  const std::string where = " WHERE partition = $1 AND key = $2";
  const std::string cols = "SELECT key, value FROM " + t + " WHERE partition = $1 AND key ";
  std::vector<pg::Statement> s(kStatementCount);
  s[kGet] = {"", "SELECT value FROM " + t + where, b2};
  s[kSet] = {"",
             "INSERT INTO " + t + " (partition, key, value) VALUES ($1, $2, $3) " +
                 "ON CONFLICT (partition, key) DO UPDATE SET value = EXCLUDED.value",
             b3};
  s[kInsertAbsent] = {"",
                      "INSERT INTO " + t + " (partition, key, value) VALUES ($1, $2, $3) " +
                          "ON CONFLICT (partition, key) DO NOTHING",
                      b3};
  s[kUpdateExists] = {"", "UPDATE " + t + " SET value = $3" + where, b3};
  s[kUpdateEquals] = {"", "UPDATE " + t + " SET value = $3" + where + " AND value = $4", b4};
  s[kDelete] = {"", "DELETE FROM " + t + where, b2};
  s[kDeleteEquals] = {"", "DELETE FROM " + t + where + " AND value = $3", b3};
  s[kDeleteRange] = {"", "DELETE FROM " + t + " WHERE partition = $1 AND key >= $2 AND key < $3",
                     b3};
  s[kDeleteFrom] = {"", "DELETE FROM " + t + " WHERE partition = $1 AND key >= $2", b2};
  s[kDropPartition] = {"", "DELETE FROM " + t + " WHERE partition = $1", {kByteaOid}};
  s[kMultiGet] = {"", cols + "= ANY($2)", {kByteaOid, kByteaArrayOid}};
  // One statement, so atomic: the deletes and the upserts see the same snapshot and touch
  // disjoint keys (the batch is reduced to its last op per key first, in key order, so
  // concurrent batches lock rows in the same order).
  s[kWrite] = {"",
               "WITH deleted AS (DELETE FROM " + t + " WHERE partition = $1 AND key = ANY($2)) " +
                   "INSERT INTO " + t + " (partition, key, value) " +
                   "SELECT $1, u.k, u.v FROM unnest($3::bytea[], $4::bytea[]) AS u(k, v) " +
                   "ON CONFLICT (partition, key) DO UPDATE SET value = EXCLUDED.value",
               {kByteaOid, kByteaArrayOid, kByteaArrayOid, kByteaArrayOid}};
  s[kScanGeLt] = {"",
                  cols + ">= $2 AND key < $3 ORDER BY key LIMIT $4",
                  {kByteaOid, kByteaOid, kByteaOid, kInt8Oid}};
  s[kScanGe] = {"", cols + ">= $2 ORDER BY key LIMIT $3", {kByteaOid, kByteaOid, kInt8Oid}};
  s[kScanGtLt] = {"",
                  cols + "> $2 AND key < $3 ORDER BY key LIMIT $4",
                  {kByteaOid, kByteaOid, kByteaOid, kInt8Oid}};
  s[kScanGt] = {"", cols + "> $2 ORDER BY key LIMIT $3", {kByteaOid, kByteaOid, kInt8Oid}};
  // A loose index scan: one index descent per distinct partition, not a full scan.
  s[kListPartitions] = {"",
                        "WITH RECURSIVE p(partition) AS ("
                        "(SELECT partition FROM " +
                            t +
                            " ORDER BY partition LIMIT 1) UNION ALL "
                            "SELECT (SELECT partition FROM " +
                            t +
                            " WHERE partition > p.partition "
                            "ORDER BY partition LIMIT 1) FROM p WHERE p.partition IS NOT NULL) "
                            "SELECT partition FROM p WHERE partition IS NOT NULL",
                        {}};
  for (size_t i = 0; i < s.size(); ++i) s[i].name = "refkv_" + std::to_string(i);
  return s;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string_view Value(const PGresult* r, int row, int col) {
  return {PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col))};
}

int64_t RowsAffected(const PGresult* r) {
  // PQcmdTuples is not const-correct; it does not modify the result.
  return std::strtoll(PQcmdTuples(const_cast<PGresult*>(r)), nullptr, 10);
}

struct Settings {
  pg::ConnectConfig connect;
  std::string schema = "public";
  std::string table = "refkv_kv";
  std::string qualified;  // "schema"."table"
  size_t max_connections = 8;
};

Result<int64_t> IntParam(const Uri& uri, std::string_view name, int64_t fallback, int64_t min,
                         int64_t max) {
  std::string v = uri.Param(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == nullptr || *end != '\0' || n < min || n > max) {
    return Status::InvalidArgument("postgres URI: parameter '" + std::string(name) +
                                   "' must be an integer in [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "], got '" + v + "'");
  }
  return static_cast<int64_t>(n);
}

// The URI for libpq: the raw URI without refkv's own query parameters.
Result<Settings> ParseSettings(const Uri& uri) {
  static const std::set<std::string, std::less<>> kOwn = {
      "table",           "schema",  "max_open_connections", "statement_timeout_ms",
      "connect_timeout", "conninfo"};
  Settings s;
  REFKV_ASSIGN_OR_RETURN(int64_t pool, IntParam(uri, "max_open_connections", 8, 1, 1000));
  REFKV_ASSIGN_OR_RETURN(int64_t stmt_ms, IntParam(uri, "statement_timeout_ms", 0, 0, INT32_MAX));
  REFKV_ASSIGN_OR_RETURN(int64_t connect_s, IntParam(uri, "connect_timeout", 10, 0, 86400));
  s.max_connections = static_cast<size_t>(pool);
  s.connect.statement_timeout_ms = static_cast<int>(stmt_ms);
  s.connect.connect_timeout_s = static_cast<int>(connect_s);
  s.schema = uri.Param("schema", "public");
  s.table = uri.Param("table", "refkv_kv");
  for (const std::string* name : {&s.schema, &s.table}) {
    if (name->empty() || name->size() > 63 || name->find('\0') != std::string::npos) {
      return Status::InvalidArgument("postgres URI '" + uri.raw +
                                     "': schema and table names must be 1 to 63 bytes, got '" +
                                     Printable(*name) + "'");
    }
  }
  s.qualified = QuoteIdent(s.schema) + "." + QuoteIdent(s.table);

  const std::string& raw = uri.raw;
  size_t q = raw.find('?');
  std::string base = raw.substr(0, q);
  std::string kept;
  if (q != std::string::npos) {
    std::string_view query = std::string_view(raw).substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      std::string_view name = pair.substr(0, pair.find('='));
      if (kOwn.count(name) != 0) continue;
      kept += kept.empty() ? "" : "&";
      kept += pair;
    }
  }
  std::string conninfo = uri.Param("conninfo");
  if (!conninfo.empty()) {
    if (!uri.location.empty() || !kept.empty()) {
      return Status::InvalidArgument("postgres URI '" + raw +
                                     "': conninfo= cannot be combined with a host, database or "
                                     "libpq parameters in the URI; put them all in conninfo");
    }
    s.connect.conninfo = conninfo;
  } else {
    s.connect.conninfo = kept.empty() ? base : base + "?" + kept;
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(s.connect.conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::InvalidArgument("postgres URI '" + raw + "' rejected by libpq: " + message);
  }
  PQconninfoFree(options);
  return s;
}

// Creates the schema and table unless they exist. Several processes may race here: the
// transaction-scoped advisory lock serialises creators, and each checks again under it.
Status EnsureTable(PGconn* conn, const Settings& s, const OpenOptions& options) {
  const std::string schema = QuoteIdent(s.schema);
  const char* values[] = {s.qualified.c_str(), schema.c_str()};  // text format: C strings
  const Oid types[] = {pg::kTextOid, pg::kTextOid};
  ResultPtr r(PQexecParams(conn,
                           "SELECT to_regclass($1) IS NOT NULL, to_regnamespace($2) IS NOT NULL", 2,
                           types, values, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return pg::StatusFromServerError(r.get()).WithContext("postgres: checking for table " +
                                                          s.qualified);
  }
  bool table_exists = PQgetvalue(r.get(), 0, 0)[0] == 't';
  bool schema_exists = PQgetvalue(r.get(), 0, 1)[0] == 't';
  if (table_exists) return Status::OK();
  const char* db = PQdb(conn);
  if (!options.create_if_missing || options.read_only) {
    return Status::NotFound(
        "postgres: table " + s.qualified + " does not exist in database '" + (db ? db : "") +
        "' and " +
        (options.read_only ? "the store is opened read-only" : "create_if_missing is off"));
  }
  std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(7307011562574460213); ";
  if (!schema_exists) sql += "CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(s.schema) + "; ";
  sql += "CREATE TABLE IF NOT EXISTS " + s.qualified +
         " (partition bytea NOT NULL, key bytea NOT NULL, value bytea NOT NULL, "
         "PRIMARY KEY (partition, key)); COMMIT";
  ResultPtr created(PQexec(conn, sql.c_str()));
  if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
    return pg::StatusFromServerError(created.get())
        .WithContext("postgres: creating table " + s.qualified + " in database '" + (db ? db : "") +
                     "'");
  }
  return Status::OK();
}

class PostgresStore;

// Keyset pagination over one partition; see the header for its consistency.
class PgIterator final : public Iterator {
 public:
  PgIterator(PostgresStore* store, std::string_view partition, const ScanOptions& options)
      : store_(store), partition_(partition), start_(options.start), end_(options.end) {
    max_page_ = options.batch_size > 0 ? options.batch_size : kMaxPage;
  }

  bool Valid() const override { return status_.ok() && row_ < rows_; }

  void Seek(std::string_view key) override {
    std::string target(key < std::string_view(start_) ? std::string_view(start_) : key);
    page_ = std::min<size_t>(kFirstPage, max_page_);
    status_ = Fetch(target, /*inclusive=*/true);
  }

  void Next() override {
    if (!Valid()) return;
    if (++row_ < rows_ || exhausted_) return;
    std::string last(Value(result_.get(), rows_ - 1, 0));
    status_ = Fetch(last, /*inclusive=*/false);
  }

  std::string_view key() const override { return Value(result_.get(), row_, 0); }
  std::string_view value() const override { return Value(result_.get(), row_, 1); }
  Status status() const override { return status_; }

  // Fetches the page of keys >= `from` (or > `from`), below the end bound.
  Status Fetch(const std::string& from, bool inclusive);

 private:
  static constexpr size_t kFirstPage = 64;
  static constexpr size_t kMaxPage = 4096;

  void Clear() {
    result_.reset();
    rows_ = row_ = 0;
    exhausted_ = true;
  }

  PostgresStore* store_;
  std::string partition_, start_, end_;
  size_t max_page_;
  size_t page_ = kFirstPage;
  ResultPtr result_;
  int rows_ = 0, row_ = 0;
  bool exhausted_ = true;
  Status status_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(Settings settings, std::vector<pg::Statement> statements)
      : settings_(std::move(settings)),
        statements_(std::move(statements)),
        pool_([this]() -> Result<ConnPtr> { return NewConnection(); }, settings_.max_connections) {}
  ~PostgresStore() override { pool_.Close(); }

  pg::Pool& pool() { return pool_; }

  std::string_view driver() const override { return "postgres"; }
  bool shared() const override { return true; }

  Result<ResultPtr> Run(Stmt stmt, const Params& params, Retry retry, const Where& where) {
    return pg::Run(pool_, statements_[stmt].name, params, retry, where);
  }

  Result<std::string> Get(std::string_view partition, std::string_view key) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("get", partition, key));
    Params p;
    p.Bytes(partition).Bytes(key);
    REFKV_ASSIGN_OR_RETURN(ResultPtr r, Run(kGet, p, Retry::kIdempotent, {"get", partition, key}));
    if (PQntuples(r.get()) == 0) return KeyNotFound(partition, key);
    return std::string(Value(r.get(), 0, 0));
  }

  Result<std::vector<Result<std::string>>> MultiGet(std::string_view partition,
                                                    const std::vector<std::string>& keys) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("multiget", partition));
    std::vector<std::string_view> valid;
    valid.reserve(keys.size());
    for (const auto& k : keys) {
      if (!k.empty()) valid.push_back(k);
    }
    ResultPtr r;
    std::map<std::string_view, std::string_view> found;
    if (!valid.empty()) {
      Params p;
      p.Bytes(partition).ByteaArray(valid);
      Where where{"multiget", partition, {}, false};
      REFKV_ASSIGN_OR_RETURN(r, Run(kMultiGet, p, Retry::kIdempotent, where));
      for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
        found.emplace(Value(r.get(), i, 0), Value(r.get(), i, 1));
      }
    }
    std::vector<Result<std::string>> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
      if (k.empty()) {
        out.emplace_back(CheckPartitionAndKey("multiget", partition, k));
        continue;
      }
      auto it = found.find(k);
      if (it == found.end()) {
        out.emplace_back(KeyNotFound(partition, k));
      } else {
        out.emplace_back(std::string(it->second));
      }
    }
    return out;
  }

  Status Set(std::string_view partition, std::string_view key, std::string_view value) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("set", partition, key, value));
    Params p;
    p.Bytes(partition).Bytes(key).Bytes(value);
    return Run(kSet, p, Retry::kIdempotent, {"set", partition, key}).status();
  }

  Status SetIf(std::string_view partition, std::string_view key, std::string_view value,
               const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckWrite("setif", partition, key, value));
    Params p;
    p.Bytes(partition).Bytes(key).Bytes(value);
    Stmt stmt = kInsertAbsent;
    if (predicate.kind() == Predicate::Kind::kExists) stmt = kUpdateExists;
    if (predicate.kind() == Predicate::Kind::kEquals) {
      stmt = kUpdateEquals;
      p.Bytes(predicate.value());
    }
    REFKV_ASSIGN_OR_RETURN(ResultPtr r,
                           Run(stmt, p, Retry::kIfNotExecuted, {"setif", partition, key}));
    if (RowsAffected(r.get()) == 1) return Status::OK();
    return PredicateNotHeld(partition, key, predicate);
  }

  Status Delete(std::string_view partition, std::string_view key) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("delete", partition, key));
    Params p;
    p.Bytes(partition).Bytes(key);
    return Run(kDelete, p, Retry::kIdempotent, {"delete", partition, key}).status();
  }

  Status DeleteIf(std::string_view partition, std::string_view key,
                  const Predicate& predicate) override {
    REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("deleteif", partition, key));
    Params p;
    p.Bytes(partition).Bytes(key);
    Where where{"deleteif", partition, key};
    if (predicate.kind() == Predicate::Kind::kAbsent) {
      // Nothing to delete: succeeds iff the key is absent (a read).
      REFKV_ASSIGN_OR_RETURN(ResultPtr r, Run(kGet, p, Retry::kIdempotent, where));
      if (PQntuples(r.get()) == 0) return Status::OK();
      return PredicateNotHeld(partition, key, predicate);
    }
    Stmt stmt = kDelete;
    if (predicate.kind() == Predicate::Kind::kEquals) {
      stmt = kDeleteEquals;
      p.Bytes(predicate.value());
    }
    REFKV_ASSIGN_OR_RETURN(ResultPtr r, Run(stmt, p, Retry::kIfNotExecuted, where));
    if (RowsAffected(r.get()) == 1) return Status::OK();
    return PredicateNotHeld(partition, key, predicate);
  }

  Status DeleteRange(std::string_view partition, std::string_view from,
                     std::string_view to) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("deleterange", partition));
    if (!to.empty() && to <= from) return CheckOpen();
    Params p;
    p.Bytes(partition).Bytes(from);
    if (!to.empty()) p.Bytes(to);
    Where where{"deleterange", partition, from};
    return Run(to.empty() ? kDeleteFrom : kDeleteRange, p, Retry::kIdempotent, where).status();
  }

  Status DropPartition(std::string_view partition) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("droppartition", partition));
    Params p;
    p.Bytes(partition);
    Where where{"droppartition", partition, {}, false};
    return Run(kDropPartition, p, Retry::kIdempotent, where).status();
  }

  Status Write(std::string_view partition, const WriteBatch& batch) override {
    REFKV_RETURN_IF_ERROR(CheckBatch("write", partition, batch));
    if (batch.empty()) return CheckOpen();
    // The last op per key wins; std::map also sorts the keys.
    std::map<std::string_view, const WriteBatch::Op*> last;
    for (const auto& op : batch.ops()) last[op.key] = &op;
    std::vector<std::string_view> deleted, put_keys, put_values;
    for (const auto& [key, op] : last) {
      if (op->kind == WriteBatch::Op::Kind::kDelete) {
        deleted.push_back(key);
      } else {
        put_keys.push_back(key);
        put_values.push_back(op->value);
      }
    }
    Params p;
    p.Bytes(partition).ByteaArray(deleted).ByteaArray(put_keys).ByteaArray(put_values);
    Where where{"write", partition, {}, false};
    return Run(kWrite, p, Retry::kIfNotExecuted, where).status();
  }

  // One transaction: BEGIN, COPY ... FROM STDIN (FORMAT binary) of every row, COMMIT.
  // COPY inserts rows in bulk (multi-row heap inserts, no speculative insertion of
  // ON CONFLICT), so it is the fastest way in; a duplicate key aborts the whole COPY.
  Status InsertNew(std::string_view partition, const WriteBatch& batch) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("insertnew", partition));
    for (const auto& op : batch.ops()) {
      REFKV_RETURN_IF_ERROR(CheckWrite("insertnew", partition, op.key, op.value));
      if (op.kind != WriteBatch::Op::Kind::kPut) {
        return Status::InvalidArgument("postgres insertnew: the batch for partition '" +
                                       Printable(partition) + "' holds a delete");
      }
    }
    if (batch.empty()) return CheckOpen();
    // The binary COPY stream: signature, flags, extension length, then per row a field
    // count and (length, bytes) per field, then -1.
    std::string data("PGCOPY\n\377\r\n\0", 11);
    data.append(8, '\0');
    size_t bytes = 0;
    for (const auto& op : batch.ops())
      bytes += 14 + partition.size() + op.key.size() + op.value.size();
    data.reserve(data.size() + bytes + 2);
    auto put_u16 = [&](uint16_t v) {
      data.push_back(static_cast<char>(v >> 8));
      data.push_back(static_cast<char>(v));
    };
    auto put_field = [&](std::string_view f) {
      uint32_t n = static_cast<uint32_t>(f.size());
      for (int shift = 24; shift >= 0; shift -= 8) data.push_back(static_cast<char>(n >> shift));
      data.append(f);
    };
    for (const auto& op : batch.ops()) {
      put_u16(3);
      put_field(partition);
      put_field(op.key);
      put_field(op.value);
    }
    put_u16(0xffff);

    const std::string where = Where{"insertnew", partition, {}, false}.ToString();
    REFKV_ASSIGN_OR_RETURN(pg::Pool::Lease lease, pool_.Acquire());
    PGconn* c = lease.get();
    // Before COMMIT is sent a broken connection means the server rolls back: nothing
    // written (retryable). After, the outcome is unknown.
    auto lost = [&](bool commit_sent) {
      std::string error = PQerrorMessage(c);
      lease.MarkBroken();
      if (commit_sent) {
        return Status::UnknownOutcome(where + ": connection lost after COMMIT was sent; the " +
                                      "rows may or may not have been written: " + error);
      }
      return Status::IOError(where + ": connection lost, nothing written: " + error, true);
    };
    auto server_error = [&](const PGresult* r) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      Status s = state != nullptr && std::string_view(state) == "23505"
                     ? Status::AlreadyExists(std::string("a key exists already: ") +
                                             PQresultErrorMessage(r))
                     : pg::StatusFromServerError(r);
      ResultPtr rollback(PQexec(c, "ROLLBACK"));
      if (PQresultStatus(rollback.get()) != PGRES_COMMAND_OK) lease.MarkBroken();
      return s.WithContext(where);
    };
    ResultPtr r(PQexec(c, "BEGIN"));
    if (r == nullptr || PQstatus(c) != CONNECTION_OK) return lost(false);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return server_error(r.get());
    r.reset(PQexec(c, copy_sql_.c_str()));
    if (r == nullptr || PQstatus(c) != CONNECTION_OK) return lost(false);
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return server_error(r.get());
    for (size_t at = 0; at < data.size(); at += kCopyChunk) {
      const size_t n = std::min(kCopyChunk, data.size() - at);
      if (PQputCopyData(c, data.data() + at, static_cast<int>(n)) != 1) return lost(false);
    }
    if (PQputCopyEnd(c, nullptr) != 1) return lost(false);
    r.reset(PQgetResult(c));
    while (ResultPtr more{PQgetResult(c)}) {
    }
    if (r == nullptr || PQstatus(c) != CONNECTION_OK) return lost(false);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return server_error(r.get());
    r.reset(PQexec(c, "COMMIT"));
    if (r == nullptr || PQstatus(c) != CONNECTION_OK) return lost(true);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return pg::StatusFromServerError(r.get());
    return Status::OK();
  }

  Result<std::unique_ptr<Iterator>> Scan(std::string_view partition,
                                         const ScanOptions& options) override {
    REFKV_RETURN_IF_ERROR(CheckPartition("scan", partition));
    auto it = std::make_unique<PgIterator>(this, partition, options);
    it->Seek(options.start);
    REFKV_RETURN_IF_ERROR(it->status());
    return std::unique_ptr<Iterator>(std::move(it));
  }

  Result<std::vector<std::string>> ListPartitions() override {
    Where where{"listpartitions", {}, {}, false};
    REFKV_ASSIGN_OR_RETURN(ResultPtr r, Run(kListPartitions, Params(), Retry::kIdempotent, where));
    std::vector<std::string> out;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) out.emplace_back(Value(r.get(), i, 0));
    return out;
  }

  std::vector<StoreProperty> Properties() override {
    std::vector<StoreProperty> out{
        {"table", settings_.qualified},
        {"max_open_connections", std::to_string(settings_.max_connections)}};
    Result<pg::Pool::Lease> lease = pool_.Acquire();
    if (!lease.ok()) {
      out.push_back({"error", lease.status().ToString()});
      return out;
    }
    PGconn* c = lease->get();
    out.push_back({"database", PQdb(c) ? PQdb(c) : ""});
    out.push_back({"host", PQhost(c) ? PQhost(c) : ""});
    out.push_back({"port", PQport(c) ? PQport(c) : ""});
    out.push_back({"user", PQuser(c) ? PQuser(c) : ""});
    out.push_back({"server_version", std::to_string(PQserverVersion(c))});
    return out;
  }

  Status Close() override {
    pool_.Close();
    return Status::OK();
  }

 private:
  Status CheckOpen() { return pool_.CheckOpen(); }

  Result<ConnPtr> NewConnection() {
    REFKV_ASSIGN_OR_RETURN(ConnPtr conn, pg::Connect(settings_.connect));
    REFKV_RETURN_IF_ERROR(pg::PrepareSession(conn.get(), settings_.connect, statements_));
    return conn;
  }

  static constexpr size_t kCopyChunk = 1 << 20;  // bytes per PQputCopyData

  Settings settings_;
  std::vector<pg::Statement> statements_;
  const std::string copy_sql_ =
      "COPY " + settings_.qualified + " (partition, key, value) FROM STDIN (FORMAT binary)";
  pg::Pool pool_;
};

Status PgIterator::Fetch(const std::string& from, bool inclusive) {
  Clear();
  if (!end_.empty() && from >= end_) return Status::OK();
  const size_t limit = page_;
  page_ = std::min(page_ * 4, max_page_);
  Params p;
  p.Bytes(partition_).Bytes(from);
  if (!end_.empty()) p.Bytes(end_);
  p.Int64(static_cast<int64_t>(limit));
  Stmt stmt = end_.empty() ? (inclusive ? kScanGe : kScanGt) : (inclusive ? kScanGeLt : kScanGtLt);
  Where where{"scan", partition_, from};
  REFKV_ASSIGN_OR_RETURN(result_, store_->Run(stmt, p, Retry::kIdempotent, where));
  rows_ = PQntuples(result_.get());
  exhausted_ = static_cast<size_t>(rows_) < limit;
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const Uri& uri, const OpenOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Settings settings, ParseSettings(uri));
  REFKV_ASSIGN_OR_RETURN(ConnPtr first, pg::Connect(settings.connect));
  REFKV_RETURN_IF_ERROR(EnsureTable(first.get(), settings, options));
  settings.connect.read_only = options.read_only;
  std::vector<pg::Statement> statements = BuildStatements(settings.qualified);
  REFKV_RETURN_IF_ERROR(pg::PrepareSession(first.get(), settings.connect, statements));
  auto store = std::make_unique<PostgresStore>(std::move(settings), std::move(statements));
  store->pool().Add(std::move(first));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace refkv::kv

// Linking refkv_postgres registers the driver (see the same block in rocks_open.cc).
extern "C" {
extern const bool refkv_postgres_driver;
const bool refkv_postgres_driver = [] {
  (void)refkv::kv::RegisterDriver("postgres", refkv::kv::OpenPostgresStore);
  (void)refkv::kv::RegisterDriver("postgresql", refkv::kv::OpenPostgresStore);
  return true;
}();
}
