// SigV4 against the published AWS Signature Version 4 test suite: credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z, region
// us-east-1, service "service", host example.amazonaws.com. The expected values are the
// suite's .authz / .sts / .creq files of each case named below.
#include "engine/dynamodb/sigv4.h"

#include <gtest/gtest.h>

namespace refkv::kv::dynamodb {
namespace {

const SigV4Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kDate = "20150830T123600Z";
constexpr std::string_view kScope =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

std::string Hex(const std::string& raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

SigV4Request SuiteRequest(std::string method, std::string query = {}) {
  return {std::move(method),
          "/",
          std::move(query),
          {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(kDate)}},
          {}};
}

TEST(SigV4, GetVanilla) {
  SigV4Request request = SuiteRequest("GET");
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(request, &signed_headers);
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(kDate, "20150830/us-east-1/service/aws4_request", canonical),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(SigV4Authorization(request, kSuite, "us-east-1", "service"),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
  EXPECT_EQ(SigV4Authorization(SuiteRequest("GET", "Param2=value2&Param1=value1"), kSuite,
                               "us-east-1", "service"),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, PostVanilla) {
  EXPECT_EQ(SigV4Authorization(SuiteRequest("POST"), kSuite, "us-east-1", "service"),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, PostXWwwFormUrlencoded) {
  SigV4Request request = SuiteRequest("POST");
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.payload = "Param1=value1";
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(request, &signed_headers);
  EXPECT_EQ(canonical,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(StringToSign(kDate, "20150830/us-east-1/service/aws4_request", canonical),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(SigV4Authorization(request, kSuite, "us-east-1", "service"),
            std::string(kScope) +
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

// The signing key of the specification's worked example (IAM, same secret and date).
TEST(SigV4, DerivedSigningKey) {
  EXPECT_EQ(Hex(SigningKey(kSuite.secret_access_key, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

// Header values are trimmed and their inner spaces collapsed; names are case-insensitive.
TEST(SigV4, HeadersAreCanonicalised) {
  SigV4Request request = SuiteRequest("POST");
  request.headers.emplace_back("My-Header1", "  a   b  c ");
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(request, &signed_headers);
  EXPECT_NE(canonical.find("\nmy-header1:a b c\n"), std::string::npos) << canonical;
  EXPECT_EQ(signed_headers, "host;my-header1;x-amz-date");
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(AmzDate(std::chrono::system_clock::from_time_t(1440938160)), kDate);
}

}  // namespace
}  // namespace refkv::kv::dynamodb
