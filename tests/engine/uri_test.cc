#include "engine/uri.h"

#include <gtest/gtest.h>

#include "engine/store.h"

namespace refkv::kv {
namespace {

TEST(Uri, ParsesSchemeLocationAndParams) {
  auto uri = Uri::Parse("ROCKS://./data%20dir?partitions=shared&sync=true&flag");
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(uri->scheme, "rocks");
  EXPECT_EQ(uri->location, "./data dir");
  EXPECT_EQ(uri->Param("partitions"), "shared");
  EXPECT_EQ(uri->Param("missing", "dflt"), "dflt");
  EXPECT_TRUE(*uri->BoolParam("sync", false));
  EXPECT_TRUE(*uri->BoolParam("flag", false));
  EXPECT_FALSE(*uri->BoolParam("other", false));
  auto abs = Uri::Parse("rocks:///var/lib/refkv");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->location, "/var/lib/refkv");
  auto mem = Uri::Parse("mem://");
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->location, "");
}

TEST(Uri, RejectsMalformed) {
  EXPECT_TRUE(Uri::Parse("no-scheme").status().IsInvalidArgument());
  EXPECT_TRUE(Uri::Parse("://x").status().IsInvalidArgument());
  EXPECT_TRUE(Uri::Parse("ro cks://x").status().IsInvalidArgument());
  EXPECT_TRUE(Uri::Parse("rocks://x%2").status().IsInvalidArgument());
  EXPECT_TRUE(Uri::Parse("rocks://x%zz").status().IsInvalidArgument());
  EXPECT_TRUE(Uri::Parse("rocks://x?=v").status().IsInvalidArgument());
  auto bad_bool = Uri::Parse("rocks://x?sync=maybe");
  ASSERT_TRUE(bad_bool.ok());
  EXPECT_TRUE(bad_bool->BoolParam("sync", false).status().IsInvalidArgument());
}

TEST(Printable, EscapesAndTruncates) {
  EXPECT_EQ(Printable("abc"), "abc");
  EXPECT_EQ(Printable(std::string("a\0\xff\\", 4)), "a\\x00\\xff\\x5c");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
}

TEST(PrefixUpperBound, IncrementsLastNonFFByte) {
  EXPECT_EQ(PrefixUpperBound("ab"), "ac");
  EXPECT_EQ(PrefixUpperBound(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixUpperBound(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixUpperBound(""), "");
}

}  // namespace
}  // namespace refkv::kv
