// Tests that need something the machine may lack (a PostgreSQL server, io_uring, a
// driver) skip without it, but fail instead where everything is required:
// REFKV_REQUIRE_ALL=1 (scripts/test sets it, so CI cannot go green on a silent skip).
//
//   if (!UringAvailable()) REFKV_SKIP_UNLESS_REQUIRED("io_uring not available here");
#ifndef REFKV_TESTS_SUPPORT_REQUIRE_H_
#define REFKV_TESTS_SUPPORT_REQUIRE_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace refkv::testing {

// True when REFKV_REQUIRE_ALL is set to anything but "" or "0".
inline bool AllRequired() {
  const char* v = std::getenv("REFKV_REQUIRE_ALL");
  return v != nullptr && std::string_view(v) != "" && std::string_view(v) != "0";
}

}  // namespace refkv::testing

// Skips the test with `reason`, or fails it when everything is required. Returns from
// the calling function either way (a void function: a test body, SetUp).
#define REFKV_SKIP_UNLESS_REQUIRED(reason)                                      \
  do {                                                                          \
    if (::refkv::testing::AllRequired()) {                                      \
      GTEST_FAIL() << (reason) << " (REFKV_REQUIRE_ALL is set: required here)"; \
    }                                                                           \
    GTEST_SKIP() << (reason);                                                   \
  } while (0)

#endif  // REFKV_TESTS_SUPPORT_REQUIRE_H_
