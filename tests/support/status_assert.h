// ASSERT_OK / EXPECT_OK for a Status or a Result<T>: the expression is evaluated once and
// a failure prints it with the status.
#ifndef REFKV_TESTS_SUPPORT_STATUS_ASSERT_H_
#define REFKV_TESTS_SUPPORT_STATUS_ASSERT_H_

#include <gtest/gtest.h>

#include "base/result.h"
#include "base/status.h"

#define ASSERT_OK(expr)                                                                 \
  do {                                                                                  \
    auto&& _s = (expr);                                                                 \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << ::refkv::testing::StatusOf(_s).ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                                 \
  do {                                                                                  \
    auto&& _s = (expr);                                                                 \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << ::refkv::testing::StatusOf(_s).ToString(); \
  } while (0)

namespace refkv::testing {
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_STATUS_ASSERT_H_
