// The ref store, operation by operation, on every driver (same code): repositories,
// branches, entries, tags and listings. Commits: refstore_commit_test.cc; the cleaner:
// refstore_cleaner_test.cc (the same binary, instantiated here).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "refstore/check.h"
#include "refstore/entry_lines.h"
#include "refstore/internal/keys.h"
#include "tests/refstore/refstore_fixture.h"

namespace refkv::testing {
namespace {

namespace rs = refkv::refstore;
using Outcome = rs::CommitResult::Outcome;

TEST_P(RefStoreTest, CreateGetListRepositories) {
  auto info = refs_->CreateRepository("repo1", "main", "s3://bucket/x");
  ASSERT_OK(info);
  EXPECT_EQ(info->name, "repo1");
  EXPECT_EQ(info->default_branch, "main");
  EXPECT_EQ(info->storage_namespace, "s3://bucket/x");
  EXPECT_GT(info->creation_time_ms, 0);
  ASSERT_OK(refs_->CreateRepository("repo0", "trunk"));

  auto got = refs_->GetRepository("repo1");
  ASSERT_OK(got);
  EXPECT_EQ(got->instance_id, info->instance_id);
  auto list = refs_->ListRepositories();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "repo0");
  EXPECT_EQ((*list)[1].name, "repo1");

  auto main = refs_->GetBranch("repo1", "main");
  ASSERT_OK(main);
  auto head = refs_->GetCommit("repo1", "main");
  ASSERT_OK(head);
  EXPECT_EQ(head->id, main->commit_id);
  EXPECT_EQ(head->generation, 1);
  EXPECT_TRUE(head->parents.empty());
  ASSERT_OK(refs_->GetBranch("repo0", "trunk"));

  EXPECT_TRUE(refs_->CreateRepository("repo1").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->GetRepository("nope").status().IsNotFound());
  EXPECT_TRUE(refs_->CreateRepository("bad/name").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->CreateRepository("").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->CreateRepository("x", "-bad").status().IsInvalidArgument());
}

TEST_P(RefStoreTest, DeleteRepositoryLeavesNothing) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "b", "2"));
  ASSERT_OK(refs_->CreateTag("r", "v1", "main"));
  ASSERT_OK(refs_->DeleteRepository("r"));
  EXPECT_TRUE(refs_->GetRepository("r").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteRepository("r").IsNotFound());
  auto list = refs_->ListRepositories();
  ASSERT_OK(list);
  EXPECT_TRUE(list->empty());
  ASSERT_OK(refs_->CollectGarbage());
  ExpectNoLeftovers(*env_.base, *env_.ranges);

  // Re-created under the same name, it starts empty.
  ASSERT_OK(refs_->CreateRepository("r"));
  EXPECT_TRUE(refs_->GetEntry("r", "main", "a").status().IsNotFound());
  EXPECT_TRUE(refs_->GetEntry("r", "main", "b").status().IsNotFound());
  EXPECT_TRUE(refs_->GetTag("r", "v1").status().IsNotFound());
}

TEST_P(RefStoreTest, Branches) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto c1 = CommitOk("r", "main");
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2"));
  auto c2 = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateTag("r", "t1", c1.id));

  auto from_branch = refs_->CreateBranch("r", "feature/x", "main");
  ASSERT_OK(from_branch);
  EXPECT_EQ(from_branch->commit_id, c2.id);
  auto from_commit = refs_->CreateBranch("r", "old", c1.id);
  ASSERT_OK(from_commit);
  EXPECT_EQ(from_commit->commit_id, c1.id);
  auto from_tag = refs_->CreateBranch("r", "tagged", "t1");
  ASSERT_OK(from_tag);
  EXPECT_EQ(from_tag->commit_id, c1.id);
  EXPECT_EQ(*refs_->GetEntry("r", "old", "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "feature/x", "a"), "2");

  EXPECT_TRUE(refs_->CreateBranch("r", "old", "main").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->CreateBranch("r", "x", "nosuchref").status().IsNotFound());
  EXPECT_TRUE(refs_->CreateBranch("nosuchrepo", "x", "main").status().IsNotFound());

  auto list = refs_->ListBranches("r");
  ASSERT_OK(list);
  std::vector<std::string> names;
  for (auto& b : *list) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"feature/x", "main", "old", "tagged"}));

  EXPECT_TRUE(refs_->DeleteBranch("r", "main").IsInvalidArgument());
  ASSERT_OK(refs_->PutEntry("r", "old", "staged", "x"));
  ASSERT_OK(refs_->DeleteBranch("r", "old"));
  EXPECT_TRUE(refs_->GetBranch("r", "old").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteBranch("r", "old").IsNotFound());
  // Re-created, it does not see the staged writes of the deleted one.
  ASSERT_OK(refs_->CreateBranch("r", "old", c1.id));
  EXPECT_TRUE(refs_->GetEntry("r", "old", "staged").status().IsNotFound());
}

TEST_P(RefStoreTest, EntriesAtRefs) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  ASSERT_OK(refs_->PutEntry("r", "main", "b", ""));  // empty values are values
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "main", "b"), "");
  auto c1 = CommitOk("r", "main");
  ASSERT_OK(refs_->CreateTag("r", "v1", "main"));

  ASSERT_OK(refs_->PutEntry("r", "main", "a", "2"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "b"));
  ASSERT_OK(refs_->DeleteEntry("r", "main", "never-existed"));
  EXPECT_EQ(*refs_->GetEntry("r", "main", "a"), "2");
  EXPECT_TRUE(refs_->GetEntry("r", "main", "b").status().IsNotFound());
  // Commit ids and tags see committed data only.
  EXPECT_EQ(*refs_->GetEntry("r", c1.id, "a"), "1");
  EXPECT_EQ(*refs_->GetEntry("r", "v1", "b"), "");

  auto c2 = CommitOk("r", "main");
  EXPECT_EQ(*refs_->GetEntry("r", c2.id, "a"), "2");
  EXPECT_TRUE(refs_->GetEntry("r", c2.id, "b").status().IsNotFound());
  EXPECT_EQ(*refs_->GetEntry("r", c1.id, "a"), "1");

  EXPECT_TRUE(refs_->PutEntry("r", "main", "", "x").IsInvalidArgument());
  EXPECT_TRUE(refs_->PutEntry("r", "nobranch", "a", "x").IsNotFound());
  EXPECT_TRUE(refs_->GetEntry("r", "nosuchref", "a").status().IsNotFound());
  // Paths are bytes.
  std::string odd("\x00\xff/x", 4);
  ASSERT_OK(refs_->PutEntry("r", "main", odd, "bin"));
  CommitOk("r", "main");
  EXPECT_EQ(*refs_->GetEntry("r", "main", odd), "bin");
}

TEST_P(RefStoreTest, ListMatchesModelWithPrefixAndPages) {
  ASSERT_OK(refs_->CreateRepository("r"));
  std::map<std::string, std::string> model;
  std::mt19937 rng(42);
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 60; ++i) {
      std::string path = std::string(1, "abc"[rng() % 3]) + "/" + std::to_string(rng() % 40);
      if (rng() % 4 == 0) {
        ASSERT_OK(refs_->DeleteEntry("r", "main", path));
        model.erase(path);
      } else {
        std::string value = std::to_string(rng());
        ASSERT_OK(refs_->PutEntry("r", "main", path, value));
        model[path] = value;
      }
    }
    if (round % 2 == 0) CommitOk("r", "main");
    for (size_t page : {1, 3, 7, 1000}) {
      auto got = AllEntries(*refs_, "r", "main", page);
      for (auto& [k, v] : model)
        if (!got.count(k) || got[k] != v) ADD_FAILURE() << "missing/wrong " << k;
      for (auto& [k, v] : got)
        if (!model.count(k)) ADD_FAILURE() << "extra " << k;
      EXPECT_EQ(got, model) << "round " << round << " page " << page;
    }
    for (std::string prefix : {"a/", "b/1", "zz"}) {
      rs::ListEntriesOptions options;
      options.prefix = prefix;
      options.limit = 4;
      std::map<std::string, std::string> got, want;
      for (auto& [k, v] : model) {
        if (k.rfind(prefix, 0) == 0) want[k] = v;
      }
      while (true) {
        auto page = refs_->ListEntries("r", "main", options);
        ASSERT_OK(page);
        for (auto& e : page->entries) got[e.path] = e.value;
        if (page->next_after.empty()) break;
        options.after = page->next_after;
      }
      EXPECT_EQ(got, want) << "prefix " << prefix;
    }
  }
}

// refstore.h "Limits": a path and a value at their limits are staged, committed and read
// back; one byte more is InvalidArgument naming the limit, and nothing is staged.
TEST_P(RefStoreTest, PathAndValueLimits) {
  ASSERT_OK(refs_->CreateRepository("r"));
  const std::string path(rs::kMaxPathBytes, 'p');
  const std::string value(rs::kMaxEntryValueBytes, 'v');
  ASSERT_OK(refs_->PutEntry("r", "main", path, value));
  CommitOk("r", "main");
  auto got = refs_->GetEntry("r", "main", path);
  ASSERT_OK(got);
  EXPECT_TRUE(*got == value) << "the value at the limit did not read back";

  const std::string long_path(rs::kMaxPathBytes + 1, 'q');
  for (Status s :
       {refs_->PutEntry("r", "main", long_path, "v"), refs_->DeleteEntry("r", "main", long_path)}) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find("refstore::kMaxPathBytes"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(std::to_string(long_path.size())), std::string::npos)
        << s.ToString();
  }
  Status big = refs_->PutEntry("r", "main", "big", std::string(rs::kMaxEntryValueBytes + 1, 'v'));
  EXPECT_TRUE(big.IsInvalidArgument()) << big.ToString();
  EXPECT_NE(big.message().find("refstore::kMaxEntryValueBytes"), std::string::npos)
      << big.ToString();
  EXPECT_NE(big.message().find("'big'"), std::string::npos) << big.ToString();
  auto staged = refs_->DiffUncommitted("r", "main");
  ASSERT_OK(staged);
  EXPECT_TRUE(staged->empty()) << staged->size() << " staged by refused writes";
  // Reads take any path: entries committed before the limits stay readable.
  EXPECT_TRUE(refs_->GetEntry("r", "main", long_path).status().IsNotFound());
}

TEST_P(RefStoreTest, CommitInfoLimit) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto before = refs_->GetBranch("r", "main");
  ASSERT_OK(before);
  rs::CommitRequest req;
  req.committer = "c";
  req.message = std::string(rs::kMaxCommitInfoBytes, 'm');
  auto r = refs_->Commit("r", "main", req);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("refstore::kMaxCommitInfoBytes"), std::string::npos)
      << r.status().ToString();
  // Refused before anything was written: the staging token was not even sealed.
  auto after = refs_->GetBranch("r", "main");
  ASSERT_OK(after);
  EXPECT_EQ(after->commit_id, before->commit_id);
  EXPECT_EQ(after->sealed_tokens, 0u);
  req.message.resize(rs::kMaxCommitInfoBytes - req.committer.size());
  auto ok = refs_->Commit("r", "main", req);
  ASSERT_OK(ok);
  EXPECT_EQ(ok->outcome, Outcome::kCommitted);
}

// `entry load` checks every line against the limits before anything is staged.
TEST(EntryLinesTest, PathAndValueLimits) {
  auto line = [](const std::string& path, const std::string& value) {
    return "{\"path\":\"" + path + "\",\"value\":\"" + value + "\"}";
  };
  ASSERT_OK(rs::ParseEntryLine(line(std::string(rs::kMaxPathBytes, 'p'), "v")));
  auto long_path = rs::ParseEntryLine(line(std::string(rs::kMaxPathBytes + 1, 'p'), "v"));
  EXPECT_TRUE(long_path.status().IsInvalidArgument()) << long_path.status().ToString();
  EXPECT_NE(long_path.status().message().find("refstore::kMaxPathBytes"), std::string::npos)
      << long_path.status().ToString();
  std::istringstream in(line("a", "1") + "\n" +
                        line("b", std::string(rs::kMaxEntryValueBytes + 1, 'v')) + "\n");
  auto lines = rs::ParseEntryLines(in, "f.jsonl");
  EXPECT_TRUE(lines.status().IsInvalidArgument()) << lines.status().ToString();
  EXPECT_EQ(lines.status().message().rfind("f.jsonl:2: ", 0), 0u) << lines.status().ToString();
  EXPECT_NE(lines.status().message().find("refstore::kMaxEntryValueBytes"), std::string::npos)
      << lines.status().ToString();
}

// The entry-file format: what a line may hold and how a bad one is refused.
TEST(EntryLinesTest, AcceptsTheFormatAndRefusesEverythingElse) {
  struct Good {
    std::string line, path, value;
  };
  const Good good[] = {
      {R"({"path":"a","value":"x"})", "a", "x"},
      {" { \"value\" : \"v\" , \"path\" : \"p\" } \r", "p", "v"},
      {R"({"path":"a\u00e9","value":"\"\\\/\b\f\n\r\t"})", "a\xc3\xa9", "\"\\/\b\f\n\r\t"},
      {R"({"path":"a","value":"\ud83d\ude00\u0000"})", "a", std::string("\xf0\x9f\x98\x80\0", 5)},
      {"{\"path\":\"a\",\"value\":\"\xff\xfe\x7f\"}", "a", "\xff\xfe\x7f"},  // bytes as given
      {R"({"path":"a","value_b64":"AAE="})", "a", std::string("\x00\x01", 2)},
      {R"({"path":"a","value":"\\u0041"})", "a", "\\u0041"},
  };
  for (const Good& g : good) {
    auto entry = rs::ParseEntryLine(g.line);
    ASSERT_TRUE(entry.ok()) << g.line << " " << entry.status().ToString();
    EXPECT_EQ(entry->path, g.path) << g.line;
    EXPECT_EQ(entry->value, g.value) << g.line;
  }
  struct Bad {
    std::string line, says;
  };
  const Bad bad[] = {
      {R"({"path":"a","value":"x",})", ""},
      {R"({"path":"a","value":"x"} x)", ""},
      {R"({"path":"a","value":"x")", ""},
      {R"([])", ""},
      {R"("x")", ""},
      {"", ""},
      {R"({"path":"a","value":1})", "field \"value\" must be a string"},
      {R"({"path":"a","value":null})", "field \"value\" must be a string"},
      {R"({"path":{"p":"q"},"value":"x"})", "field \"path\" must be a string"},
      {R"({"path":"a","value":"x","other":"y"})", "unknown field \"other\""},
      {R"({"path":"a","path":"b","value":"x"})", "field \"path\" given twice"},
      {R"({"path":"a"})", "exactly one of"},
      {R"({"path":"a","value":"x","value_b64":"AA=="})", "exactly one of"},
      {R"({"value":"x"})", "missing field \"path\""},
      {R"({})", "missing field \"path\""},
      {R"({"path":"","value":"x"})", ""},
      {R"({"path":"a","value_b64":"A"})", "value_b64"},
      {R"({"path":"a","value":"\ud800"})", ""},
      {R"({"path":"a","value":"\udc00"})", "unpaired surrogate"},
      {R"({"path":"a","value":"\u12"})", ""},
      {R"({"path":"a","value":"\q"})", ""},
      {"{\"path\":\"a\",\"value\":\"x\x01\"}", ""},
  };
  for (const Bad& b : bad) {
    auto entry = rs::ParseEntryLine(b.line);
    EXPECT_TRUE(entry.status().IsInvalidArgument()) << b.line << " " << entry.status().ToString();
    EXPECT_NE(entry.status().message().find(b.says), std::string::npos)
        << b.line << " " << entry.status().ToString();
  }
  // Blank lines are skipped; the first bad line is named, nothing returned.
  std::istringstream in("\n" + good[0].line + "\n \t\r\n" + bad[0].line + "\n" + bad[1].line);
  auto lines = rs::ParseEntryLines(in, "f.jsonl");
  EXPECT_TRUE(lines.status().IsInvalidArgument()) << lines.status().ToString();
  EXPECT_EQ(lines.status().message().rfind("f.jsonl:4: ", 0), 0u) << lines.status().ToString();
  EXPECT_EQ(lines.status().message().find('\n'), std::string::npos);
}

TEST_P(RefStoreTest, Tags) {
  ASSERT_OK(refs_->CreateRepository("r"));
  ASSERT_OK(refs_->PutEntry("r", "main", "a", "1"));
  auto c1 = CommitOk("r", "main");
  auto t = refs_->CreateTag("r", "v1.0", "main");
  ASSERT_OK(t);
  EXPECT_EQ(t->commit_id, c1.id);
  ASSERT_OK(refs_->CreateTag("r", "v0", c1.id));
  EXPECT_TRUE(refs_->CreateTag("r", "v1.0", "main").status().IsAlreadyExists());
  EXPECT_TRUE(refs_->CreateTag("r", "v2", "nothing").status().IsNotFound());
  EXPECT_EQ(refs_->GetTag("r", "v1.0")->commit_id, c1.id);
  auto list = refs_->ListTags("r");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "v0");
  EXPECT_EQ(refs_->GetCommit("r", "v1.0")->id, c1.id);
  ASSERT_OK(refs_->DeleteTag("r", "v1.0"));
  EXPECT_TRUE(refs_->GetTag("r", "v1.0").status().IsNotFound());
  EXPECT_TRUE(refs_->DeleteTag("r", "v1.0").IsNotFound());
}

// Repositories, branches and tags page by name: every page boundary, pages of 1..n+1.
TEST_P(RefStoreTest, ListingsPageAcrossBoundaries) {
  std::vector<std::string> repos, branches{"main"}, tags;
  for (int i = 0; i < 7; ++i) {
    repos.push_back("r" + std::to_string(i));
    ASSERT_OK(refs_->CreateRepository(repos.back()));
  }
  for (int i = 0; i < 6; ++i) {
    branches.push_back("b" + std::to_string(i));
    ASSERT_OK(refs_->CreateBranch("r0", branches.back(), "main"));
    tags.push_back("t" + std::to_string(i));
    ASSERT_OK(refs_->CreateTag("r0", tags.back(), "main"));
  }
  std::sort(branches.begin(), branches.end());
  // A repository being deleted is skipped, also at a page boundary.
  ASSERT_OK(refs_->CreateRepository("r35"));
  {
    env_.store->SetHook([](const Call& c) {
      return c.verb == "droppartition" ? Fault::kFailBefore : Fault::kNone;
    });
    EXPECT_FALSE(refs_->DeleteRepository("r35").ok());
    env_.store->SetHook(nullptr);
  }
  for (size_t limit = 1; limit <= 8; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    auto page_all = [&](auto list, auto names_of, const std::vector<std::string>& want) {
      std::vector<std::string> got;
      rs::ListOptions options;
      options.limit = limit;
      for (int guard = 0; guard < 20; ++guard) {
        auto page = list(options);
        ASSERT_OK(page);
        std::vector<std::string> names = names_of(*page);
        EXPECT_LE(names.size(), limit);
        got.insert(got.end(), names.begin(), names.end());
        if (page->next_after.empty()) break;
        EXPECT_EQ(names.size(), limit);  // only a full page has a successor
        EXPECT_EQ(page->next_after, names.back());
        options.after = page->next_after;
      }
      EXPECT_EQ(got, want);
    };
    page_all([&](const rs::ListOptions& o) { return refs_->ListRepositories(o); },
             [](const rs::RepositoryPage& p) {
               std::vector<std::string> n;
               for (const auto& r : p.repositories) n.push_back(r.name);
               return n;
             },
             repos);
    page_all([&](const rs::ListOptions& o) { return refs_->ListBranches("r0", o); },
             [](const rs::BranchPage& p) {
               std::vector<std::string> n;
               for (const auto& b : p.branches) n.push_back(b.name);
               return n;
             },
             branches);
    page_all([&](const rs::ListOptions& o) { return refs_->ListTags("r0", o); },
             [](const rs::TagPage& p) {
               std::vector<std::string> n;
               for (const auto& t : p.tags) n.push_back(t.name);
               return n;
             },
             tags);
  }
  // An exact fit: the last full page says there is no next one only when nothing follows.
  rs::ListOptions options;
  options.limit = tags.size();
  auto exact = refs_->ListTags("r0", options);
  ASSERT_OK(exact);
  EXPECT_EQ(exact->tags.size(), tags.size());
  EXPECT_TRUE(exact->next_after.empty());
  // `after` need not be an existing name; limit 0 is everything.
  options.after = "b3x";
  options.limit = 0;
  auto rest = refs_->ListBranches("r0", options);
  ASSERT_OK(rest);
  ASSERT_EQ(rest->branches.size(), 3u);  // b4 b5 main
  EXPECT_EQ(rest->branches[0].name, "b4");
  EXPECT_TRUE(rest->next_after.empty());
  EXPECT_EQ(refs_->ListRepositories()->size(), repos.size());
  EXPECT_TRUE(refs_->ListBranches("nope", {}).status().IsNotFound());
}

INSTANTIATE_TEST_SUITE_P(Drivers, RefStoreTest, ::testing::ValuesIn(Drivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
