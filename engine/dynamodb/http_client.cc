#include "engine/dynamodb/http_client.h"

#include <curl/curl.h>

#include <chrono>
#include <mutex>

namespace refkv::kv::dynamodb {
namespace {

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string EndpointHost(std::string_view endpoint) {
  size_t scheme = endpoint.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = endpoint.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), host_(EndpointHost(options_.endpoint)) {
  GlobalInit();
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || created_ < options_.max_connections; });
  if (!idle_.empty()) {
    void* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  ++created_;
  lock.unlock();
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, options_.endpoint.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Append);
  return h;
}

void HttpClient::Release(void* handle) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(handle);
  }
  cv_.notify_one();
}

HttpResponse HttpClient::Post(std::string_view target, std::string_view body) {
  const std::string amz_date = AmzDate(std::chrono::system_clock::now());
  const std::string amz_target = "DynamoDB_20120810." + std::string(target);
  SigV4Request request{"POST",
                       "/",
                       "",
                       {{"host", host_},
                        {"x-amz-date", amz_date},
                        {"x-amz-target", amz_target},
                        {"content-type", "application/x-amz-json-1.0"}},
                       body};
  if (!options_.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
  }
  const std::string authorization =
      SigV4Authorization(request, options_.credentials, options_.region, "dynamodb");

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    if (name == "host") continue;  // libcurl sends it from the URL
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, ("authorization: " + authorization).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip

  HttpResponse response;
  CURL* h = static_cast<CURL*>(Acquire());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  // A handle whose last transfer succeeded holds a kept-alive connection; when that
  // connection turns out dead, libcurl re-sends the request on a fresh one by itself.
  char* warm = nullptr;
  curl_easy_getinfo(h, CURLINFO_PRIVATE, &warm);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_PRIVATE, rc == CURLE_OK ? const_cast<char*>("warm") : nullptr);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.transport_error = curl_easy_strerror(rc);
    response.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    // Only a connection never made proves the server did not see the request; a failure
    // on an open connection may follow a request the server executed. On a warm handle
    // even "could not connect" may come from libcurl's re-send after the kept-alive
    // connection died with the request written to it.
    const bool never_connected =
        warm == nullptr && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                            rc == CURLE_COULDNT_RESOLVE_PROXY);
    response.transport =
        never_connected ? HttpResponse::Transport::kNotSent : HttpResponse::Transport::kLost;
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  Release(h);
  return response;
}

}  // namespace refkv::kv::dynamodb
