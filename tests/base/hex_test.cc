#include "base/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace refkv {
namespace {

TEST(HexTest, EncodeIsTwoDigitsPerByteHighNibbleFirst) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\x7f\x80\xab\xff", 6)), "00017f80abff");
  EXPECT_EQ(HexEncode("\xab\x0c", HexCase::kUpper), "AB0C");
  std::string out = "%";
  AppendHexByte(&out, 0x3f, HexCase::kUpper);
  AppendHexByte(&out, 0xe9);
  EXPECT_EQ(out, "%3Fe9");
}

TEST(HexTest, Uint64IsZeroPaddedMostSignificantFirst) {
  EXPECT_EQ(HexUint64(0), "0000000000000000");
  EXPECT_EQ(HexUint64(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(HexUint64(0xabc, 4), "0abc");
  EXPECT_EQ(HexUint64(0x12345, 4), "2345");
  EXPECT_EQ(HexUint64(~uint64_t{0}), "ffffffffffffffff");
}

TEST(HexTest, DigitValueHonoursTheCase) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
  EXPECT_EQ(HexDigitValue('A', HexCase::kLower), -1);
  EXPECT_EQ(HexDigitValue('f', HexCase::kLower), 15);
  EXPECT_EQ(HexDigitValue('a', HexCase::kUpper), -1);
  EXPECT_EQ(HexDigitValue('A', HexCase::kUpper), 10);
}

TEST(HexTest, DecodeRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string out;
  ASSERT_TRUE(HexDecode(HexEncode(all), &out, HexCase::kLower));
  EXPECT_EQ(out, all);
  ASSERT_TRUE(HexDecode(HexEncode(all, HexCase::kUpper), &out, HexCase::kUpper));
  EXPECT_EQ(out, all);
  ASSERT_TRUE(HexDecode("aBcD", &out));
  EXPECT_EQ(out, "\xab\xcd");
  ASSERT_TRUE(HexDecode("", &out));
  EXPECT_EQ(out, "");
}

TEST(HexTest, DecodeRefusesBadInputAndSaysWhere) {
  std::string out;
  size_t bad = 99;
  EXPECT_FALSE(HexDecode("abc", &out, HexCase::kAny, &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(HexDecode("00zz", &out, HexCase::kAny, &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(HexDecode("000g", &out, HexCase::kAny, &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(HexDecode("AB", &out, HexCase::kLower));
  EXPECT_FALSE(HexDecode("ab", &out, HexCase::kUpper));
}

}  // namespace
}  // namespace refkv
