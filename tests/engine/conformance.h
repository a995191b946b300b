// The driver conformance suite: the same test code for every kv::Store driver.
//
// A driver joins by defining an environment and instantiating the suite:
//
//   struct MyEnv : refkv::kv::testing::ConformanceEnv {
//     // Opens a fresh, empty store; the env owns whatever backs it (a temp dir ...).
//     refkv::Result<std::unique_ptr<refkv::kv::Store>> Open() override;
//   };
//   INSTANTIATE_TEST_SUITE_P(My, StoreConformance, ::testing::Values(EnvCase<MyEnv>("Default")),
//                            ConformanceCaseName);
//
// and linking the test bodies (tests/engine/conformance.cc, the refkv_conformance object
// library). The bodies are compiled once for every driver and set-up: a value-parameterised
// suite, not a typed one, because typed bodies were compiled again per set-up (minutes of
// the sanitizer builds). The env is constructed once per test and destroyed after the store.
#ifndef REFKV_TESTS_ENGINE_CONFORMANCE_H_
#define REFKV_TESTS_ENGINE_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/store.h"

namespace refkv::kv::testing {

// Every (key, value) the iterator yields from its current position to the end.
inline std::vector<std::pair<std::string, std::string>> Drain(Iterator& it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it.Valid(); it.Next()) out.emplace_back(std::string(it.key()), std::string(it.value()));
  EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  return out;
}

inline std::vector<std::string> Keys(Store& store, std::string_view partition,
                                     const ScanOptions& options = {}) {
  auto it = store.Scan(partition, options);
  EXPECT_TRUE(it.ok()) << it.status().ToString();
  std::vector<std::string> out;
  if (!it.ok()) return out;
  for (auto& [k, v] : Drain(**it)) out.push_back(k);
  return out;
}

class ConformanceEnv {
 public:
  virtual ~ConformanceEnv() = default;
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // Why the driver cannot run the suite's test `test` (its name without the set-up
  // suffix) - a documented limitation of the driver, or a server missing here - and the
  // test is skipped; or "".
  virtual std::string Unsupported(std::string_view test) const { return {}; }
};

// One set-up of a driver: its name (the test name's suffix) and how to make its env.
struct ConformanceCase {
  std::string name;
  std::function<std::unique_ptr<ConformanceEnv>()> make_env;
};

template <typename Env>
ConformanceCase EnvCase(std::string name) {
  return {std::move(name), [] { return std::make_unique<Env>(); }};
}

// Test listings show the set-up's name, not the bytes of the case.
inline void PrintTo(const ConformanceCase& c, std::ostream* os) { *os << c.name; }

inline std::string ConformanceCaseName(const ::testing::TestParamInfo<ConformanceCase>& info) {
  return info.param.name;
}

class StoreConformance : public ::testing::TestWithParam<ConformanceCase> {
 protected:
  void SetUp() override {
    env_ = GetParam().make_env();
    std::string_view test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    if (std::string why = env_->Unsupported(test.substr(0, test.find('/'))); !why.empty()) {
      GTEST_SKIP() << why;
    }
    auto store = env_->Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
      store_.reset();
    }
  }

  Store& store() { return *store_; }

  void ExpectValue(std::string_view p, std::string_view k, std::string_view want) {
    auto got = store_->Get(p, k);
    ASSERT_TRUE(got.ok()) << "get " << Printable(k) << ": " << got.status().ToString();
    EXPECT_EQ(*got, want) << "key " << Printable(k);
  }
  void ExpectMissing(std::string_view p, std::string_view k) {
    auto got = store_->Get(p, k);
    EXPECT_TRUE(got.status().IsNotFound())
        << "key " << Printable(k) << ": " << got.status().ToString();
  }

  std::unique_ptr<ConformanceEnv> env_;  // destroyed after store_ (declared first)
  std::unique_ptr<Store> store_;
};

}  // namespace refkv::kv::testing

#endif  // REFKV_TESTS_ENGINE_CONFORMANCE_H_
