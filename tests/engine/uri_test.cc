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

// A decoded NUL would cut the path or conninfo where C APIs see it: rocks:///tmp/x%00y
// opened /tmp/x.
TEST(Uri, RefusesNulAnywhereForEveryDriver) {
  for (const char* uri :
       {"rocks:///tmp/x%00y", "mem://a%00", "postgres://u@h/db%00x", "rocks://x?sync=%00",
        "postgres://?conninfo=host%3D%2Ftmp%00dbname%3Dx", "rocks://x?a%00=1"}) {
    auto parsed = Uri::Parse(uri);
    ASSERT_TRUE(parsed.status().IsInvalidArgument()) << uri;
    EXPECT_NE(parsed.status().message().find("NUL (%00) at offset"), std::string::npos)
        << parsed.status().message();
  }
  auto at = Uri::Parse("rocks:///tmp/x%00y");
  EXPECT_NE(at.status().message().find("at offset 14"), std::string::npos) << at.status().message();
  auto literal = Uri::Parse(std::string_view("rocks://a\0b", 11));
  ASSERT_TRUE(literal.status().IsInvalidArgument());
  EXPECT_NE(literal.status().message().find("NUL byte at offset 9"), std::string::npos)
      << literal.status().message();
}

// rocks:///a/%2e%2e/b created /a: the path opened must be the path shown.
TEST(Uri, RocksRefusesEncodedSeparatorsAndDotSegments) {
  struct Case {
    const char* uri;
    const char* message;
  } cases[] = {
      {"rocks:///a/%2e%2e/b", "percent-encoded dot segment '%2e%2e' at offset 11"},
      {"rocks:///a/%2E./b", "percent-encoded dot segment '%2E.'"},
      {"rocks://%2e/data", "percent-encoded dot segment '%2e' at offset 8"},
      {"rocks:///a%2Fb", "percent-encoded '/' (%2F) in path segment 'a%2Fb' at offset 9"},
      {"rocks:///a%2f..%2fb", "percent-encoded '/' (%2F)"},
      {"rocks:///a/../b", "'..' after a directory name at offset 11"},
      {"rocks://data/..", "'..' after a directory name"},
  };
  for (const auto& c : cases) {
    auto parsed = Uri::Parse(c.uri);
    ASSERT_TRUE(parsed.status().IsInvalidArgument()) << c.uri;
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find(std::string("'") + c.uri + "'"), std::string::npos)
        << parsed.status().message();
  }
  // Literal relative paths, "." inside a path, and other escapes stay valid.
  for (const char* uri :
       {"rocks://./data", "rocks://../data", "rocks://../../x/data", "rocks:///var/./lib/refkv",
        "rocks://./a%20b/c", "rocks:///..x/y..", "rocks:///a/.../b"}) {
    EXPECT_TRUE(Uri::Parse(uri).ok()) << uri << ": " << Uri::Parse(uri).status().ToString();
  }
  // Not a path: a postgres password may hold an encoded '/', a database name '..'.
  EXPECT_TRUE(Uri::Parse("postgres://u:pa%2Fss@h/%2e%2e").ok());
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
