// cli/bytes_format, cli/json and cli/exit_code: how bytes are read and written, and exit codes.
#include "cli/bytes_format.h"

#include <gtest/gtest.h>

#include "cli/exit_code.h"
#include "cli/json.h"

namespace refkv::cli {
namespace {

TEST(Hex, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(506), "fdfeff");
  auto back = HexDecode(hex, "KEY");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  auto upper = HexDecode("00FFaB", "KEY");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, std::string("\x00\xff\xab", 3));
  EXPECT_EQ(*HexDecode("", "KEY"), "");
}

TEST(Hex, RejectsOddLengthAndNonHexNamingTheArgument) {
  auto odd = HexDecode("abc", "KEY");
  ASSERT_TRUE(odd.status().IsInvalidArgument());
  EXPECT_NE(odd.status().message().find("KEY"), std::string::npos);
  auto bad = HexDecode("00zz", "VALUE");
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("VALUE"), std::string::npos);
  EXPECT_NE(bad.status().message().find("offset 2"), std::string::npos);
}

TEST(EscapeText, IsAsciiAndReversible) {
  EXPECT_EQ(EscapeText("plain key/1"), "plain key/1");
  EXPECT_EQ(EscapeText(std::string("a\tb\nc\rd\\e\x00\x7f\xff", 12)),
            "a\\tb\\nc\\rd\\\\e\\x00\\x7f\\xff");
  EXPECT_EQ(EscapeText("\xc3\xa9"), "\\xc3\\xa9");
}

TEST(Utf8, ValidatesSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9"));              // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));          // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_TRUE(IsValidUtf8(std::string("\x00", 1)));  // NUL is valid UTF-8
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("a\x80"));             // stray continuation
}

// The escaping is refkv's documented form (README, "Bytes"), not the library's own:
// \u00xx in lower case for every control character but \n, \t, \r, and for DEL.
TEST(Json, StringsEscapeQuotesAndControlBytes) {
  auto value = [](std::string_view text) {
    return JsonWriter().StartArray().String(text).EndArray().Take();
  };
  EXPECT_EQ(value("a\"b\\c"), "[\"a\\\"b\\\\c\"]");
  EXPECT_EQ(value(std::string("\x00\x01\n\x1f\x7f", 5)), "[\"\\u0000\\u0001\\n\\u001f\\u007f\"]");
  EXPECT_EQ(value("\b\f\t\r\x1b"), "[\"\\u0008\\u000c\\t\\r\\u001b\"]");
  EXPECT_EQ(value("\xc3\xa9"), "[\"\xc3\xa9\"]");
  EXPECT_EQ(value("a/b"), "[\"a/b\"]");
  // Text that is not UTF-8 is written C-escaped (names, ids).
  EXPECT_EQ(value("k\xff"), "[\"k\\\\xff\"]");
}

TEST(Json, ObjectsKeepTheOrderWrittenWithoutSpaces) {
  JsonWriter j;
  j.StartObject().Field("z", "1").Field("a", uint64_t{18446744073709551615u}).Field("n", -3);
  j.Field("ok", true).Key("none").Null().Key("list").StartArray().EndArray();
  EXPECT_EQ(j.EndObject().Take(),
            "{\"z\":\"1\",\"a\":18446744073709551615,\"n\":-3,\"ok\":true,\"none\":null,"
            "\"list\":[]}");
  std::string inner = JsonWriter().StartObject().Field("x", "\x7f").EndObject().Take();
  EXPECT_EQ(JsonWriter().StartArray().Raw(inner).Raw(inner).EndArray().Take(),
            "[{\"x\":\"\\u007f\"},{\"x\":\"\\u007f\"}]");
}

TEST(Json, BytesFieldFallsBackToHex) {
  auto field = [](std::string_view name, std::string_view bytes, bool hex) {
    return JsonBytesMember(name, bytes, hex);
  };
  EXPECT_EQ(field("key", "k1", false), "\"key\":\"k1\"");
  EXPECT_EQ(field("key", "k1", true), "\"key_hex\":\"6b31\"");
  EXPECT_EQ(field("value", "\xff\x00", false), "\"value_hex\":\"ff\"");
  EXPECT_EQ(field("value", std::string("\xff\x00", 2), false), "\"value_hex\":\"ff00\"");
  EXPECT_EQ(field("value", std::string("a\x00", 2), false), "\"value\":\"a\\u0000\"");
  EXPECT_EQ(JsonWriter(true).StartObject().Bytes("k", "A").EndObject().Take(),
            "{\"k_hex\":\"41\"}");
}

TEST(ExitCode, OneMapping) {
  EXPECT_EQ(ExitCodeFor(Status::OK(), Phase::kCommand), 0);
  EXPECT_EQ(ExitCodeFor(Status::NotFound("k"), Phase::kCommand), 3);
  EXPECT_EQ(ExitCodeFor(Status::PredicateFailed("k"), Phase::kCommand), 4);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("k"), Phase::kCommand), 2);
  EXPECT_EQ(ExitCodeFor(Status::IOError("k"), Phase::kCommand), 1);
  EXPECT_EQ(ExitCodeFor(Status::Conflict("k"), Phase::kCommand), 5);
  EXPECT_EQ(ExitCodeFor(Status::VersionMismatch("k"), Phase::kCommand), 6);
  EXPECT_EQ(ExitCodeFor(Status::Busy("k"), Phase::kCommand), 7);
  EXPECT_EQ(ExitCodeFor(Status::Busy("k"), Phase::kSetup), 1);
  // A missing store or unknown driver never looks like a missing key.
  EXPECT_EQ(ExitCodeFor(Status::NotFound("driver"), Phase::kSetup), 1);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("uri"), Phase::kSetup), 1);
  EXPECT_EQ(ExitCodeFor(Status::PredicateFailed("x"), Phase::kSetup), 1);
}

}  // namespace
}  // namespace refkv::cli
