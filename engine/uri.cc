#include "engine/uri.h"

#include <cctype>

namespace refkv::kv {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in, std::string_view uri) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Status::InvalidArgument("malformed URI '" + std::string(uri) +
                                     "': truncated percent escape");
    }
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("malformed URI '" + std::string(uri) +
                                     "': bad percent escape at offset " + std::to_string(i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::string Uri::Param(std::string_view name, std::string_view fallback) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string(fallback) : it->second;
}

Result<bool> Uri::BoolParam(std::string_view name, bool fallback) const {
  auto it = params.find(std::string(name));
  if (it == params.end()) return fallback;
  const std::string& v = it->second;
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return Status::InvalidArgument("URI '" + raw + "': parameter '" + std::string(name) +
                                 "' must be true or false, got '" + v + "'");
}

Result<Uri> Uri::Parse(std::string_view uri) {
  Uri out;
  out.raw = std::string(uri);
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("malformed store URI '" + std::string(uri) +
                                   "': expected <driver>://<location>, e.g. rocks://./data");
  }
  if (sep == 0) {
    return Status::InvalidArgument("malformed store URI '" + std::string(uri) +
                                   "': empty driver name before '://'");
  }
  for (size_t i = 0; i < sep; ++i) {
    char c = uri[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return Status::InvalidArgument("malformed store URI '" + std::string(uri) +
                                     "': invalid character in driver name at offset " +
                                     std::to_string(i));
    }
    out.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view rest = uri.substr(sep + 3);
  size_t q = rest.find('?');
  std::string_view location = rest.substr(0, q);
  REFKV_ASSIGN_OR_RETURN(out.location, PercentDecode(location, uri));
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      if (eq == 0) {
        return Status::InvalidArgument("malformed store URI '" + std::string(uri) +
                                       "': query parameter with no name");
      }
      REFKV_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), uri));
      std::string value;
      if (eq != std::string_view::npos) {
        REFKV_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), uri));
      } else {
        value = "true";
      }
      out.params[name] = value;
    }
  }
  return out;
}

}  // namespace refkv::kv
