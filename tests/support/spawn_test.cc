#include "tests/support/spawn_test.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

extern char** environ;

namespace refkv::testing {

pid_t SpawnTest(const std::string& test, const std::vector<std::string>& extra_env,
                const SpawnOptions& options) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return -1;
  exe[n] = '\0';
  std::vector<std::string> env_strings = extra_env;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string filter = "--gtest_filter=" + test;
  std::string disabled = "--gtest_also_run_disabled_tests";
  std::string brief = "--gtest_brief=1";
  char* argv[] = {exe, filter.data(), disabled.data(), brief.data(), nullptr};
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return -1;
  bool ok = true;
  if (options.close_fd >= 0) {
    ok = ok && posix_spawn_file_actions_addclose(&actions, options.close_fd) == 0;
  }
  if (options.quiet_stdout) {
    ok = ok &&
         posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) == 0;
  }
  pid_t pid = -1;
  if (ok && posix_spawn(&pid, exe, &actions, nullptr, argv, envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int WaitForChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool ChildProcess::Start(const std::string& test, const std::map<std::string, std::string>& env) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::vector<std::string> extra;
  for (const auto& [k, v] : env) extra.push_back(k + "=" + v);
  extra.push_back("REFKV_CHILD_FD=" + std::to_string(fds[1]));
  SpawnOptions options;  // the child inherits the write end
  options.close_fd = fds[0];
  options.quiet_stdout = true;
  pid_ = SpawnTest(test, extra, options);
  close(fds[1]);  // the child's now: end of file once it is gone
  if (pid_ < 0) {
    close(fds[0]);
    return false;
  }
  read_fd_ = fds[0];
  return true;
}

bool ChildProcess::ReadLine(std::string* line) {
  line->clear();
  char c;
  while (true) {
    ssize_t n = read(read_fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

void ChildProcess::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
}

int ChildProcess::Wait() {
  int status = 0;
  if (pid_ > 0) status = WaitForChild(pid_);
  pid_ = -1;
  return status;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    Kill();
    Wait();
  }
  if (read_fd_ >= 0) close(read_fd_);
}

int ChildReportFd() {
  const char* fd = std::getenv("REFKV_CHILD_FD");
  return fd ? std::atoi(fd) : -1;
}

bool Report(int fd, const std::string& line) {
  std::string out = line + "\n";
  return write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
}

}  // namespace refkv::testing
