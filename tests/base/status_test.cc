#include "base/status.h"

#include <gtest/gtest.h>

#include "base/result.h"

namespace refkv {
namespace {

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(Status, CarriesCodeMessageAndRetryable) {
  Status s = Status::NotFound("key 'k' not found");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.ToString(), "not_found: key 'k' not found");
  EXPECT_TRUE(Status::Busy("held").retryable());
  EXPECT_TRUE(Status::IOError("conn", true).retryable());
  Status copy = s;
  EXPECT_EQ(copy.ToString(), s.ToString());
  Status ctx = s.WithContext("reading");
  EXPECT_EQ(ctx.ToString(), "not_found: reading: key 'k' not found");
  EXPECT_TRUE(Status().WithContext("x").ok());
}

TEST(Status, NoSpaceIsItsOwnCodeAndNotRetryable) {
  Status s = Status::NoSpace("rocks set in partition 'p' (store '/s'): no space left on device");
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_FALSE(s.IsIOError());
  EXPECT_FALSE(s.retryable());  // it fails again until space is freed
  EXPECT_EQ(s.code(), StatusCode::kNoSpace);
  EXPECT_EQ(s.ToString().rfind("no_space: ", 0), 0u) << s.ToString();
  EXPECT_TRUE(s.WithContext("commit").IsNoSpace());
}

// A refusal's reason travels with the Status (the CLI maps it to an exit code): kept by
// copies and WithContext, absent on OK and on a Status that was not given one.
TEST(Status, ReasonTravelsWithTheStatus) {
  EXPECT_EQ(Status::IOError("x").reason(), StatusReason::kNone);
  EXPECT_EQ(Status().WithReason(StatusReason::kBadBackup).reason(), StatusReason::kNone);
  EXPECT_TRUE(Status().WithReason(StatusReason::kBadBackup).ok());
  Status s = Status::Busy("held").WithReason(StatusReason::kStoreInUse);
  EXPECT_TRUE(s.IsBusy());
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.reason(), StatusReason::kStoreInUse);
  EXPECT_EQ(s.ToString(), "busy: held");  // the message does not change
  Status copy = s;
  EXPECT_EQ(copy.reason(), StatusReason::kStoreInUse);
  Status ctx = s.WithContext("restore");
  EXPECT_EQ(ctx.reason(), StatusReason::kStoreInUse);
  EXPECT_TRUE(ctx.retryable());
  EXPECT_TRUE(ctx.IsBusy());
  EXPECT_EQ(ctx.ToString(), "busy: restore: held");
  EXPECT_EQ(ctx.WithReason(StatusReason::kFreeSpace).reason(), StatusReason::kFreeSpace);
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  REFKV_ASSIGN_OR_RETURN(int h, Half(x));
  REFKV_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  REFKV_RETURN_IF_ERROR(Half(x).status());
  return Status::OK();
}

TEST(Result, ValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_TRUE(Quarter(6).status().IsInvalidArgument());
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_TRUE(CheckEven(3).IsInvalidArgument());
  Result<int> bad = Status::OK();  // an OK status holds no value: an Internal error
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_EQ(Quarter(3).value_or(-1), -1);
}

}  // namespace
}  // namespace refkv
