// A bounded pool of libcurl easy handles posting signed DynamoDB JSON requests.
//
// Each handle keeps its HTTP/1.1 connection alive between requests (libcurl reuses it),
// so a pool of N handles is at most N connections to the endpoint. A caller takes a handle
// for one request and returns it; callers beyond N wait. Transport results say whether
// the request can have reached the server, which decides whether a write may be retried.
//
// Thread-safety: Post may be called from any number of threads.
#ifndef REFKV_ENGINE_DYNAMODB_HTTP_CLIENT_H_
#define REFKV_ENGINE_DYNAMODB_HTTP_CLIENT_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dynamodb/sigv4.h"

namespace refkv::kv::dynamodb {

struct HttpResponse {
  // The transport: kOk (an HTTP answer arrived, any status), kNotSent (no connection:
  // refused, unresolvable; the server cannot have seen the request), kLost (a connection
  // existed and failed or timed out: the request may have been executed).
  enum class Transport { kOk, kNotSent, kLost };
  Transport transport = Transport::kOk;
  bool timed_out = false;
  std::string transport_error;  // libcurl's message when transport != kOk
  long status = 0;
  std::string body;
};

struct HttpClientOptions {
  std::string endpoint;  // "http://127.0.0.1:8000", "https://dynamodb.eu-west-1.amazonaws.com"
  std::string region;
  SigV4Credentials credentials;
  size_t max_connections = 16;
  long timeout_ms = 10000;  // whole request; connecting is bounded by the same
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Signs and posts `body` as the DynamoDB action `target` ("GetItem").
  HttpResponse Post(std::string_view target, std::string_view body);

  const HttpClientOptions& options() const { return options_; }

 private:
  void* Acquire();
  void Release(void* handle);

  HttpClientOptions options_;
  std::string host_;  // the Host header: the endpoint's authority
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<void*> idle_;
  size_t created_ = 0;
};

// The Host header of `endpoint` ("http://h:p/x" -> "h:p"); empty if it has no "://".
std::string EndpointHost(std::string_view endpoint);

}  // namespace refkv::kv::dynamodb

#endif  // REFKV_ENGINE_DYNAMODB_HTTP_CLIENT_H_
