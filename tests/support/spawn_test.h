// Runs one test of this test binary in a child process: `/proc/self/exe
// --gtest_filter=TEST --gtest_also_run_disabled_tests --gtest_brief=1`, with the parent's
// environment plus `extra_env` ("NAME=value" each). posix_spawn, not fork: the parent
// has RocksDB and libpq threads that a forked child would not have. The child test
// (usually DISABLED_..., so the suite itself skips it) learns its job from the
// environment and reports through its exit code or files.
#ifndef REFKV_TESTS_SUPPORT_SPAWN_TEST_H_
#define REFKV_TESTS_SUPPORT_SPAWN_TEST_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace refkv::testing {

// The child's pid, or -1 if it could not be started.
pid_t SpawnTest(const std::string& test, const std::vector<std::string>& extra_env);

// Waits for `pid` (retrying on EINTR); returns its wait status.
int WaitForChild(pid_t pid);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_SPAWN_TEST_H_
