#include "tests/support/dynalite_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace refkv::testing {
namespace {

std::string DynaliteCli() {
  const char* dir = std::getenv("REFKV_DYNALITE_DIR");
  std::string base = dir && *dir ? dir : REFKV_DYNALITE_DEFAULT_DIR;
  return base + "/node_modules/dynalite/cli.js";
}

std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t colon = p.find(':', pos);
    if (colon == std::string::npos) colon = p.size();
    std::string candidate = p.substr(pos, colon - pos) + "/node";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = colon + 1;
  }
  return {};
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

Result<std::unique_ptr<DynaliteServer>> DynaliteServer::Create(bool persistent) {
  if (FindNode().empty()) {
    return Status::NotFound("node is not installed (scripts/deps installs nodejs)");
  }
  if (access(DynaliteCli().c_str(), R_OK) != 0) {
    return Status::NotFound("dynalite is not installed at " + DynaliteCli() +
                            " (run scripts/install-dynalite BUILD_DIR, or set REFKV_DYNALITE_DIR)");
  }
  std::unique_ptr<DynaliteServer> server(new DynaliteServer());
  if (persistent) {
    char tmpl[] = "/tmp/refkv-dynalite-XXXXXX";
    if (!mkdtemp(tmpl)) return Status::IOError("mkdtemp for dynalite failed");
    server->dir_ = tmpl;
  }
  server->port_ = FreePort();
  if (server->port_ == 0) return Status::IOError("no free TCP port for dynalite");
  REFKV_RETURN_IF_ERROR(server->Start());
  return server;
}

Status DynaliteServer::Start() {
  if (pid_ > 0) return Status::OK();
  const std::string node = FindNode(), cli = DynaliteCli(), port = std::to_string(port_);
  std::vector<std::string> args{node,
                                cli,
                                "--host",
                                "127.0.0.1",
                                "--port",
                                port,
                                "--createTableMs",
                                "0",
                                "--deleteTableMs",
                                "0",
                                "--updateTableMs",
                                "0"};
  if (!dir_.empty()) {
    args.push_back("--path");
    args.push_back(dir_);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) return Status::IOError("fork for dynalite failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    freopen("/dev/null", "w", stdout);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Accepts(port_)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IOError("dynalite exited at start (" + cli + ", port " + port + ")");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Stop();
      return Status::Timeout("dynalite did not listen on port " + port + " within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::OK();
}

void DynaliteServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

DynaliteServer::~DynaliteServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string DynaliteServer::Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

namespace {
std::mutex shared_mu;
std::unique_ptr<DynaliteServer> shared_server;
}  // namespace

Result<std::string> SharedDynamoEndpoint() {
  SetTestCredentials();
  const char* uri = std::getenv("REFKV_TEST_DYNAMODB");
  if (uri && *uri) {
    std::string_view u(uri);
    size_t at = u.find("endpoint=");
    if (at == std::string_view::npos) {
      return Status::InvalidArgument("REFKV_TEST_DYNAMODB='" + std::string(u) +
                                     "' has no endpoint= parameter");
    }
    std::string_view e = u.substr(at + 9);
    return std::string(e.substr(0, e.find('&')));
  }
  std::lock_guard lock(shared_mu);
  if (!shared_server) {
    REFKV_ASSIGN_OR_RETURN(shared_server, DynaliteServer::Create());
  }
  return shared_server->Endpoint();
}

void StopSharedDynalite() {
  std::lock_guard lock(shared_mu);
  shared_server.reset();
}

std::string DynamoTableUri(std::string_view endpoint, std::string_view extra) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  std::string uri = "dynamodb://refkv_" + std::to_string(getpid()) + "_" +
                    std::to_string(counter++) + "_" + std::to_string(now % 1000000007) +
                    "?endpoint=" + std::string(endpoint) + "&region=us-east-1";
  if (!extra.empty()) uri += "&" + std::string(extra);
  return uri;
}

void SetTestCredentials() {
  setenv("AWS_ACCESS_KEY_ID", "refkvtest", /*overwrite=*/0);
  setenv("AWS_SECRET_ACCESS_KEY", "refkvtestsecret", /*overwrite=*/0);
}

}  // namespace refkv::testing
