// kv::StoreWrapper forwards every virtual of kv::Store to the wrapped store: each verb
// called on the wrapper reaches a recording store exactly once, its result comes back
// unchanged (the defaulted verbs included: a verb the wrapper did not forward would run
// kv::Store's default instead). The conformance suite over a wrapper around mem is in
// mem_conformance_test.cc.
#include "engine/store_wrapper.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace refkv::kv {
namespace {

class EmptyIterator final : public Iterator {
 public:
  bool Valid() const override { return false; }
  void Seek(std::string_view) override {}
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return Status::OK(); }
};

// Records the verb of every call; each verb returns a result no default of kv::Store
// returns.
class RecordingStore final : public Store {
 public:
  std::vector<std::string> calls;
  bool closed = false;

  std::string_view driver() const override { return "recording"; }
  bool shared() const override { return true; }
  Result<std::string> Get(std::string_view, std::string_view) override {
    return Record("get", std::string("value"));
  }
  Result<std::vector<Result<std::string>>> MultiGet(std::string_view,
                                                    const std::vector<std::string>&) override {
    calls.push_back("multiget");
    return std::vector<Result<std::string>>{};
  }
  Status Set(std::string_view, std::string_view, std::string_view) override { return Mark("set"); }
  Status SetIf(std::string_view, std::string_view, std::string_view, const Predicate&) override {
    return Mark("setif");
  }
  Status Delete(std::string_view, std::string_view) override { return Mark("delete"); }
  Status DeleteIf(std::string_view, std::string_view, const Predicate&) override {
    return Mark("deleteif");
  }
  Status DeleteRange(std::string_view, std::string_view, std::string_view) override {
    return Mark("deleterange");
  }
  Status DropPartition(std::string_view) override { return Mark("droppartition"); }
  Status Write(std::string_view, const WriteBatch&) override { return Mark("write"); }
  Result<std::unique_ptr<Iterator>> Scan(std::string_view, const ScanOptions&) override {
    calls.push_back("scan");
    return std::unique_ptr<Iterator>(std::make_unique<EmptyIterator>());
  }
  Result<std::vector<std::string>> ListPartitions() override {
    calls.push_back("listpartitions");
    return std::vector<std::string>{"recorded"};
  }
  Status PreparePartitions(const std::vector<std::string>&) override {
    return Mark("preparepartitions");
  }
  Status IngestSstFiles(std::string_view, const std::vector<std::string>&, bool) override {
    return Mark("ingestsstfiles");
  }
  Status InsertNew(std::string_view, const WriteBatch&) override { return Mark("insertnew"); }
  std::vector<StoreProperty> Properties() override {
    calls.push_back("properties");
    return {{"recorded", "yes"}};
  }
  Result<SizeEstimate> EstimateRange(std::string_view, std::string_view,
                                     std::string_view) override {
    calls.push_back("estimaterange");
    return SizeEstimate{7, 11};
  }
  Status Sync() override { return Mark("sync"); }
  Status Checkpoint(std::string_view) override { return Mark("checkpoint"); }
  Status Close() override {
    closed = true;
    return Mark("close");
  }

 private:
  // A status no verb returns by default: Busy naming the verb.
  Status Mark(const std::string& verb) {
    calls.push_back(verb);
    return Status::Busy("recorded " + verb);
  }
  Result<std::string> Record(const std::string& verb, std::string value) {
    calls.push_back(verb);
    return value;
  }
};

// Calls `verb` through the wrapper: the target recorded exactly that one call.
#define EXPECT_FORWARDED(verb, call)                                                      \
  do {                                                                                    \
    target.calls.clear();                                                                 \
    call;                                                                                 \
    EXPECT_EQ(target.calls, std::vector<std::string>{verb}) << "not forwarded: " << verb; \
  } while (0)

void ExpectMarked(const Status& s, const std::string& verb) {
  EXPECT_TRUE(s.IsBusy()) << verb << ": " << s.ToString();
  EXPECT_NE(s.ToString().find("recorded " + verb), std::string::npos) << s.ToString();
}

TEST(StoreWrapper, ForwardsEveryVerb) {
  RecordingStore target;
  StoreWrapper wrapper(target);
  Store& store = wrapper;
  EXPECT_EQ(&wrapper.target(), &target);
  EXPECT_EQ(store.driver(), "recording");
  EXPECT_TRUE(store.shared());
  WriteBatch batch;
  batch.Put("k", "v");
  EXPECT_FORWARDED("get", EXPECT_EQ(*store.Get("p", "k"), "value"));
  EXPECT_FORWARDED("multiget", EXPECT_TRUE(store.MultiGet("p", {"a", "b"})->empty()));
  EXPECT_FORWARDED("set", ExpectMarked(store.Set("p", "k", "v"), "set"));
  EXPECT_FORWARDED("setif", ExpectMarked(store.SetIf("p", "k", "v", Predicate::Absent()), "setif"));
  EXPECT_FORWARDED("delete", ExpectMarked(store.Delete("p", "k"), "delete"));
  EXPECT_FORWARDED("deleteif",
                   ExpectMarked(store.DeleteIf("p", "k", Predicate::Exists()), "deleteif"));
  EXPECT_FORWARDED("deleterange", ExpectMarked(store.DeleteRange("p", "a", "b"), "deleterange"));
  EXPECT_FORWARDED("droppartition", ExpectMarked(store.DropPartition("p"), "droppartition"));
  EXPECT_FORWARDED("write", ExpectMarked(store.Write("p", batch), "write"));
  EXPECT_FORWARDED("scan", EXPECT_TRUE(store.Scan("p", {}).ok()));
  EXPECT_FORWARDED("listpartitions",
                   EXPECT_EQ(*store.ListPartitions(), std::vector<std::string>{"recorded"}));
  EXPECT_FORWARDED("preparepartitions",
                   ExpectMarked(store.PreparePartitions({"p"}), "preparepartitions"));
  EXPECT_FORWARDED("ingestsstfiles",
                   ExpectMarked(store.IngestSstFiles("p", {"f"}, true), "ingestsstfiles"));
  EXPECT_FORWARDED("insertnew", ExpectMarked(store.InsertNew("p", batch), "insertnew"));
  EXPECT_FORWARDED("properties", {
    auto props = store.Properties();
    ASSERT_EQ(props.size(), 1u);
    EXPECT_EQ(props[0].name, "recorded");
  });
  EXPECT_FORWARDED("estimaterange", {
    auto est = store.EstimateRange("p", "a", "b");
    ASSERT_TRUE(est.ok());
    EXPECT_EQ(est->keys, 7u);
    EXPECT_EQ(est->bytes, 11u);
  });
  EXPECT_FORWARDED("sync", ExpectMarked(store.Sync(), "sync"));
  EXPECT_FORWARDED("checkpoint", ExpectMarked(store.Checkpoint("dir"), "checkpoint"));
  EXPECT_FORWARDED("close", ExpectMarked(store.Close(), "close"));
  EXPECT_TRUE(target.closed);
}

// A subclass overrides one verb; the others still reach the target.
class CountingSets final : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  Status Set(std::string_view p, std::string_view k, std::string_view v) override {
    ++sets;
    return StoreWrapper::Set(p, k, v);
  }
  int sets = 0;
};

TEST(StoreWrapper, OwnsATargetGivenByUniquePtrAndSubclassesOverrideOneVerb) {
  auto owned = std::make_unique<RecordingStore>();
  RecordingStore* target = owned.get();
  CountingSets wrapper(std::move(owned));
  ExpectMarked(wrapper.Set("p", "k", "v"), "set");
  ExpectMarked(wrapper.Delete("p", "k"), "delete");
  EXPECT_EQ(wrapper.sets, 1);
  EXPECT_EQ(target->calls, (std::vector<std::string>{"set", "delete"}));
}

}  // namespace
}  // namespace refkv::kv
