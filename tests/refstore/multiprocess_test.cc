// Commits across processes on PostgreSQL: several refstore_committer processes (fork +
// exec) stage unique paths and commit them on one branch of one repository in one
// database at once. Afterwards: every commit a process reported as its own is in the log
// exactly once, the history is linear, every reported commit holds the write staged just
// before the call, and every staged path is at the head (nothing lost).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "refstore/check.h"
#include "tests/refstore/harness.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;

constexpr int kProcesses = 4;

// Commits per process: 150, or 40 under sanitizers; REFKV_REFSTORE_PROCESS_COMMITS overrides.
int CommitsPerProcess() {
  if (const char* env = std::getenv("REFKV_REFSTORE_PROCESS_COMMITS")) return std::atoi(env);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return 40;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return 40;
#endif
#endif
  return 150;
}

// The helper binary beside this test binary.
std::string HelperPath() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "refstore_committer";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "refstore_committer";
}

// Starts `argv` with stdout to `out` and stderr to `err`; the child's pid. Everything the
// child needs is prepared before fork (the parent has threads: only async-signal-safe
// calls between fork and exec).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* out_path = out.c_str();
  const char* err_path = err.c_str();
  pid_t pid = fork();
  if (pid != 0) return pid;
  int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
  execv(args[0], args.data());
  _exit(127);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Line {
  std::string path, result, commit_id;
};

TEST(MultiProcessTest, CommittersInSeveralProcessesLoseNothing) {
  TestEnv env;
  ASSERT_OK(OpenEnv("postgres", TestOptions(), &env));
  ASSERT_OK(env.refs->CreateRepository("r"));
  const std::string helper = HelperPath();
  ASSERT_EQ(access(helper.c_str(), X_OK), 0) << helper << " is missing (build refstore_committer)";
  const int n = CommitsPerProcess();

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const std::string tag = "p" + std::to_string(p);
    children.push_back(Spawn({helper, env.uri, "r", "main", tag, std::to_string(n)},
                             env.dir->Sub(tag + ".out"), env.dir->Sub(tag + ".err")));
    ASSERT_GT(children.back(), 0);
  }
  for (int p = 0; p < kProcesses; ++p) {
    int status = 0;
    ASSERT_EQ(waitpid(children[p], &status, 0), children[p]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "committer p" << p << " status " << status << ": "
        << ReadAll(env.dir->Sub("p" + std::to_string(p) + ".err"));
  }
  // Fold what a commit that gave up left staged.
  rs::CommitRequest final_req;
  final_req.message = "final";
  ASSERT_OK(env.refs->Commit("r", "main", final_req));

  // The log: one linear chain.
  rs::LogOptions all;
  all.limit = 0;
  auto log = env.refs->Log("r", "main", all);
  ASSERT_OK(log);
  std::map<std::string, int> in_log;
  for (size_t i = 0; i < log->commits.size(); ++i) {
    const auto& c = log->commits[i];
    EXPECT_EQ(++in_log[c.id], 1) << "commit twice in the log: " << c.id;
    if (i + 1 < log->commits.size()) {
      ASSERT_EQ(c.parents.size(), 1u) << c.id;
      EXPECT_EQ(c.parents[0], log->commits[i + 1].id);
      EXPECT_EQ(c.generation, log->commits[i + 1].generation + 1);
    } else {
      EXPECT_TRUE(c.parents.empty());
    }
  }

  std::map<std::string, int> made_by;  // commit id -> calls that reported it as their own
  std::map<std::string, int> results;
  for (int p = 0; p < kProcesses; ++p) {
    std::istringstream out(ReadAll(env.dir->Sub("p" + std::to_string(p) + ".out")));
    int lines = 0;
    Line l;
    std::string attempts;
    while (out >> l.path >> l.result >> l.commit_id >> attempts) {
      ++lines;
      ++results[l.result];
      if (l.result == "conflict") continue;
      ASSERT_TRUE(l.result == "committed" || l.result == "concurrently" || l.result == "nochanges")
          << l.path << " " << l.result << ": "
          << ReadAll(env.dir->Sub("p" + std::to_string(p) + ".err"));
      EXPECT_TRUE(in_log.count(l.commit_id)) << "reported commit not in the log: " << l.commit_id;
      EXPECT_TRUE(env.refs->GetEntry("r", l.commit_id, l.path).ok())
          << l.path << " is not in " << l.commit_id;
      if (l.result == "committed") {
        EXPECT_EQ(++made_by[l.commit_id], 1) << "two calls made " << l.commit_id;
      }
    }
    EXPECT_EQ(lines, n) << "committer p" << p << " reported " << lines << " calls";
  }
  // Every commit but the initial one (and maybe the final one) was made by exactly one call.
  EXPECT_GE(made_by.size() + 2, log->commits.size());
  EXPECT_LE(made_by.size() + 1, log->commits.size());
  auto entries = AllEntries(*env.refs, "r", "main");
  for (int p = 0; p < kProcesses; ++p) {
    for (int i = 0; i < n; ++i) {
      const std::string path = "p" + std::to_string(p) + "/" + std::to_string(i);
      auto it = entries.find(path);
      ASSERT_NE(it, entries.end()) << "lost staged write " << path;
      EXPECT_EQ(it->second, "v" + std::to_string(i));
    }
  }
  EXPECT_EQ(entries.size(), static_cast<size_t>(kProcesses * n));
  auto staged = env.refs->DiffUncommitted("r", "main");
  ASSERT_OK(staged);
  EXPECT_TRUE(staged->empty());
  std::printf(
      "%d processes x %d: %d committed, %d concurrently, %d no changes, %d conflicts, "
      "%zu commits\n",
      kProcesses, n, results["committed"], results["concurrently"], results["nochanges"],
      results["conflict"], log->commits.size());

  // The records of lost attempts go; what is left checks out.
  auto stats = env.refs->CollectGarbage();
  ASSERT_OK(stats);
  ExpectNoLeftovers(*env.base, *env.ranges);
  ExpectConsistent(*env.refs);
  auto report = rs::Check(*env.store, *env.refs, *env.ranges);
  ASSERT_OK(report);
  for (const auto& v : report->violations) ADD_FAILURE() << v.location << ": " << v.problem;
}

}  // namespace
}  // namespace refkv::testing
