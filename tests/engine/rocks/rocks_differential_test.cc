// Randomized differential test: one random operation sequence applied to mem:// and to
// rocks:// in both mappings must give identical results, op by op.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/mem/mem_store.h"
#include "engine/rocks/rocks_store.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv {
namespace {

// What an operation returned, in comparable form.
std::string Describe(const Status& s) {
  return s.ok() ? "OK" : std::string(StatusCodeName(s.code()));
}

std::string Describe(const Result<std::string>& r) {
  return r.ok() ? "value:" + Printable(*r, 1 << 20) : Describe(r.status());
}

std::string DescribeScan(Store& store, std::string_view partition, const ScanOptions& options,
                         const std::vector<std::string>& seeks) {
  auto it = store.Scan(partition, options);
  if (!it.ok()) return Describe(it.status());
  std::string out;
  for (; (*it)->Valid(); (*it)->Next()) {
    out += Printable((*it)->key(), 1 << 20) + "=" + Printable((*it)->value(), 1 << 20) + ";";
  }
  out += "|" + Describe((*it)->status());
  // Seeks forwards and backwards on the same iterator, a few steps each.
  for (const auto& target : seeks) {
    (*it)->Seek(target);
    out += "|seek " + Printable(target) + ":";
    for (int i = 0; i < 3 && (*it)->Valid(); ++i, (*it)->Next()) {
      out += Printable((*it)->key(), 1 << 20) + ",";
    }
  }
  return out;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  // Short keys over a tiny alphabet with binary bytes, so operations collide.
  std::string Key() {
    static const char kAlphabet[] = {'a', 'b', '\0', '\xff', 'm'};
    std::string k;
    int n = 1 + Pick(3);
    for (int i = 0; i < n; ++i) k.push_back(kAlphabet[Pick(5)]);
    return k;
  }
  std::string Value() {
    switch (Pick(6)) {
      case 0:
        return "";
      case 1:
        return std::string("\0\xff\0", 3);
      case 2:
        return std::string(200 + Pick(5000), static_cast<char>('A' + Pick(26)));
      default:
        return "v" + std::to_string(Pick(4));
    }
  }
  std::string Partition() {
    static const std::vector<std::string> kParts{"m", "ma", std::string("m\0", 2), "\xff", "p"};
    return kParts[Pick(static_cast<int>(kParts.size()))];
  }
  Predicate MakePredicate() {
    switch (Pick(3)) {
      case 0:
        return Predicate::Absent();
      case 1:
        return Predicate::Exists();
      default:
        return Predicate::Equals(Pick(3) == 0 ? Value() : "v" + std::to_string(Pick(4)));
    }
  }

 private:
  std::mt19937 rng_;
};

// Applies step `step` (drawn from `gen`) to every store and checks they all agree.
void RunSequence(uint32_t seed, int steps, std::vector<Store*> stores) {
  Generator gen(seed);
  auto all = [&](auto op) {
    std::vector<std::string> got;
    for (Store* s : stores) got.push_back(op(*s));
    return got;
  };
  for (int step = 0; step < steps; ++step) {
    std::string p = gen.Partition(), k = gen.Key(), v = gen.Value();
    std::vector<std::string> got;
    std::string what;
    switch (gen.Pick(12)) {
      case 0:
      case 1:
        what = "set";
        got = all([&](Store& s) { return Describe(s.Set(p, k, v)); });
        break;
      case 2:
      case 3: {
        Predicate pred = gen.MakePredicate();
        what = "setif " + pred.ToString();
        got = all([&](Store& s) { return Describe(s.SetIf(p, k, v, pred)); });
        break;
      }
      case 4:
        what = "delete";
        got = all([&](Store& s) { return Describe(s.Delete(p, k)); });
        break;
      case 5: {
        Predicate pred = gen.MakePredicate();
        what = "deleteif " + pred.ToString();
        got = all([&](Store& s) { return Describe(s.DeleteIf(p, k, pred)); });
        break;
      }
      case 6: {
        std::string from = gen.Pick(4) == 0 ? "" : gen.Key();
        std::string to = gen.Pick(3) == 0 ? "" : gen.Key();
        what = "deleterange [" + Printable(from) + ", " + Printable(to) + ")";
        got = all([&](Store& s) { return Describe(s.DeleteRange(p, from, to)); });
        break;
      }
      case 7:
        if (gen.Pick(8) != 0) continue;
        what = "droppartition";
        got = all([&](Store& s) { return Describe(s.DropPartition(p)); });
        break;
      case 8: {
        WriteBatch batch;
        int n = 1 + gen.Pick(6);
        for (int i = 0; i < n; ++i) {
          if (gen.Pick(3) == 0) {
            batch.Delete(gen.Key());
          } else {
            batch.Put(gen.Key(), gen.Value());
          }
        }
        what = "write of " + std::to_string(n);
        got = all([&](Store& s) { return Describe(s.Write(p, batch)); });
        break;
      }
      case 9:
        what = "get";
        got = all([&](Store& s) { return Describe(s.Get(p, k)); });
        break;
      case 10: {
        ScanOptions options;
        options.start = gen.Pick(2) ? gen.Key() : "";
        options.end = gen.Pick(2) ? gen.Key() : "";
        if (gen.Pick(4) == 0) options = ScanOptions::Prefix(gen.Key().substr(0, 1));
        std::vector<std::string> seeks{gen.Key(), gen.Key(), ""};
        what = "scan [" + Printable(options.start) + ", " + Printable(options.end) + ")";
        got = all([&](Store& s) { return DescribeScan(s, p, options, seeks); });
        break;
      }
      case 11: {
        std::vector<std::string> keys{gen.Key(), gen.Key(), k, gen.Key()};
        what = "multiget";
        got = all([&](Store& s) {
          auto r = s.MultiGet(p, keys);
          if (!r.ok()) return Describe(r.status());
          std::string out;
          for (const auto& one : *r) out += Describe(one) + ";";
          return out;
        });
        break;
      }
    }
    for (size_t i = 1; i < got.size(); ++i) {
      ASSERT_EQ(got[0], got[i]) << "seed " << seed << " step " << step << ": " << what
                                << " in partition '" << Printable(p) << "' key '" << Printable(k)
                                << "' (store 0 is mem, store " << i << " is " << stores[i]->driver()
                                << ")";
    }
  }
  // Finally the whole contents agree.
  auto mem_parts = stores[0]->ListPartitions();
  ASSERT_TRUE(mem_parts.ok());
  for (size_t i = 1; i < stores.size(); ++i) {
    for (const auto& p : *mem_parts) {
      EXPECT_EQ(DescribeScan(*stores[0], p, {}, {}), DescribeScan(*stores[i], p, {}, {}))
          << "partition " << Printable(p);
    }
  }
}

class RocksDifferential : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RocksDifferential, SameResultsAsMem) {
  refkv::testing::TempDir dir("rocks-diff");
  auto mem_uri = Uri::Parse("mem://");
  auto cf_uri = Uri::Parse("rocks://" + dir.Sub("cf") + "?partitions=cf");
  auto shared_uri = Uri::Parse("rocks://" + dir.Sub("shared") + "?partitions=shared");
  ASSERT_TRUE(mem_uri.ok() && cf_uri.ok() && shared_uri.ok());
  auto mem = OpenMemStore(*mem_uri, {});
  auto cf = OpenRocksStore(*cf_uri, {});
  auto shared = OpenRocksStore(*shared_uri, {});
  ASSERT_TRUE(mem.ok() && cf.ok() && shared.ok())
      << cf.status().ToString() << " " << shared.status().ToString();
  RunSequence(GetParam(), 3000, {mem->get(), cf->get(), shared->get()});
  EXPECT_TRUE((*cf)->Close().ok());
  EXPECT_TRUE((*shared)->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Seeds, RocksDifferential,
                         ::testing::Values(1u, 2u, 3u, 4u, 5u, 20261126u));

}  // namespace
}  // namespace refkv::kv
