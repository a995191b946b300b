// The fixture of the ref store's operation tests (refstore_test, refstore_commit_test,
// refstore_cleaner_test: one binary, instantiated on every driver in refstore_test.cc).
#ifndef REFKV_TESTS_REFSTORE_REFSTORE_FIXTURE_H_
#define REFKV_TESTS_REFSTORE_REFSTORE_FIXTURE_H_

#include <gtest/gtest.h>

#include <string>

#include "tests/refstore/harness.h"
#include "tests/support/require.h"

namespace refkv::testing {

class RefStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Status s = OpenEnv(GetParam(), TestOptions(), &env_);
    if (s.IsUnsupported()) REFKV_SKIP_UNLESS_REQUIRED(s.ToString());
    ASSERT_OK(s);
    refs_ = env_.refs.get();
  }

  refstore::CommitInfo CommitOk(const std::string& repo, const std::string& branch,
                                const std::string& message = "m") {
    refstore::CommitRequest req;
    req.committer = "tester";
    req.message = message;
    auto r = refs_->Commit(repo, branch, req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->outcome, refstore::CommitResult::Outcome::kCommitted);
    return r->commit;
  }

  TestEnv env_;
  refstore::RefStore* refs_ = nullptr;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_REFSTORE_REFSTORE_FIXTURE_H_
