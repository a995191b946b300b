// AWS Signature Version 4 for the DynamoDB driver: the one place requests are signed.
//
//   SigV4Request request{"POST", "/", "", {{"host", "127.0.0.1:8000"},
//                                          {"x-amz-date", AmzDate(now)}}, body};
//   std::string authorization = SigV4Authorization(request, credentials, "us-east-1",
//                                                  "dynamodb");
//
// The request's headers must already hold every header to sign, "host" and "x-amz-date"
// (and "x-amz-security-token" with temporary credentials) included; every header given
// is signed. The path is used as given (it must be normalised and URI-encoded: DynamoDB
// always posts to "/"); the query is the raw, already encoded string, sorted here.
// Checked against the published SigV4 test suite (tests/engine/dynamodb/sigv4_test.cc).
//
// Thread-safety: pure functions.
#ifndef REFKV_ENGINE_DYNAMODB_SIGV4_H_
#define REFKV_ENGINE_DYNAMODB_SIGV4_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace refkv::kv::dynamodb {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term credentials
};

struct SigV4Request {
  std::string method;                                        // "POST"
  std::string path;                                          // "/"
  std::string query;                                         // "a=1&b=2", encoded; "" for none
  std::vector<std::pair<std::string, std::string>> headers;  // any case, any order
  std::string_view payload;
};

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256(key, data), raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// The signing key: HMAC chain of "AWS4"+secret over date (YYYYMMDD), region, service,
// "aws4_request"; raw bytes.
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
// The canonical request of the specification (task 1); `signed_headers` receives the
// ';'-joined lower-case names.
std::string CanonicalRequest(const SigV4Request& request, std::string* signed_headers);
// The string to sign (task 2) for `amz_date` (YYYYMMDDTHHMMSSZ, the x-amz-date header).
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// The value of the Authorization header. The date is taken from the request's
// x-amz-date header (empty date if it has none: the caller must add it).
std::string SigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               std::string_view region, std::string_view service);
// `time` as YYYYMMDDTHHMMSSZ (UTC).
std::string AmzDate(std::chrono::system_clock::time_point time);

}  // namespace refkv::kv::dynamodb

#endif  // REFKV_ENGINE_DYNAMODB_SIGV4_H_
