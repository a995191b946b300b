// Concurrency of the RocksDB driver beyond the conformance suite: partitions dropped and
// re-created while readers (with open iterators) and writers use them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/open.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv {
namespace {

class RocksConcurrency : public ::testing::TestWithParam<const char*> {
 protected:
  // Records the first unexpected status.
  void Check(const Status& s, bool allow_not_found, bool allow_predicate_failed, const char* what) {
    if (s.ok() || (allow_not_found && s.IsNotFound()) ||
        (allow_predicate_failed && s.IsPredicateFailed())) {
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (first_error_.empty()) first_error_ = std::string(what) + ": " + s.ToString();
    errors_++;
  }

  std::mutex mu_;
  std::string first_error_;
  std::atomic<int> errors_{0};
};

TEST_P(RocksConcurrency, DropWhileReadingAndWriting) {
  refkv::testing::TempDir dir("rocks-conc");
  auto opened = Open("rocks://" + dir.Sub("db") + "?partitions=" + GetParam());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& s = **opened;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.Set("p", "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(s.Set("other", "k", "stays").ok());

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {  // readers, one holding iterators across drops
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        auto got = s.Get("p", "k1");
        Check(got.status(), true, false, "get");
        auto it = s.Scan("p", {});
        Check(it.status(), false, false, "scan");
        if (it.ok()) {
          std::string last;
          for (; (*it)->Valid(); (*it)->Next()) {
            if (t == 1) std::this_thread::sleep_for(std::chrono::microseconds(50));
            std::string key((*it)->key());
            if (!last.empty() && key <= last)
              Check(Status::Internal("scan out of order"), false, false, "scan");
            last = key;
          }
          Check((*it)->status(), false, false, "scan status");
        }
        auto many = s.MultiGet("p", {"k1", "k2", "nope"});
        Check(many.status(), false, false, "multiget");
        if (many.ok()) {
          for (const auto& one : *many) Check(one.status(), true, false, "multiget key");
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {  // writers
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::string k = "k" + std::to_string(i % 20);
        Check(s.Set("p", k, "w" + std::to_string(t)), false, false, "set");
        Check(s.SetIf("p", "cas", k, Predicate::Absent()), false, true, "setif");
        Check(s.DeleteIf("p", "cas", Predicate::Equals(k)), false, true, "deleteif");
        WriteBatch batch;
        batch.Put("b1", k);
        batch.Put("b2", k);
        batch.Delete(k);
        Check(s.Write("p", batch), false, false, "write");
        if (i % 50 == 0) Check(s.DeleteRange("p", "k1", "k5"), false, false, "deleterange");
      }
    });
  }
  for (int round = 0; round < 15; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Check(s.DropPartition("p"), false, false, "droppartition");
  }
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors_.load(), 0) << first_error_;
  // Still consistent: the batch keys agree with each other, other partitions untouched.
  auto b1 = s.Get("p", "b1"), b2 = s.Get("p", "b2");
  EXPECT_EQ(b1.ok(), b2.ok());
  if (b1.ok() && b2.ok()) {
    EXPECT_EQ(*b1, *b2);
  }
  auto other = s.Get("other", "k");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, "stays");
  ASSERT_TRUE(s.Set("p", "after", "x").ok());
  ASSERT_TRUE(s.Close().ok());
}

// Counters on a few hot keys updated by many threads with SetIf, mixing increments with
// rewrites that keep the count but change the bytes (so cached and stored values must
// agree byte for byte): the counts end equal to the number of successful increments.
TEST_P(RocksConcurrency, HotKeyCountersLoseNothing) {
  refkv::testing::TempDir dir("rocks-conc2");
  auto opened = Open("rocks://" + dir.Sub("db") + "?partitions=" + GetParam());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& s = **opened;
  constexpr int kThreads = 4, kKeys = 8, kAttempts = 400;
  for (int k = 0; k < kKeys; ++k) ASSERT_TRUE(s.Set("c", "n" + std::to_string(k), "0").ok());
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttempts; ++i) {
        std::string key = "n" + std::to_string((i + t) % kKeys);
        auto cur = s.Get("c", key);
        Check(cur.status(), false, false, "get");
        if (!cur.ok()) continue;
        // Values are "<count>[.tag]".
        std::string count = cur->substr(0, cur->find('.'));
        if (i % 5 == 0) {
          Status st = s.SetIf("c", key, count + ".t" + std::to_string(t), Predicate::Equals(*cur));
          Check(st, false, true, "setif-rename");
          continue;
        }
        Status st =
            s.SetIf("c", key, std::to_string(std::stoi(count) + 1), Predicate::Equals(*cur));
        Check(st, false, true, "setif");
        if (st.ok()) successes++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors_.load(), 0) << first_error_;
  int total = 0;
  for (int k = 0; k < kKeys; ++k) {
    auto v = s.Get("c", "n" + std::to_string(k));
    ASSERT_TRUE(v.ok());
    total += std::stoi(v->substr(0, v->find('.')));
  }
  EXPECT_EQ(total, successes.load());
}

INSTANTIATE_TEST_SUITE_P(Mappings, RocksConcurrency, ::testing::Values("cf", "shared"));

}  // namespace
}  // namespace refkv::kv
