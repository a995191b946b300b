// The bodies of the driver conformance suite (see conformance.h).
#include "tests/engine/conformance.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace refkv::kv::testing {
namespace {

TEST_P(StoreConformance, EmptyPartitionOrKeyIsInvalidArgument) {
  Store& s = this->store();
  EXPECT_TRUE(s.Get("", "k").status().IsInvalidArgument());
  EXPECT_TRUE(s.Get("p", "").status().IsInvalidArgument());
  EXPECT_TRUE(s.Set("", "k", "v").IsInvalidArgument());
  EXPECT_TRUE(s.Set("p", "", "v").IsInvalidArgument());
  EXPECT_TRUE(s.SetIf("p", "", "v", Predicate::Absent()).IsInvalidArgument());
  EXPECT_TRUE(s.SetIf("", "k", "v", Predicate::Absent()).IsInvalidArgument());
  EXPECT_TRUE(s.Delete("", "k").IsInvalidArgument());
  EXPECT_TRUE(s.Delete("p", "").IsInvalidArgument());
  EXPECT_TRUE(s.DeleteIf("p", "", Predicate::Exists()).IsInvalidArgument());
  EXPECT_TRUE(s.DeleteRange("", "a", "b").IsInvalidArgument());
  EXPECT_TRUE(s.DropPartition("").IsInvalidArgument());
  EXPECT_TRUE(s.Scan("", {}).status().IsInvalidArgument());
  WriteBatch bad;
  bad.Put("ok", "v");
  bad.Put("", "v");
  EXPECT_TRUE(s.Write("p", bad).IsInvalidArgument());
  // Nothing of the rejected batch was written.
  this->ExpectMissing("p", "ok");
  // An empty value is legal.
  ASSERT_TRUE(s.Set("p", "k", "").ok());
  this->ExpectValue("p", "k", "");
}

// Bytes that do not compress (PostgreSQL compresses index tuples and values).
std::string RandomBytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  std::mt19937 rng(seed);
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

// engine/store.h "Limits": exactly at each limit is written and read back, by Set, SetIf
// and Write, in one partition whose name is at its limit.
TEST_P(StoreConformance, WritesAtTheLimitsAreAccepted) {
  Store& s = this->store();
  const std::string p = RandomBytes(kMaxPartitionBytes, 1);
  const std::string set_key = RandomBytes(kMaxKeyBytes, 2);
  const std::string setif_key = RandomBytes(kMaxKeyBytes, 3);
  const std::string write_key = RandomBytes(kMaxKeyBytes, 4);
  // Random where it matters (the bytes of a key, which PostgreSQL's index compresses);
  // a value of one repeated byte is written and read back like any other.
  std::string value(kMaxValueBytes, 'v');
  value.replace(0, 4096, RandomBytes(4096, 5));
  ASSERT_TRUE(s.PreparePartitions({p}).ok());
  Status set = s.Set(p, set_key, value);
  ASSERT_TRUE(set.ok()) << set.ToString();
  Status setif = s.SetIf(p, setif_key, value, Predicate::Absent());
  ASSERT_TRUE(setif.ok()) << setif.ToString();
  WriteBatch batch;
  batch.Put(write_key, value);
  Status write = s.Write(p, batch);
  ASSERT_TRUE(write.ok()) << write.ToString();
  for (const auto& k : {set_key, setif_key, write_key}) {
    auto got = s.Get(p, k);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == value) << "the value at the limit did not read back";
  }
  EXPECT_EQ(Keys(s, p).size(), 3u);
  auto partitions = s.ListPartitions();
  ASSERT_TRUE(partitions.ok());
  EXPECT_NE(std::find(partitions->begin(), partitions->end(), p), partitions->end());
}

// One byte more than a limit is InvalidArgument naming the limit and its size, for Set,
// SetIf and Write, and nothing is written (a batch with one such put writes nothing).
TEST_P(StoreConformance, WritesBeyondTheLimitsAreRefused) {
  Store& s = this->store();
  const std::string long_p(kMaxPartitionBytes + 1, 'p');
  const std::string long_k(kMaxKeyBytes + 1, 'k');
  const std::string long_v(kMaxValueBytes + 1, 'v');
  struct Case {
    std::string p, k, v, limit, size;
  };
  const Case cases[] = {
      {long_p, "k", "v", "kv::kMaxPartitionBytes", std::to_string(long_p.size())},
      {"p", long_k, "v", "kv::kMaxKeyBytes", std::to_string(long_k.size())},
      {"p", "k", long_v, "kv::kMaxValueBytes", std::to_string(long_v.size())},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.limit);
    Status set = s.Set(c.p, c.k, c.v);
    EXPECT_TRUE(set.IsInvalidArgument()) << set.ToString();
    EXPECT_TRUE(Contains(set, c.limit) && Contains(set, c.size)) << set.ToString();
    Status setif = s.SetIf(c.p, c.k, c.v, Predicate::Absent());
    EXPECT_TRUE(setif.IsInvalidArgument()) << setif.ToString();
    EXPECT_TRUE(Contains(setif, c.limit)) << setif.ToString();
    WriteBatch batch;
    batch.Put("ok", "v");
    batch.Put(c.k, c.v);
    Status write = s.Write(c.p, batch);
    EXPECT_TRUE(write.IsInvalidArgument()) << write.ToString();
    EXPECT_TRUE(Contains(write, c.limit)) << write.ToString();
    this->ExpectMissing(c.p, "ok");
    this->ExpectMissing(c.p, c.k);
  }
  EXPECT_TRUE(s.PreparePartitions({"fine", long_p}).IsInvalidArgument());
  auto partitions = s.ListPartitions();
  ASSERT_TRUE(partitions.ok());
  for (const auto& name : *partitions) {
    EXPECT_TRUE(name == kMetaPartition) << "a refused write created '" << Printable(name) << "'";
  }
}

// Reads and removals take any size: data written before the limits stays removable.
TEST_P(StoreConformance, ReadsAndDeletesTakeKeysBeyondTheLimits) {
  Store& s = this->store();
  const std::string long_p(kMaxPartitionBytes + 1, 'p');
  const std::string long_k(kMaxKeyBytes + 1, 'k');
  EXPECT_TRUE(s.Get("p", long_k).status().IsNotFound());
  EXPECT_TRUE(s.Get(long_p, "k").status().IsNotFound());
  EXPECT_TRUE(s.Delete("p", long_k).ok());
  EXPECT_TRUE(s.DeleteIf("p", long_k, Predicate::Absent()).ok());
  WriteBatch deletes;
  deletes.Delete(long_k);
  EXPECT_TRUE(s.Write("p", deletes).ok());
  EXPECT_TRUE(Keys(s, long_p).empty());
  EXPECT_TRUE(s.DeleteRange(long_p, "a", "").ok());
  EXPECT_TRUE(s.DropPartition(long_p).ok());
}

TEST_P(StoreConformance, GetSetOverwrite) {
  Store& s = this->store();
  auto missing = s.Get("p", "nope");
  ASSERT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos)
      << "error must name the key: " << missing.status().ToString();
  ASSERT_TRUE(s.Set("p", "k", "v1").ok());
  this->ExpectValue("p", "k", "v1");
  ASSERT_TRUE(s.Set("p", "k", "v2").ok());
  this->ExpectValue("p", "k", "v2");
  this->ExpectMissing("q", "k");
}

TEST_P(StoreConformance, BinaryKeysAndValues) {
  Store& s = this->store();
  const std::string zero("\0", 1), ff("\xff", 1), mixed("a\0b\xff\x01", 5);
  const std::string part("p\0\xff", 3);
  std::string big(4 << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  ASSERT_TRUE(s.Set(part, zero, "zero").ok());
  ASSERT_TRUE(s.Set(part, ff, "").ok());
  ASSERT_TRUE(s.Set(part, mixed, big).ok());
  ASSERT_TRUE(s.Set(part, zero + zero, mixed).ok());
  this->ExpectValue(part, zero, "zero");
  this->ExpectValue(part, ff, "");
  this->ExpectValue(part, zero + zero, mixed);
  auto got = s.Get(part, mixed);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == big) << "4 MiB value round trip";
  EXPECT_EQ(Keys(s, part), (std::vector<std::string>{zero, zero + zero, mixed, ff}));
}

TEST_P(StoreConformance, SetIfAbsent) {
  Store& s = this->store();
  ASSERT_TRUE(s.SetIf("p", "k", "v1", Predicate::Absent()).ok());
  this->ExpectValue("p", "k", "v1");
  Status again = s.SetIf("p", "k", "v2", Predicate::Absent());
  EXPECT_TRUE(again.IsPredicateFailed()) << again.ToString();
  this->ExpectValue("p", "k", "v1");
  ASSERT_TRUE(s.Set("p", "e", "").ok());
  EXPECT_TRUE(s.SetIf("p", "e", "x", Predicate::Absent()).IsPredicateFailed());
  this->ExpectValue("p", "e", "");
}

TEST_P(StoreConformance, SetIfExists) {
  Store& s = this->store();
  EXPECT_TRUE(s.SetIf("p", "k", "v", Predicate::Exists()).IsPredicateFailed());
  this->ExpectMissing("p", "k");
  ASSERT_TRUE(s.Set("p", "k", "").ok());  // an empty value exists
  ASSERT_TRUE(s.SetIf("p", "k", "v", Predicate::Exists()).ok());
  this->ExpectValue("p", "k", "v");
}

TEST_P(StoreConformance, SetIfEquals) {
  Store& s = this->store();
  EXPECT_TRUE(s.SetIf("p", "k", "v", Predicate::Equals("")).IsPredicateFailed());
  EXPECT_TRUE(s.SetIf("p", "k", "v", Predicate::Equals("x")).IsPredicateFailed());
  this->ExpectMissing("p", "k");
  ASSERT_TRUE(s.Set("p", "k", "").ok());
  EXPECT_TRUE(s.SetIf("p", "k", "v", Predicate::Equals("x")).IsPredicateFailed());
  ASSERT_TRUE(s.SetIf("p", "k", "v1", Predicate::Equals("")).ok());
  this->ExpectValue("p", "k", "v1");
  EXPECT_TRUE(s.SetIf("p", "k", "v2", Predicate::Equals("v")).IsPredicateFailed());
  EXPECT_TRUE(s.SetIf("p", "k", "v2", Predicate::Equals("v1x")).IsPredicateFailed());
  this->ExpectValue("p", "k", "v1");
  ASSERT_TRUE(s.SetIf("p", "k", "", Predicate::Equals("v1")).ok());
  this->ExpectValue("p", "k", "");
  const std::string bin("\0\xff\0", 3);
  ASSERT_TRUE(s.Set("p", "b", bin).ok());
  EXPECT_TRUE(
      s.SetIf("p", "b", "z", Predicate::Equals(std::string("\0\xff", 2))).IsPredicateFailed());
  ASSERT_TRUE(s.SetIf("p", "b", "z", Predicate::Equals(bin)).ok());
  this->ExpectValue("p", "b", "z");
}

TEST_P(StoreConformance, DeleteIsIdempotentAndDeleteIfChecks) {
  Store& s = this->store();
  ASSERT_TRUE(s.Delete("p", "never").ok());
  ASSERT_TRUE(s.Set("p", "k", "v").ok());
  ASSERT_TRUE(s.Delete("p", "k").ok());
  this->ExpectMissing("p", "k");
  ASSERT_TRUE(s.Delete("p", "k").ok());
  ASSERT_TRUE(s.Set("p", "k", "v").ok());
  EXPECT_TRUE(s.DeleteIf("p", "k", Predicate::Equals("w")).IsPredicateFailed());
  this->ExpectValue("p", "k", "v");
  EXPECT_TRUE(s.DeleteIf("p", "k", Predicate::Absent()).IsPredicateFailed());
  ASSERT_TRUE(s.DeleteIf("p", "k", Predicate::Equals("v")).ok());
  this->ExpectMissing("p", "k");
  EXPECT_TRUE(s.DeleteIf("p", "k", Predicate::Exists()).IsPredicateFailed());
  EXPECT_TRUE(s.DeleteIf("p", "k", Predicate::Absent()).ok());
  ASSERT_TRUE(s.Set("p", "e", "").ok());
  ASSERT_TRUE(s.DeleteIf("p", "e", Predicate::Exists()).ok());
  this->ExpectMissing("p", "e");
}

TEST_P(StoreConformance, ScanOrderStartAndBounds) {
  Store& s = this->store();
  EXPECT_TRUE(Keys(s, "empty").empty());
  for (std::string k : {"b", "a", "c", "ab", "b\x01", "ba", "d"})
    ASSERT_TRUE(s.Set("p", k, k).ok());
  EXPECT_EQ(Keys(s, "p"), (std::vector<std::string>{"a", "ab", "b", "b\x01", "ba", "c", "d"}));
  ScanOptions from_b;
  from_b.start = "b";
  EXPECT_EQ(Keys(s, "p", from_b), (std::vector<std::string>{"b", "b\x01", "ba", "c", "d"}));
  ScanOptions between;
  between.start = "aa";
  between.end = "c";
  EXPECT_EQ(Keys(s, "p", between), (std::vector<std::string>{"ab", "b", "b\x01", "ba"}));
  EXPECT_EQ(Keys(s, "p", ScanOptions::Prefix("b")), (std::vector<std::string>{"b", "b\x01", "ba"}));
  ScanOptions past;
  past.start = "e";
  EXPECT_TRUE(Keys(s, "p", past).empty());
  // Values come with their keys.
  auto it = s.Scan("p", from_b);
  ASSERT_TRUE(it.ok());
  auto all = Drain(**it);
  ASSERT_FALSE(all.empty());
  for (auto& [k, v] : all) EXPECT_EQ(k, v);
}

TEST_P(StoreConformance, PrefixOfFFBytes) {
  Store& s = this->store();
  const std::string ff("\xff\xff", 2);
  ASSERT_TRUE(s.Set("p", ff, "1").ok());
  ASSERT_TRUE(s.Set("p", ff + "x", "2").ok());
  ASSERT_TRUE(s.Set("p", "\xfe", "3").ok());
  EXPECT_EQ(Keys(s, "p", ScanOptions::Prefix(ff)), (std::vector<std::string>{ff, ff + "x"}));
}

TEST_P(StoreConformance, PartitionsThatArePrefixesDoNotLeak) {
  Store& s = this->store();
  ASSERT_TRUE(s.Set("m", "a", "m-a").ok());
  ASSERT_TRUE(s.Set("ma", "a", "ma-a").ok());
  ASSERT_TRUE(s.Set("m", "aa", "m-aa").ok());
  ASSERT_TRUE(s.Set("mab", "", "x").IsInvalidArgument());
  ASSERT_TRUE(s.Set(std::string("m\0", 2), "a", "m0-a").ok());
  this->ExpectValue("m", "a", "m-a");
  this->ExpectValue("ma", "a", "ma-a");
  this->ExpectMissing("ma", "aa");
  EXPECT_EQ(Keys(s, "m"), (std::vector<std::string>{"a", "aa"}));
  EXPECT_EQ(Keys(s, "ma"), (std::vector<std::string>{"a"}));
  ASSERT_TRUE(s.DeleteRange("m", "a", "").ok());
  this->ExpectValue("ma", "a", "ma-a");
  this->ExpectValue(std::string("m\0", 2), "a", "m0-a");
  ASSERT_TRUE(s.DropPartition("ma").ok());
  ASSERT_TRUE(s.Set("m", "z", "z").ok());
  this->ExpectValue("m", "z", "z");
  this->ExpectValue(std::string("m\0", 2), "a", "m0-a");
  EXPECT_TRUE(Keys(s, "ma").empty());
}

TEST_P(StoreConformance, ScanSeesAConsistentViewDuringWrites) {
  Store& s = this->store();
  for (std::string k : {"a", "b", "c", "d"}) ASSERT_TRUE(s.Set("p", k, "old").ok());
  auto it = s.Scan("p", {});
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE((*it)->Valid());
  EXPECT_EQ((*it)->key(), "a");
  ASSERT_TRUE(s.Delete("p", "b").ok());
  ASSERT_TRUE(s.Set("p", "bb", "new").ok());
  ASSERT_TRUE(s.Set("p", "c", "new").ok());
  ASSERT_TRUE(s.DeleteRange("p", "d", "").ok());
  auto rest = Drain(**it);
  std::vector<std::pair<std::string, std::string>> want{
      {"a", "old"}, {"b", "old"}, {"c", "old"}, {"d", "old"}};
  EXPECT_EQ(rest, want);
  // A new scan sees the writes.
  EXPECT_EQ(Keys(s, "p"), (std::vector<std::string>{"a", "bb", "c"}));
}

TEST_P(StoreConformance, SeekForwardsAndBackwards) {
  Store& s = this->store();
  for (std::string k : {"a", "c", "e", "g"}) ASSERT_TRUE(s.Set("p", k, k).ok());
  ScanOptions opts;
  opts.start = "b";
  opts.end = "g";
  auto r = s.Scan("p", opts);
  ASSERT_TRUE(r.ok());
  Iterator& it = **r;
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), "c");
  it.Seek("d");
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), "e");
  it.Seek("c");
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), "c");
  it.Seek("a");  // below the scan's start: clamps to it
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), "c");
  it.Seek("f");  // "g" is the exclusive bound
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().ok());
  it.Seek("e");
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.value(), "e");
  it.Next();
  EXPECT_FALSE(it.Valid());
}

TEST_P(StoreConformance, DeleteRange) {
  Store& s = this->store();
  for (std::string k : {"a", "b", "ba", "c", "d", "e"}) ASSERT_TRUE(s.Set("p", k, k).ok());
  ASSERT_TRUE(s.Set("q", "b", "q").ok());
  ASSERT_TRUE(s.DeleteRange("p", "b", "c").ok());  // [b, c)
  EXPECT_EQ(Keys(s, "p"), (std::vector<std::string>{"a", "c", "d", "e"}));
  ASSERT_TRUE(s.DeleteRange("p", "c", "c").ok());  // empty
  ASSERT_TRUE(s.DeleteRange("p", "e", "a").ok());  // inverted: empty
  ASSERT_TRUE(s.DeleteRange("nothing", "a", "z").ok());
  EXPECT_EQ(Keys(s, "p"), (std::vector<std::string>{"a", "c", "d", "e"}));
  // During an open scan: the scan keeps its view.
  auto it = s.Scan("p", {});
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE(s.DeleteRange("p", "d", "").ok());  // to the end
  EXPECT_EQ(Drain(**it).size(), 4u);
  EXPECT_EQ(Keys(s, "p"), (std::vector<std::string>{"a", "c"}));
  this->ExpectValue("q", "b", "q");
  // Writes after a range delete are visible again.
  ASSERT_TRUE(s.Set("p", "d", "again").ok());
  this->ExpectValue("p", "d", "again");
}

TEST_P(StoreConformance, DropPartition) {
  Store& s = this->store();
  ASSERT_TRUE(s.DropPartition("never").ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.Set("gone", "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(s.Set("kept", "k", "v").ok());
  auto parts = s.ListPartitions();
  ASSERT_TRUE(parts.ok());
  EXPECT_NE(std::find(parts->begin(), parts->end(), "gone"), parts->end());
  ASSERT_TRUE(s.DropPartition("gone").ok());
  EXPECT_TRUE(Keys(s, "gone").empty());
  this->ExpectMissing("gone", "k1");
  this->ExpectValue("kept", "k", "v");
  parts = s.ListPartitions();
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(std::find(parts->begin(), parts->end(), "gone"), parts->end());
  EXPECT_TRUE(std::is_sorted(parts->begin(), parts->end()));
  // A dropped partition can be written again and starts empty.
  ASSERT_TRUE(s.Set("gone", "new", "v").ok());
  EXPECT_EQ(Keys(s, "gone"), (std::vector<std::string>{"new"}));
  ASSERT_TRUE(s.DropPartition("gone").ok());
  ASSERT_TRUE(s.DropPartition("gone").ok());
}

TEST_P(StoreConformance, ManyPartitions) {
  Store& s = this->store();
  // Half created ahead in one batch, half on first write: both paths must work. (One
  // RocksDB column family at a time costs O(families), so the lazy half stays small.)
  constexpr int kPartitions = 120;
  std::vector<std::string> ahead;
  for (int i = 0; i < kPartitions; i += 2) ahead.push_back("part-" + std::to_string(i));
  ASSERT_TRUE(s.PreparePartitions(ahead).ok());
  for (int i = 0; i < kPartitions; ++i) {
    std::string p = "part-" + std::to_string(i);
    ASSERT_TRUE(s.Set(p, "k", p).ok());
    ASSERT_TRUE(s.Set(p, "k2", "x").ok());
  }
  for (int i = 0; i < kPartitions; i += 7) {
    std::string p = "part-" + std::to_string(i);
    this->ExpectValue(p, "k", p);
    EXPECT_EQ(Keys(s, p).size(), 2u);
  }
  for (int i = 0; i < kPartitions; i += 4)
    ASSERT_TRUE(s.DropPartition("part-" + std::to_string(i)).ok());
  this->ExpectMissing("part-0", "k");
  this->ExpectValue("part-1", "k", "part-1");
  auto parts = s.ListPartitions();
  ASSERT_TRUE(parts.ok());
  int user = 0;
  for (auto& p : *parts) user += p.rfind("part-", 0) == 0;
  EXPECT_EQ(user, kPartitions - kPartitions / 4);
}

TEST_P(StoreConformance, WriteBatchIsAppliedWhole) {
  Store& s = this->store();
  ASSERT_TRUE(s.Set("p", "gone", "x").ok());
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  batch.Delete("gone");
  batch.Put("a", "3");  // the later op wins
  batch.Put("c", "");
  batch.Delete("c");
  ASSERT_TRUE(s.Write("p", batch).ok());
  this->ExpectValue("p", "a", "3");
  this->ExpectValue("p", "b", "2");
  this->ExpectMissing("p", "gone");
  this->ExpectMissing("p", "c");
  ASSERT_TRUE(s.Write("p", WriteBatch()).ok());
}

TEST_P(StoreConformance, MultiGet) {
  Store& s = this->store();
  ASSERT_TRUE(s.Set("p", "a", "1").ok());
  ASSERT_TRUE(s.Set("p", "c", "").ok());
  auto got = s.MultiGet("p", {"a", "b", "c", "a"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 4u);
  ASSERT_TRUE((*got)[0].ok());
  EXPECT_EQ(*(*got)[0], "1");
  EXPECT_TRUE((*got)[1].status().IsNotFound());
  ASSERT_TRUE((*got)[2].ok());
  EXPECT_EQ(*(*got)[2], "");
  EXPECT_EQ(*(*got)[3], "1");
  auto none = s.MultiGet("other", {"a"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)[0].status().IsNotFound());
}

TEST_P(StoreConformance, RacingSetIfAbsentHasOneWinnerPerRound) {
  Store& s = this->store();
  constexpr int kThreads = 8, kRounds = 50;
  std::vector<std::atomic<int>> winners(kRounds);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        Status st =
            s.SetIf("race", "round-" + std::to_string(r), std::to_string(t), Predicate::Absent());
        if (st.ok()) {
          winners[r]++;
        } else if (!st.IsPredicateFailed()) {
          errors++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int r = 0; r < kRounds; ++r) EXPECT_EQ(winners[r].load(), 1) << "round " << r;
}

TEST_P(StoreConformance, SetIfCounterHasNoLostUpdates) {
  Store& s = this->store();
  constexpr int kThreads = 6, kAttempts = 200;
  ASSERT_TRUE(s.Set("ctr", "n", "0").ok());
  std::atomic<int> successes{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        auto cur = s.Get("ctr", "n");
        if (!cur.ok()) {
          errors++;
          continue;
        }
        Status st =
            s.SetIf("ctr", "n", std::to_string(std::stoi(*cur) + 1), Predicate::Equals(*cur));
        if (st.ok()) {
          successes++;
        } else if (!st.IsPredicateFailed()) {
          errors++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(successes.load(), 0);
  auto final_value = s.Get("ctr", "n");
  ASSERT_TRUE(final_value.ok());
  EXPECT_EQ(std::stoi(*final_value), successes.load());
}

// A random sequence of operations against std::map as the model.
TEST_P(StoreConformance, MatchesAModelUnderRandomOperations) {
  Store& s = this->store();
  std::map<std::string, std::map<std::string, std::string>> model;
  std::mt19937 rng(20261126);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto key = [&] {
    return std::string(1 + pick(3), static_cast<char>('a' + pick(4))) + (pick(2) ? "\xff" : "");
  };
  const std::vector<std::string> parts{"x", "xy", "y"};
  for (int step = 0; step < 2000; ++step) {
    const std::string& p = parts[pick(parts.size())];
    std::string k = key(), v = std::to_string(pick(5));
    auto& m = model[p];
    auto found = m.find(k);
    const std::string* cur = found == m.end() ? nullptr : &found->second;
    switch (pick(7)) {
      case 0:
        ASSERT_TRUE(s.Set(p, k, v).ok());
        m[k] = v;
        break;
      case 1: {
        Predicate pred = pick(3) == 0   ? Predicate::Absent()
                         : pick(2) == 0 ? Predicate::Exists()
                                        : Predicate::Equals(std::to_string(pick(5)));
        bool holds = pred.HoldsFor(cur);
        Status st = s.SetIf(p, k, v, pred);
        ASSERT_EQ(st.ok(), holds) << "step " << step << " " << st.ToString();
        if (holds) m[k] = v;
        break;
      }
      case 2:
        ASSERT_TRUE(s.Delete(p, k).ok());
        m.erase(k);
        break;
      case 3: {
        auto got = s.Get(p, k);
        if (cur) {
          ASSERT_TRUE(got.ok()) << "step " << step;
          ASSERT_EQ(*got, *cur);
        } else {
          ASSERT_TRUE(got.status().IsNotFound()) << "step " << step;
        }
        break;
      }
      case 4: {
        std::string from = key(), to = pick(3) ? key() : "";
        ASSERT_TRUE(s.DeleteRange(p, from, to).ok());
        if (to.empty() || from < to) {
          m.erase(m.lower_bound(from), to.empty() ? m.end() : m.lower_bound(to));
        }
        break;
      }
      case 5: {
        ScanOptions opts;
        opts.start = pick(2) ? key() : "";
        std::vector<std::string> want;
        for (auto it = m.lower_bound(opts.start); it != m.end(); ++it) want.push_back(it->first);
        ASSERT_EQ(Keys(s, p, opts), want) << "step " << step;
        break;
      }
      case 6:
        if (pick(20) == 0) {
          ASSERT_TRUE(s.DropPartition(p).ok());
          m.clear();
        }
        break;
    }
  }
}

}  // namespace
}  // namespace refkv::kv::testing
