// A throwaway PostgreSQL 15 server for tests and benchmarks.
//
// PgServer::Create runs Debian's initdb into a fresh directory under /tmp, then starts
// `postgres` listening only on a Unix socket in that directory (listen_addresses = '').
// fsync and synchronous_commit keep their defaults, so writes are durable as in
// production. When the process runs as root (CI does) the server runs as the
// unprivileged user `refkv-pg` (scripts/deps creates it): PostgreSQL refuses root.
// The first initdb on a machine is kept in /tmp/refkv-pg-template-15-u<uid> and copied by
// later servers (initdb costs ~1 s of CPU; ctest starts a server per test case).
// The server is this process's child and gets SIGQUIT if this process dies, so a crashed
// test leaves no server behind. The destructor stops it and removes the directory.
//
// pg_hba.conf: every local user is trusted, except the role kPasswordUser, which must
// authenticate with SCRAM using kPassword (for authentication-failure tests).
//
// SharedPostgresUri() gives the one server a test binary or benchmark shares: the URI in
// $REFKV_TEST_POSTGRES when set, else a throwaway server started on first use.
//
// Thread-safety: a PgServer is used from one thread; SharedPostgresUri is thread-safe.
#ifndef REFKV_TESTS_SUPPORT_PG_SERVER_H_
#define REFKV_TESTS_SUPPORT_PG_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"

namespace refkv::testing {

inline constexpr std::string_view kPasswordUser = "refkv_password";
inline constexpr std::string_view kPassword = "refkv-secret";

struct PgServerOptions {
  std::string shared_buffers = "32MB";
  int max_connections = 100;
};

class PgServer {
 public:
  // initdb + start. The error says what failed, with the tail of the server's log.
  static Result<std::unique_ptr<PgServer>> Create(const PgServerOptions& options = {});
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Starts the stopped server and waits until it accepts connections (up to 60 s).
  Status Start();
  // Stops it: fast shutdown (sessions get FATAL, clean checkpoint), or immediate
  // (SIGQUIT: like a crash; the next Start runs crash recovery). Waits for the exit.
  Status Stop(bool immediate = false);
  bool running() const { return pid_ > 0; }

  // A libpq URI for `database` as the superuser "postgres":
  // postgres:///DB?host=DIR&port=PORT&user=postgres
  std::string Uri(std::string_view database = "postgres") const;
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }

  // Runs `sql` (a simple query, several statements allowed) as the superuser.
  Status Exec(std::string_view sql, std::string_view database = "postgres") const;

 private:
  PgServer() = default;
  Status InitDataDir(const std::string& data);
  std::string LogTail() const;

  std::string dir_;
  int port_ = 0;
  uid_t uid_ = 0;  // the server's user when we run as root
  gid_t gid_ = 0;
  bool as_other_user_ = false;
  pid_t pid_ = -1;
};

// The URI of the server shared by this process (see above). An error if it could not be
// started; callers fail their test with it.
Result<std::string> SharedPostgresUri();
// Stops the shared throwaway server, if one was started (at the end of a test binary).
void StopSharedPostgres();

// `base` (a postgres URI) with `name=value` appended to its query.
std::string WithParam(const std::string& base, std::string_view name, std::string_view value);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_PG_SERVER_H_
