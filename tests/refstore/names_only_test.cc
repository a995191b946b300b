// ListEntries with names_only (refstore.h ListEntriesOptions): the same paths as a full
// listing, in pages, with prefixes, over staged and committed entries and tombstones,
// every value empty; a staged record is classified (value or tombstone) from its field
// tags as Decode would, and a record Decode rejects is rejected too. Instantiated on
// every driver with RefStoreTest (refstore_test.cc).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;

// Every path at `ref` by names-only pages of `page` paths under `prefix`; fails the test
// if a value is not empty.
std::set<std::string> AllNames(rs::RefStore& refs, const std::string& ref, size_t page,
                               const std::string& prefix = "") {
  std::set<std::string> names;
  rs::ListEntriesOptions options;
  options.names_only = true;
  options.limit = page;
  options.prefix = prefix;
  while (true) {
    auto got = refs.ListEntries("r", ref, options);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) break;
    for (const auto& e : got->entries) {
      EXPECT_TRUE(e.value.empty()) << e.path;
      EXPECT_TRUE(names.insert(e.path).second) << "twice: " << e.path;
    }
    if (got->next_after.empty()) break;
    options.after = got->next_after;
  }
  return names;
}

TEST_P(RefStoreTest, NamesOnlyListsTheSamePathsWithoutValues) {
  ASSERT_OK(refs_->CreateRepository("r"));
  std::map<std::string, std::string> model;
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 30; ++i) {
      std::string path = std::string(1, "abc"[rng() % 3]) + "/" + std::to_string(rng() % 30);
      if (rng() % 4 == 0) {
        ASSERT_OK(refs_->DeleteEntry("r", "main", path));
        model.erase(path);
      } else {
        ASSERT_OK(refs_->PutEntry("r", "main", path, std::string(1 + rng() % 200, 'v')));
        model[path] = "";
      }
    }
    if (round % 2 == 0) CommitOk("r", "main");
    std::set<std::string> want;
    for (const auto& [path, value] : model) want.insert(path);
    for (size_t page : {3, 1000}) {
      EXPECT_EQ(AllNames(*refs_, "main", page), want) << "round " << round << " page " << page;
    }
    std::set<std::string> want_b;
    for (const auto& path : want) {
      if (path.rfind("b/1", 0) == 0) want_b.insert(path);
    }
    EXPECT_EQ(AllNames(*refs_, "main", 3, "b/1"), want_b) << "round " << round;
  }
}

// Hand-made staged records: the oneof's last field wins (a value then a tombstone hides
// the path), unknown fields are skipped, and bytes Decode cannot parse are Corruption.
TEST_P(RefStoreTest, NamesOnlyReadsStagedRecordsAsDecodeDoes) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "seed", "v"));  // the staging token exists
  auto repo = refs_->GetRepository("r");
  ASSERT_OK(repo);
  const std::string refs_partition = rs::internal::RefsPartition("r", repo->instance_id);
  const std::string staging = rs::internal::StagingPartition("r", repo->instance_id);
  auto raw = env_.base->Get(refs_partition, rs::internal::BranchKey("main"));
  ASSERT_OK(raw);
  rs::pb::Branch branch;
  ASSERT_TRUE(branch.ParseFromString(*raw));
  const std::string token = branch.staging_token();
  auto stage = [&](const std::string& path, const std::string& bytes) {
    ASSERT_OK(env_.base->Set(staging, rs::internal::StagingKey(token, path), bytes));
  };
  // field 1 (value "xy"), then field 2 (tombstone true): a tombstone.
  stage("hidden", std::string("\x0a\x02xy\x10\x01", 6));
  // field 2, then field 1: a value. Then an unknown varint field 9.
  stage("shown", std::string("\x10\x01\x0a\x01z\x48\x05", 7));
  std::set<std::string> want = {"seed", "shown"};
  EXPECT_EQ(AllNames(*refs_, "main", 1000), want);
  auto full = AllEntries(*refs_, "r", "main");
  EXPECT_EQ(full.size(), 2u);
  EXPECT_EQ(full["shown"], "z");

  // A value whose length runs past the record's end.
  stage("broken", std::string("\x0a\x09xy", 4));
  rs::ListEntriesOptions options;
  options.names_only = true;
  auto names = refs_->ListEntries("r", "main", options);
  EXPECT_TRUE(names.status().IsCorruption()) << names.status().ToString();
  auto values = refs_->ListEntries("r", "main", rs::ListEntriesOptions{});
  EXPECT_TRUE(values.status().IsCorruption()) << values.status().ToString();
}

}  // namespace
}  // namespace refkv::testing
