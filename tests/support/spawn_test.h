// Runs one test of this test binary in a child process: `/proc/self/exe
// --gtest_filter=TEST --gtest_also_run_disabled_tests --gtest_brief=1`, with the parent's
// environment plus `extra_env` ("NAME=value" each). posix_spawn, not fork: the parent
// has RocksDB and libpq threads that a forked child would not have. The child test
// (usually DISABLED_..., so the suite itself skips it) learns its job from the
// environment and reports through its exit code, files, or a report pipe (ChildProcess).
#ifndef REFKV_TESTS_SUPPORT_SPAWN_TEST_H_
#define REFKV_TESTS_SUPPORT_SPAWN_TEST_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace refkv::testing {

// The child inherits every descriptor of the parent that is not close-on-exec, but:
struct SpawnOptions {
  int close_fd = -1;          // a descriptor closed in the child
  bool quiet_stdout = false;  // the child's stdout goes to /dev/null
};

// The child's pid, or -1 if it could not be started.
pid_t SpawnTest(const std::string& test, const std::vector<std::string>& extra_env,
                const SpawnOptions& options = {});

// Waits for `pid` (retrying on EINTR); returns its wait status.
int WaitForChild(pid_t pid);

// A child test that reports to the parent on a pipe, one line per message: the write
// end's number is in the child's REFKV_CHILD_FD (ChildReportFd, Report). The child's
// stdout (gtest's chatter) goes to /dev/null. Killed and reaped on destruction.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Starts the test `test` with `env` added to the environment. False if it could not.
  bool Start(const std::string& test, const std::map<std::string, std::string>& env);
  // Reads one '\n'-terminated line; false at end of file (every write end closed).
  bool ReadLine(std::string* line);
  void Kill();  // SIGKILL
  int Wait();   // waits for the child; its wait status
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

// In the child: the report pipe's write end, or -1 when not running as a child.
int ChildReportFd();

// In the child: writes `line` + '\n' to the report pipe (one write(2), so a line is
// either wholly in the pipe or not at all when the child is killed).
bool Report(int fd, const std::string& line);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_SPAWN_TEST_H_
