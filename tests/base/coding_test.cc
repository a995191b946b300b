#include "base/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>

namespace refkv {
namespace {

TEST(CodingTest, FixedWidthIsLittleEndian) {
  std::string out;
  PutFixed16(&out, 0x0102);
  PutFixed32(&out, 0x03040506);
  PutFixed64(&out, 0x0708090a0b0c0d0eULL);
  EXPECT_EQ(out, std::string("\x02\x01\x06\x05\x04\x03\x0e\x0d\x0c\x0b\x0a\x09\x08\x07", 14));
  EXPECT_EQ(DecodeFixed16(out.data()), 0x0102);
  EXPECT_EQ(DecodeFixed32(out.data() + 2), 0x03040506u);
  EXPECT_EQ(DecodeFixed64(out.data() + 6), 0x0708090a0b0c0d0eULL);

  std::string_view in = out;
  uint16_t a;
  uint32_t b;
  uint64_t c;
  ASSERT_TRUE(GetFixed16(&in, &a) && GetFixed32(&in, &b) && GetFixed64(&in, &c));
  EXPECT_EQ(a, 0x0102);
  EXPECT_EQ(b, 0x03040506u);
  EXPECT_EQ(c, 0x0708090a0b0c0d0eULL);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, FixedWidthHighBytesDoNotSignExtend) {
  std::string out;
  PutFixed64(&out, ~uint64_t{0});
  PutFixed32(&out, 0x80000000u);
  EXPECT_EQ(DecodeFixed64(out.data()), ~uint64_t{0});
  EXPECT_EQ(DecodeFixed32(out.data() + 8), 0x80000000u);
}

TEST(CodingTest, TruncatedFixedFailsAndLeavesInput) {
  std::string_view in("\x01\x02\x03", 3);
  uint32_t v = 7;
  EXPECT_FALSE(GetFixed32(&in, &v));
  EXPECT_EQ(in.size(), 3u);
  uint64_t w;
  EXPECT_FALSE(GetFixed64(&in, &w));
  uint16_t h;
  EXPECT_TRUE(GetFixed16(&in, &h));
  EXPECT_EQ(h, 0x0201);
}

TEST(CodingTest, VarintRoundTripsAndLengths) {
  const uint64_t values[] = {0,          1,           127,
                             128,        255,         300,
                             16383,      16384,       (1u << 21) - 1,
                             1u << 21,   0xffffffffu, 1ULL << 35,
                             1ULL << 56, 1ULL << 63,  ~uint64_t{0}};
  for (uint64_t v : values) {
    std::string out;
    PutVarint64(&out, v);
    EXPECT_EQ(out.size(), VarintLength(v)) << v;
    out += "tail";
    std::string_view in = out;
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(in, "tail");
  }
  EXPECT_EQ(VarintLength(0), 1u);
  EXPECT_EQ(VarintLength(127), 1u);
  EXPECT_EQ(VarintLength(128), 2u);
  EXPECT_EQ(VarintLength(~uint64_t{0}), 10u);
  std::string max;
  PutVarint64(&max, ~uint64_t{0});
  EXPECT_EQ(max, std::string(9, '\xff') + "\x01");
}

TEST(CodingTest, VarintKnownBytes) {
  std::string out;
  PutVarint64(&out, 300);
  EXPECT_EQ(out, "\xac\x02");
}

TEST(CodingTest, TruncatedVarintFailsAndLeavesInput) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("\x80"), std::string_view("\xff\xff\xff")}) {
    std::string_view in = bad;
    uint64_t v = 42;
    EXPECT_FALSE(GetVarint64(&in, &v));
    EXPECT_EQ(in.size(), bad.size());
    EXPECT_EQ(v, 42u);
  }
}

TEST(CodingTest, VarintOverflowingSixtyFourBitsFails) {
  // The 10th byte may hold only bit 63.
  std::string two = std::string(9, '\xff') + "\x02";
  std::string_view in = two;
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  EXPECT_EQ(in.size(), two.size());
  std::string high = std::string(9, '\x80') + "\x7f";
  in = high;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(CodingTest, VarintLongerThanTenBytesFails) {
  // 11 bytes encoding 1 (non-canonical, but within 64 bits) is still refused.
  std::string eleven(11, '\x80');
  eleven[0] = '\x81';
  eleven[10] = '\0';
  std::string_view in = eleven;
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  // A 10th byte with the continuation bit set is refused too.
  std::string cont = std::string(9, '\x80') + "\x81" + std::string(1, '\0');
  in = cont;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(CodingTest, NonCanonicalVarintWithinTenBytesIsAccepted) {
  std::string padded("\x81\x80\x00", 3);
  std::string_view in = padded;
  uint64_t v;
  ASSERT_TRUE(GetVarint64(&in, &v));
  EXPECT_EQ(v, 1u);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, LengthPrefixed) {
  std::string out;
  PutLengthPrefixed(&out, "abc");
  PutLengthPrefixed(&out, "");
  PutLengthPrefixed(&out, std::string(200, 'x'));
  EXPECT_EQ(out.substr(0, 4),
            "\x03"
            "abc");
  std::string_view in = out, s;
  ASSERT_TRUE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(s, "abc");
  ASSERT_TRUE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(s, std::string(200, 'x'));
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, LengthPrefixedBeyondTheInputFailsAndLeavesInput) {
  std::string_view in(
      "\x05"
      "abcd",
      5);
  std::string_view s;
  EXPECT_FALSE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(in.size(), 5u);
  std::string bad_len = std::string(9, '\xff') + "\x7f";
  in = bad_len;
  EXPECT_FALSE(GetLengthPrefixed(&in, &s));
}

}  // namespace
}  // namespace refkv
