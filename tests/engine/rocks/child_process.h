// Runs this test binary again as a child process that executes one (disabled) test,
// for tests that need a second process: a store held open elsewhere, a writer killed
// with SIGKILL. fork+exec, not fork alone: the parent has RocksDB background threads,
// which a forked child would not have.
//
// The child learns its job from environment variables and reports on a pipe whose
// write end is passed as REFKV_CHILD_FD.
#ifndef REFKV_TESTS_ENGINE_ROCKS_CHILD_PROCESS_H_
#define REFKV_TESTS_ENGINE_ROCKS_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

namespace refkv::kv::testing {

class ChildProcess {
 public:
  // Starts `/proc/self/exe --gtest_filter=<test> --gtest_also_run_disabled_tests` with
  // `env` added to the environment. Returns false if fork/exec failed.
  bool Start(const std::string& test, const std::map<std::string, std::string>& env) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      close(fds[0]);
      int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);  // keep gtest's chatter out
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      setenv("REFKV_CHILD_FD", std::to_string(fds[1]).c_str(), 1);
      std::string filter = "--gtest_filter=" + test;
      execl("/proc/self/exe", "child", filter.c_str(), "--gtest_also_run_disabled_tests",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    read_fd_ = fds[0];
    return true;
  }

  // Reads one '\n'-terminated line; false at end of file.
  bool ReadLine(std::string* line) {
    line->clear();
    char c;
    while (true) {
      ssize_t n = read(read_fd_, &c, 1);
      if (n <= 0) return false;
      if (c == '\n') return true;
      line->push_back(c);
    }
  }

  // Makes reads return what is buffered, then end of file, without blocking.
  void SetNonBlocking() { fcntl(read_fd_, F_SETFL, fcntl(read_fd_, F_GETFL) | O_NONBLOCK); }

  void Kill() {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }

  // Waits for the child; returns its wait status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  pid_t pid() const { return pid_; }

  ~ChildProcess() {
    if (pid_ > 0) {
      Kill();
      Wait();
    }
    if (read_fd_ >= 0) close(read_fd_);
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

// In the child: the report pipe's write end, or -1 when not running as a child.
inline int ChildReportFd() {
  const char* fd = std::getenv("REFKV_CHILD_FD");
  return fd ? std::atoi(fd) : -1;
}

// In the child: writes `line` + '\n' to the report pipe (one write(2), so a line is
// either wholly in the pipe or not at all when the child is killed).
inline bool Report(int fd, const std::string& line) {
  std::string out = line + "\n";
  return write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
}

}  // namespace refkv::kv::testing

#endif  // REFKV_TESTS_ENGINE_ROCKS_CHILD_PROCESS_H_
