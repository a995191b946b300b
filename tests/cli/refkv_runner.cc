#include "tests/cli/refkv_runner.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string_view>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace refkv::testing {
namespace {

// The parent's environment without REFKV_* variables, plus `extra`.
std::vector<std::string> ChildEnv(const Env& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("REFKV_", 0) != 0) env.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int ExitCode(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

const char* RefkvBinary() { return REFKV_BIN; }

namespace {

// RunRefkv with an alarm of `seconds` (0: none) set in the child; it survives execve.
RunResult Run(const std::string& cwd, std::vector<std::string> args, const Env& env,
              const std::string& stdout_path, unsigned seconds) {
  TempDir capture("cli-capture");
  const std::string out_path = stdout_path.empty() ? capture.Sub("out") : stdout_path;
  const std::string err_path = capture.Sub("err");
  args.insert(args.begin(), REFKV_BIN);
  std::vector<char*> argv = Pointers(args);
  std::vector<std::string> env_strings = ChildEnv(env);
  std::vector<char*> envp = Pointers(env_strings);
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(),
                   O_WRONLY | O_CREAT | (stdout_path.empty() ? O_TRUNC : O_APPEND), 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || chdir(cwd.c_str()) != 0) _exit(126);
    dup2(in, 0), dup2(out, 1), dup2(err, 2);
    if (seconds > 0) alarm(seconds);
    execve(REFKV_BIN, argv.data(), envp.data());
    _exit(127);
  }
  RunResult run;
  run.exit_code = ExitCode(pid);
  if (stdout_path.empty()) run.out = ReadFile(out_path);
  run.err = ReadFile(err_path);
  return run;
}

}  // namespace

RunResult RunRefkv(const std::string& cwd, std::vector<std::string> args, const Env& env,
                   const std::string& stdout_path) {
  return Run(cwd, std::move(args), env, stdout_path, 0);
}

RunResult RunRefkvWithin(unsigned seconds, const std::string& cwd, std::vector<std::string> args,
                         const Env& env) {
  return Run(cwd, std::move(args), env, "", seconds);
}

RunResult RunRefkvOnTerminal(const std::string& cwd, std::vector<std::string> args,
                             const Env& env) {
  args.insert(args.begin(), REFKV_BIN);
  std::vector<char*> argv = Pointers(args);
  std::vector<std::string> env_strings = ChildEnv(env);
  std::vector<char*> envp = Pointers(env_strings);
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execve(REFKV_BIN, argv.data(), envp.data());
    _exit(127);
  }
  RunResult run;
  char buf[4096];
  while (true) {
    ssize_t n = read(master, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the child has closed the terminal
    run.out.append(buf, static_cast<size_t>(n));
  }
  run.exit_code = ExitCode(pid);
  close(master);
  return run;
}

std::string Describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace refkv::testing
