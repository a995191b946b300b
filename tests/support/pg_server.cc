#include "tests/support/pg_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "base/random.h"

namespace refkv::testing {
namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kServerUser = "refkv-pg";

// Forks and execs `argv` with stdout and stderr appended to `log`, as (uid, gid) when
// `switch_user`. With `die_with_parent` the child gets SIGQUIT when we exit. Returns the
// pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, bool switch_user,
            uid_t uid, gid_t gid, bool die_with_parent) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls from here on.
  if (switch_user && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
    _exit(126);
  }
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGQUIT);  // after setuid, which would clear it
    if (getppid() != parent) _exit(125);
  }
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  int null_fd = open("/dev/null", O_RDONLY);
  if (fd < 0 || null_fd < 0) _exit(124);
  dup2(null_fd, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  close_range(3, ~0U, 0);  // no inherited descriptors (ctest pipes, sockets) in the server
  execv(args[0], args.data());
  _exit(127);
}

// Waits for `pid` up to `timeout`; its exit status, or -1 on timeout.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string KeywordString(const std::string& dir, int port, std::string_view db) {
  return "host=" + dir + " port=" + std::to_string(port) +
         " user=postgres dbname=" + std::string(db) + " connect_timeout=5";
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Create(const PgServerOptions& options) {
  std::unique_ptr<PgServer> server(new PgServer());
  if (access((std::string(kBinDir) + "/postgres").c_str(), X_OK) != 0) {
    return Status::NotFound(std::string("PostgreSQL 15 is not installed (") + kBinDir +
                            "/postgres missing): run scripts/deps (Debian package postgresql)");
  }
  if (geteuid() == 0) {
    struct passwd* pw = getpwnam(kServerUser);
    if (pw == nullptr) {
      return Status::NotFound(std::string("running as root, PostgreSQL needs the unprivileged "
                                          "user '") +
                              kServerUser + "': run scripts/deps (it creates it)");
    }
    server->as_other_user_ = true;
    server->uid_ = pw->pw_uid;
    server->gid_ = pw->pw_gid;
  }
  // Always /tmp: a Unix socket path must stay under ~107 bytes.
  char pattern[] = "/tmp/refkv-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Status::IOError("mkdtemp /tmp/refkv-pg-XXXXXX failed");
  server->dir_ = pattern;
  if (server->as_other_user_ && chown(pattern, server->uid_, server->gid_) != 0) {
    return Status::IOError("cannot chown " + server->dir_ + " to " + kServerUser);
  }
  server->port_ = 20000 + static_cast<int>(ThreadRng()() % 40000);

  const std::string data = server->dir_ + "/data";
  REFKV_RETURN_IF_ERROR(server->InitDataDir(data));
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# refkv test server\nlisten_addresses = ''\nunix_socket_directories = '"
         << server->dir_ << "'\nport = " << server->port_
         << "\nshared_buffers = " << options.shared_buffers
         << "\nmax_connections = " << options.max_connections
         << "\npassword_encryption = 'scram-sha-256'\n";
    std::ofstream hba(data + "/pg_hba.conf", std::ios::trunc);
    hba << "local all " << kPasswordUser << " scram-sha-256\nlocal all all trust\n";
    if (!conf || !hba) return Status::IOError("cannot write the configuration in " + data);
  }
  REFKV_RETURN_IF_ERROR(server->Start());
  REFKV_RETURN_IF_ERROR(server->Exec("CREATE ROLE " + std::string(kPasswordUser) +
                                     " LOGIN PASSWORD '" + std::string(kPassword) + "'"));
  return server;
}

// initdb costs ~1 s of CPU, and ctest runs each test case in its own process with its
// own server: the first initdb of a machine is kept as a template in /tmp (per server
// user and major version, published atomically by rename) and later servers copy it.
Status PgServer::InitDataDir(const std::string& data) {
  const std::string user = std::to_string(as_other_user_ ? uid_ : geteuid());
  const std::string tmpl = "/tmp/refkv-pg-template-15-u" + user;
  const std::string log = dir_ + "/initdb.log";
  if (access((tmpl + "/ready").c_str(), F_OK) == 0) {
    pid_t pid = Spawn({"/bin/cp", "-a", tmpl + "/data", data}, log, as_other_user_, uid_, gid_,
                      /*die_with_parent=*/false);
    if (pid > 0 && WaitFor(pid, std::chrono::seconds(120)) == 0) return Status::OK();
    std::error_code ec;
    std::filesystem::remove_all(data, ec);  // a broken copy: fall back to initdb
  }
  pid_t pid = Spawn({std::string(kBinDir) + "/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                     "--no-sync", "--locale=C", "-E", "UTF8"},
                    log, as_other_user_, uid_, gid_, /*die_with_parent=*/false);
  if (pid < 0) return Status::IOError("fork for initdb failed");
  int status = WaitFor(pid, std::chrono::seconds(120));
  if (status != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return Status::IOError("initdb in " + data + " failed (" + Describe(status) +
                           "): " + text.str());
  }
  // Publish the template (best effort; a concurrent publisher may win the rename).
  const std::string staging = tmpl + ".tmp-" + std::to_string(getpid());
  const std::string script = "mkdir -p '" + staging + "' && cp -a '" + data + "' '" + staging +
                             "/data' && touch '" + staging + "/ready' && mv -T '" + staging +
                             "' '" + tmpl + "' || rm -rf '" + staging + "'";
  pid = Spawn({"/bin/sh", "-c", script}, log, as_other_user_, uid_, gid_, false);
  if (pid > 0) WaitFor(pid, std::chrono::seconds(120));
  return Status::OK();
}

PgServer::~PgServer() {
  if (running()) (void)Stop(/*immediate=*/true);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Status PgServer::Start() {
  if (running()) return Status::OK();
  pid_ = Spawn({std::string(kBinDir) + "/postgres", "-D", dir_ + "/data"}, dir_ + "/server.log",
               as_other_user_, uid_, gid_, /*die_with_parent=*/true);
  if (pid_ < 0) return Status::IOError("fork for postgres failed");
  const std::string conninfo = KeywordString(dir_, port_, "postgres");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IOError("postgres in " + dir_ + " exited at start (" + Describe(status) +
                             "): " + LogTail());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      (void)Stop(true);
      return Status::Timeout("postgres in " + dir_ +
                             " did not accept connections in 60 s: " + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::OK();
}

Status PgServer::Stop(bool immediate) {
  if (!running()) return Status::OK();
  kill(pid_, immediate ? SIGQUIT : SIGINT);
  int status = WaitFor(pid_, std::chrono::seconds(60));
  if (status == -1) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
    pid_ = -1;
    return Status::Timeout("postgres in " + dir_ + " did not stop in 60 s; killed");
  }
  pid_ = -1;
  return Status::OK();
}

std::string PgServer::Uri(std::string_view database) const {
  return "postgres:///" + std::string(database) + "?host=" + dir_ +
         "&port=" + std::to_string(port_) + "&user=postgres";
}

Status PgServer::Exec(std::string_view sql, std::string_view database) const {
  PGconn* conn = PQconnectdb(KeywordString(dir_, port_, database).c_str());
  Status out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = Status::IOError("cannot connect to the test server in " + dir_ + ": " +
                          PQerrorMessage(conn));
  } else {
    PGresult* r = PQexec(conn, std::string(sql).c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string message(sql);  // (not "'" + std::string: GCC 12 -Wrestrict false positive)
      message += " failed: ";
      message += PQresultErrorMessage(r);
      out = Status::IOError(std::move(message));
    }
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

std::string PgServer::LogTail() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream all;
  all << in.rdbuf();
  std::string log = all.str();
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

namespace {
std::mutex shared_mu;
std::unique_ptr<PgServer>* shared_server = nullptr;
std::string* shared_uri = nullptr;
Status* shared_error = nullptr;
}  // namespace

Result<std::string> SharedPostgresUri() {
  std::lock_guard<std::mutex> lock(shared_mu);
  if (shared_uri != nullptr) return *shared_uri;
  if (shared_error != nullptr) return *shared_error;
  const char* env = std::getenv("REFKV_TEST_POSTGRES");
  if (env != nullptr && *env != '\0') {
    shared_uri = new std::string(env);
    return *shared_uri;
  }
  auto server = PgServer::Create();
  if (!server.ok()) {
    shared_error = new Status(server.status().WithContext("starting a throwaway PostgreSQL"));
    return *shared_error;
  }
  shared_server = new std::unique_ptr<PgServer>(std::move(server).value());
  shared_uri = new std::string((*shared_server)->Uri());
  return *shared_uri;
}

void StopSharedPostgres() {
  std::lock_guard<std::mutex> lock(shared_mu);
  if (shared_server != nullptr) shared_server->reset();
}

std::string WithParam(const std::string& base, std::string_view name, std::string_view value) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + std::string(name) + "=" +
         std::string(value);
}

}  // namespace refkv::testing
