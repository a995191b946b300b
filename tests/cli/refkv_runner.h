// Runs the built `refkv` binary as a child process for end-to-end tests: a clean
// environment (the parent's without REFKV_* variables, plus what the test adds), stdin
// from /dev/null, stdout and stderr captured (through files, or on a pseudo-terminal).
#ifndef REFKV_TESTS_CLI_REFKV_RUNNER_H_
#define REFKV_TESTS_CLI_REFKV_RUNNER_H_

#include <map>
#include <string>
#include <vector>

namespace refkv::testing {

struct RunResult {
  int exit_code = -1;  // 128 + signal number when the child was killed
  std::string out, err;
};

using Env = std::map<std::string, std::string>;

// The path of the refkv binary under test.
const char* RefkvBinary();

// Runs refkv ARGS in `cwd`. stdout and stderr are files, not a terminal. A non-empty
// `stdout_path` receives stdout (appended) instead of RunResult::out.
RunResult RunRefkv(const std::string& cwd, std::vector<std::string> args, const Env& env = {},
                   const std::string& stdout_path = "");

// As RunRefkv, but the child is killed by SIGALRM after `seconds` (exit code 128 + 14):
// for a test whose bug is a hang (reading a FIFO), so that it fails instead of hanging.
RunResult RunRefkvWithin(unsigned seconds, const std::string& cwd, std::vector<std::string> args,
                         const Env& env = {});

// Runs refkv with stdout and stderr on one pseudo-terminal; RunResult::out holds both.
RunResult RunRefkvOnTerminal(const std::string& cwd, std::vector<std::string> args,
                             const Env& env = {});

// Exit code, stdout and stderr, for assertion messages.
std::string Describe(const RunResult& r);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_CLI_REFKV_RUNNER_H_
