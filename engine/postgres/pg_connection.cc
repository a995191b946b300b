#include "engine/postgres/pg_connection.h"

#include <poll.h>

#include <cassert>
#include <chrono>
#include <cstring>
#include <thread>

#include "engine/store.h"

namespace refkv::kv::pg {
namespace {

void AppendBigEndian32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// "host:port" or "socket /dir/.s.PGSQL.port" of a (possibly failed) connection.
std::string Target(PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  std::string h = host ? host : "";
  std::string p = port && *port ? port : "5432";
  if (h.empty() || h[0] == '/' || h[0] == '@') {
    return "socket " + (h.empty() ? std::string("(default directory)") : h) + "/.s.PGSQL." + p;
  }
  return "host " + h + ":" + p;
}

bool IsServerFatal(const PGresult* r) {
  // Only errors sent by the server carry the non-localized severity; libpq's own
  // ("server closed the connection unexpectedly") do not.
  const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  return severity != nullptr &&
         (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0);
}

// A pooled connection the server may have closed while it was idle (a restart sends
// FATAL and closes). Reads whatever arrived, without blocking: libpq sockets are
// non-blocking underneath. Two reads: the first may return the server's goodbye, the
// second then sees the end of the stream.
bool StillUsable(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK) return false;
  pollfd pfd{PQsocket(conn), POLLIN, 0};
  if (poll(&pfd, 1, 0) == 0) return true;  // nothing arrived: the usual case, one syscall
  if (!PQconsumeInput(conn)) return false;
  (void)PQisBusy(conn);  // parses what arrived (an unexpected error becomes a notice)
  if (!PQconsumeInput(conn)) return false;
  return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

Params& Params::Bytes(std::string_view bytes) {
  assert(count_ < kMaxParams);
  // libpq wants a non-null pointer for a non-NULL parameter, even of length 0.
  values_[count_] = bytes.data() != nullptr ? bytes.data() : "";
  lengths_[count_] = static_cast<int>(bytes.size());
  ++count_;
  return *this;
}

Params& Params::Int64(int64_t value) {
  std::string& b = owned_[count_];
  b.clear();
  auto v = static_cast<uint64_t>(value);
  AppendBigEndian32(b, static_cast<uint32_t>(v >> 32));
  AppendBigEndian32(b, static_cast<uint32_t>(v));
  return Bytes(b);
}

Params& Params::ByteaArray(const std::vector<std::string_view>& items) {
  std::string& b = owned_[count_];
  b.clear();
  size_t total = 20;
  for (auto item : items) total += 4 + item.size();
  b.reserve(total);
  AppendBigEndian32(b, items.empty() ? 0 : 1);  // dimensions
  AppendBigEndian32(b, 0);                      // no NULL elements
  AppendBigEndian32(b, kByteaOid);
  if (!items.empty()) {
    AppendBigEndian32(b, static_cast<uint32_t>(items.size()));
    AppendBigEndian32(b, 1);  // lower bound
    for (auto item : items) {
      AppendBigEndian32(b, static_cast<uint32_t>(item.size()));
      b.append(item);
    }
  }
  return Bytes(b);
}

Result<ConnPtr> Connect(const ConnectConfig& config) {
  // Defaults before "dbname" are overridden by the connection string; values after it
  // override the string.
  const std::string timeout = std::to_string(config.connect_timeout_s);
  const char* keys[] = {"application_name",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "dbname",
                        "connect_timeout",
                        nullptr};
  const char* values[] = {"refkv",         "1",    "10", "5", "3", "30000", config.conninfo.c_str(),
                          timeout.c_str(), nullptr};
  auto start = std::chrono::steady_clock::now();
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Status::IOError("postgres: libpq could not allocate a connection");
  if (PQstatus(conn.get()) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
    return conn;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string message = Trim(PQerrorMessage(conn.get()));
  std::string target = Target(conn.get());
  const char* db = PQdb(conn.get());
  std::string database = db ? db : "";
  // libpq has no SQLSTATE for a failed connection: its English messages are all we have.
  if (Contains(message, "database \"") && Contains(message, "\" does not exist")) {
    return Status::NotFound("postgres: database '" + database + "' does not exist on " + target +
                            ": " + message);
  }
  if (PQconnectionNeedsPassword(conn.get()) || Contains(message, "authentication failed") ||
      (Contains(message, "role \"") && Contains(message, "\" does not exist")) ||
      Contains(message, "password") || Contains(message, "no pg_hba.conf entry")) {
    return Status::IOError("postgres: authentication failed for database '" + database + "' on " +
                           target + ": " + message);
  }
  if (config.connect_timeout_s > 0 && elapsed >= config.connect_timeout_s - 0.05) {
    return Status::Timeout("postgres: connecting to " + target + " took longer than " +
                           "connect_timeout=" + std::to_string(config.connect_timeout_s) +
                           "s: " + message);
  }
  return Status::IOError(
      "postgres: cannot connect to " + target + " (database '" + database + "'): " + message,
      /*retryable=*/true);
}

Status PrepareSession(PGconn* conn, const ConnectConfig& config,
                      const std::vector<Statement>& statements) {
  if (!PQenterPipelineMode(conn)) {
    return Status::IOError("postgres: cannot enter pipeline mode: " + Trim(PQerrorMessage(conn)));
  }
  std::vector<std::string> what;
  auto send_setting = [&](const std::string& sql) {
    what.push_back(sql);
    return PQsendQueryParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
  };
  bool sent = true;
  if (config.statement_timeout_ms > 0) {
    sent &=
        send_setting("SET statement_timeout = " + std::to_string(config.statement_timeout_ms)) == 1;
  }
  if (config.read_only) sent &= send_setting("SET default_transaction_read_only = on") == 1;
  for (const auto& s : statements) {
    what.push_back("prepare " + s.name);
    sent &= PQsendPrepare(conn, s.name.c_str(), s.sql.c_str(), static_cast<int>(s.types.size()),
                          s.types.data()) == 1;
  }
  sent &= PQpipelineSync(conn) == 1;
  if (!sent) {
    return Status::IOError("postgres: cannot send session setup: " + Trim(PQerrorMessage(conn)),
                           true);
  }
  Status first_error;
  size_t index = 0;
  while (true) {
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) {
      if (PQstatus(conn) != CONNECTION_OK) {
        return Status::IOError(
            "postgres: connection lost during session setup: " + Trim(PQerrorMessage(conn)), true);
      }
      ++index;  // the end of one command's results
      continue;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (st == PGRES_FATAL_ERROR && first_error.ok()) {
      first_error = StatusFromServerError(r).WithContext(
          "postgres session setup (" + (index < what.size() ? what[index] : "?") + ")");
    }
    PQclear(r);
  }
  if (!PQexitPipelineMode(conn)) {
    return Status::IOError("postgres: cannot leave pipeline mode: " + Trim(PQerrorMessage(conn)));
  }
  return first_error;
}

Execution Execute(PGconn* conn, const std::string& statement, const Params& params) {
  Execution out;
  if (!PQsendQueryPrepared(conn, statement.c_str(), params.count(), params.values(),
                           params.lengths(), params.formats(), /*resultFormat=*/1)) {
    // Nothing was sent, or not the final Sync: the server commits an implicit transaction
    // only at Sync, so it cannot have applied the statement.
    out.outcome = Outcome::kNotExecuted;
    out.error = Trim(PQerrorMessage(conn));
    return out;
  }
  ResultPtr ok, error;
  while (PGresult* r = PQgetResult(conn)) {
    ExecStatusType st = PQresultStatus(r);
    if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && !ok && !error) {
      ok.reset(r);
    } else if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) && !error) {
      error.reset(r);
    } else {
      PQclear(r);
    }
  }
  const bool alive = PQstatus(conn) == CONNECTION_OK;
  if (alive && ok && !error) {
    out.outcome = Outcome::kOk;
    out.result = std::move(ok);
    return out;
  }
  if (alive && error) {
    out.outcome = Outcome::kServerError;
    out.error = Trim(PQresultErrorMessage(error.get()));
    out.result = std::move(error);
    return out;
  }
  out.error = error ? Trim(PQresultErrorMessage(error.get())) : Trim(PQerrorMessage(conn));
  if (out.error.empty()) out.error = "no answer from the server";
  // The server said it ended the session (shutdown, terminate) before the statement
  // completed: the transaction aborted. A FATAL after a completed statement could come
  // between the statement and its commit, so then (and on silence) we cannot know.
  if (!ok && error && IsServerFatal(error.get())) {
    out.outcome = Outcome::kNotExecuted;
  } else {
    out.outcome = Outcome::kUnknown;
  }
  return out;
}

Status StatusFromServerError(const PGresult* result) {
  const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string state = code ? code : "";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = primary ? primary : Trim(PQresultErrorMessage(result));
  if (!state.empty()) message += " (SQLSTATE " + state + ")";
  std::string cls = state.substr(0, 2);
  if (state == "57014") {
    return Status::Timeout("statement canceled, statement_timeout exceeded or canceled: " +
                           message);
  }
  if (state == "40001" || state == "40P01") return Status::Conflict(message);
  if (state == "3D000" || state == "42P01" || state == "3F000") {
    return Status::NotFound(message);
  }
  if (cls == "22" || cls == "54") return Status::InvalidArgument(message);
  if (state == "25006") {
    return Status::InvalidArgument("the store is open read-only: " + message);
  }
  // disk_full: the server's file system is full; repeating the statement does not help.
  if (state == "53100") return Status::NoSpace("no space left on device: " + message);
  if (cls == "08" || cls == "53" || cls == "57") return Status::IOError(message, true);
  if (cls == "28") return Status::IOError("authentication failed: " + message);
  return Status::IOError(message);
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), broken_);
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (closed_) return Status::IOError("postgres store is closed");
    if (!idle_.empty()) {
      ConnPtr conn = std::move(idle_.back().conn);
      auto since = idle_.back().since;
      idle_.pop_back();
      lock.unlock();
      bool recent = std::chrono::steady_clock::now() - since < kCheckAfterIdle;
      if (recent || StillUsable(conn.get())) return Lease(this, std::move(conn));
      conn.reset();  // closed by the server while idle: drop it, outside the lock
      lock.lock();
      --open_;
      continue;
    }
    if (open_ < max_) {
      ++open_;
      lock.unlock();
      Result<ConnPtr> conn = factory_();
      if (!conn.ok()) {
        lock.lock();
        --open_;
        released_.notify_one();
        return conn.status();
      }
      return Lease(this, std::move(conn).value());
    }
    released_.wait(lock);
  }
}

Status Pool::CheckOpen() {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ ? Status::IOError("postgres store is closed") : Status::OK();
}

void Pool::Add(ConnPtr conn) {
  std::lock_guard<std::mutex> lock(mu_);
  ++open_;
  idle_.push_back({std::move(conn), std::chrono::steady_clock::time_point()});
}

void Pool::Release(ConnPtr conn, bool broken) {
  std::unique_lock<std::mutex> lock(mu_);
  if (broken || closed_ || PQstatus(conn.get()) != CONNECTION_OK ||
      PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
    --open_;
    lock.unlock();
    released_.notify_one();
    conn.reset();
    return;
  }
  idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
  lock.unlock();
  released_.notify_one();
}

void Pool::Close() {
  std::vector<Idle> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    idle.swap(idle_);
    open_ -= idle.size();
  }
  released_.notify_all();
  idle.clear();
}

std::string Where::ToString() const {
  std::string out = "postgres ";
  out += verb;
  if (!partition.empty()) out += " partition '" + Printable(partition) + "'";
  if (has_key) out += " key '" + Printable(key) + "'";
  return out;
}

Result<ResultPtr> Run(Pool& pool, const std::string& statement, const Params& params, Retry retry,
                      const Where& where) {
  static constexpr int kBackoffMs[kMaxAttempts] = {0, 10, 40, 160, 640};
  Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (kBackoffMs[attempt] > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kBackoffMs[attempt]));
    }
    Result<Pool::Lease> lease = pool.Acquire();
    if (!lease.ok()) {
      // A connect timeout already waited connect_timeout: do not multiply it.
      if (!lease.status().retryable() || lease.status().code() == StatusCode::kTimeout) {
        return lease.status().WithContext(where.ToString());
      }
      last = lease.status();
      continue;
    }
    Execution e = Execute(lease->get(), statement, params);
    switch (e.outcome) {
      case Outcome::kOk:
        return std::move(e.result);
      case Outcome::kServerError: {
        Status s = StatusFromServerError(e.result.get());
        if (retry == Retry::kIdempotent && s.IsConflict()) {
          last = std::move(s);
          continue;
        }
        return s.WithContext(where.ToString());
      }
      case Outcome::kNotExecuted:
        lease->MarkBroken();
        last = Status::IOError("connection lost before the statement ran: " + e.error, true);
        continue;
      case Outcome::kUnknown:
        lease->MarkBroken();
        if (retry == Retry::kIdempotent) {
          last = Status::IOError("connection lost: " + e.error, true);
          continue;
        }
        return Status::UnknownOutcome(
            where.ToString() +
            ": connection lost after the write was sent; it may or may not have been applied "
            "(read the key to find out): " +
            e.error);
    }
  }
  return Status(last.code(),
                where.ToString() + ": failed after " + std::to_string(kMaxAttempts) +
                    " attempts: " + last.message(),
                last.retryable());
}

}  // namespace refkv::kv::pg
