#include "refstore/committed/lru_cache.h"

#include <gtest/gtest.h>

namespace refkv::refstore::internal {
namespace {

TEST(LruCache, EvictsLeastRecentlyUsedByCharge) {
  LruCache<int> cache(10);
  cache.Put("a", std::make_shared<int>(1), 4);
  cache.Put("b", std::make_shared<int>(2), 4);
  ASSERT_NE(cache.Get("a"), nullptr);           // a is now the most recent
  cache.Put("c", std::make_shared<int>(3), 4);  // 12 > 10: evicts b
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_EQ(*cache.Get("a"), 1);
  EXPECT_EQ(*cache.Get("c"), 3);
  cache.Put("huge", std::make_shared<int>(4), 11);  // larger than the cache: not kept
  EXPECT_EQ(cache.Get("huge"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  cache.Put("a", std::make_shared<int>(5), 2);  // replace with a new charge
  EXPECT_EQ(*cache.Get("a"), 5);
  cache.Erase("a");
  EXPECT_EQ(cache.Get("a"), nullptr);
  cache.Put("d", std::make_shared<int>(6), 6);  // 4 (c) + 6 fits
  EXPECT_NE(cache.Get("c"), nullptr);
  EXPECT_NE(cache.Get("d"), nullptr);
}

TEST(LruCache, DemotedEntryIsEvictedFirstButKeptWhileThereIsRoom) {
  LruCache<int> cache(12);
  cache.Put("a", std::make_shared<int>(1), 4);
  cache.Put("b", std::make_shared<int>(2), 4);
  cache.Put("c", std::make_shared<int>(3), 4);  // order: c b a
  cache.Demote("c");                            // order: b a c
  cache.Demote("absent");                       // no-op
  EXPECT_EQ(*cache.Get("c"), 3);                // still there; a hit promotes it again
  cache.Demote("c");
  cache.Put("d", std::make_shared<int>(4), 4);  // 16 > 12: evicts c, not a
  EXPECT_EQ(cache.Get("c"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("d"), nullptr);
}

TEST(LruCache, EvictedValueOutlivesTheCacheWhileHeld) {
  LruCache<std::string> cache(1);
  cache.Put("a", std::make_shared<std::string>("held"));
  auto held = cache.Get("a");
  cache.Put("b", std::make_shared<std::string>("other"));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(*held, "held");
}

}  // namespace
}  // namespace refkv::refstore::internal
