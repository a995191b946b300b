// libpq plumbing for the PostgreSQL driver: connecting (with errors classified), binary
// statement parameters, one prepared-statement round trip with its outcome made explicit,
// a connection pool, and the retry policy that decides what a lost connection means.
//
// Internal to engine/postgres; the contract users see is engine/postgres/postgres_store.h.
//
// Thread-safety: Pool and Run are thread-safe; a PGconn is used by one thread at a time
// (the one holding its Lease). Params is a value, used by one thread.
#ifndef REFKV_ENGINE_POSTGRES_PG_CONNECTION_H_
#define REFKV_ENGINE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace refkv::kv::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

// Type OIDs of the parameters we send (pg_type.h is not a client header).
inline constexpr Oid kTextOid = 25;
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kByteaArrayOid = 1001;

// The binary parameters of one statement (at most kMaxParams; no allocation except for
// arrays). Bytes() keeps a view: the caller's bytes must outlive the call that sends
// them; everything else is owned.
class Params {
 public:
  static constexpr int kMaxParams = 4;

  Params& Bytes(std::string_view bytes);
  Params& Int64(int64_t value);
  // A one-dimensional bytea[] in PostgreSQL's binary array format (no NULL elements).
  Params& ByteaArray(const std::vector<std::string_view>& items);

  int count() const { return count_; }
  const char* const* values() const { return values_; }
  const int* lengths() const { return lengths_; }
  const int* formats() const { return kBinary; }

 private:
  static constexpr int kBinary[kMaxParams] = {1, 1, 1, 1};
  int count_ = 0;
  const char* values_[kMaxParams] = {};
  int lengths_[kMaxParams] = {};
  std::string owned_[kMaxParams];  // encoded integers and arrays, by parameter index
};

// A statement every connection of a store prepares when it opens.
struct Statement {
  std::string name;
  std::string sql;
  std::vector<Oid> types;
};

// How to open a session.
struct ConnectConfig {
  std::string conninfo;  // libpq URI or keyword/value string, refkv parameters removed
  int connect_timeout_s = 10;
  int statement_timeout_ms = 0;  // 0: the server's default
  bool read_only = false;
};

// Opens one connection. IOError (retryable) naming the host or socket when the server
// cannot be reached; NotFound naming the database when it does not exist; IOError
// (not retryable) on authentication failure; Timeout after connect_timeout.
Result<ConnPtr> Connect(const ConnectConfig& config);

// Applies the session settings of `config` and prepares `statements`, in one round trip
// (pipeline mode). An error names the statement that failed.
Status PrepareSession(PGconn* conn, const ConnectConfig& config,
                      const std::vector<Statement>& statements);

// The outcome of sending one prepared statement and reading its whole answer.
enum class Outcome {
  kOk,           // the server answered with a result and is ready: committed
  kServerError,  // the server reported an ERROR; the statement rolled back; conn usable
  kNotExecuted,  // the connection broke; the server cannot have executed the statement
  kUnknown,      // the connection broke after sending; it may or may not have executed
};

struct Execution {
  Outcome outcome = Outcome::kUnknown;
  ResultPtr result;   // kOk: the result; kServerError: the error result
  std::string error;  // for the non-OK outcomes: what libpq or the server said
};

// Sends `statement` with `params` (binary results) and reads until the server is ready
// for the next query or the connection breaks.
Execution Execute(PGconn* conn, const std::string& statement, const Params& params);

// The Status for an error result of the server (SQLSTATE mapped to a StatusCode).
Status StatusFromServerError(const PGresult* result);

// A bounded pool of prepared connections. Acquire hands out an idle connection or opens a
// new one while fewer than `max` are open; otherwise it waits for one to be released.
// A connection idle for more than kCheckAfterIdle is first checked, without blocking,
// for a goodbye from the server (a restart closes sessions), so that a write is not sent
// into a dead session and reported UnknownOutcome for nothing; busy connections skip
// the check (a syscall) because a server that stops in between is that same race anyway.
class Pool {
 public:
  using Factory = std::function<Result<ConnPtr>()>;
  static constexpr std::chrono::milliseconds kCheckAfterIdle{20};

  class Lease {
   public:
    Lease(Pool* pool, ConnPtr conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PGconn* get() const { return conn_.get(); }
    // The connection is discarded instead of returned to the pool.
    void MarkBroken() { broken_ = true; }

   private:
    Pool* pool_;
    ConnPtr conn_;
    bool broken_ = false;
  };

  Pool(Factory factory, size_t max) : factory_(std::move(factory)), max_(max) {}
  ~Pool() { Close(); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An open, prepared connection. The factory's error when a new one cannot be opened;
  // IOError when the pool is closed.
  Result<Lease> Acquire();
  // Adds an already prepared connection (the one Open used).
  void Add(ConnPtr conn);
  // Closes idle connections; leased ones are closed when released. Idempotent.
  void Close();
  size_t max() const { return max_; }
  // IOError once Close was called.
  Status CheckOpen();

 private:
  void Release(ConnPtr conn, bool broken);

  Factory factory_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable released_;
  struct Idle {
    ConnPtr conn;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<Idle> idle_;  // LIFO: the most recently used connection is reused first
  size_t open_ = 0;         // idle + leased + being opened
  bool closed_ = false;
};

// What a call is about, for messages: "postgres setif partition 'p' key 'k'".
struct Where {
  std::string_view verb;
  std::string_view partition;
  std::string_view key;
  bool has_key = true;
  std::string ToString() const;
};

enum class Retry {
  kIdempotent,     // retried after any connection failure
  kIfNotExecuted,  // retried only when the server cannot have executed it
};

inline constexpr int kMaxAttempts = 5;

// Runs `statement` on a pooled connection with the retry policy above. OK: a result with
// status TUPLES_OK or COMMAND_OK. Errors: the server's (StatusFromServerError), IOError
// (retryable) after kMaxAttempts connection failures, UnknownOutcome for a kIfNotExecuted
// statement whose answer was lost.
Result<ResultPtr> Run(Pool& pool, const std::string& statement, const Params& params, Retry retry,
                      const Where& where);

}  // namespace refkv::kv::pg

#endif  // REFKV_ENGINE_POSTGRES_PG_CONNECTION_H_
