#include "engine/uri.h"

#include <cctype>

#include "base/hex.h"
#include "engine/store.h"  // Printable

namespace refkv::kv {
namespace {

std::string Malformed(std::string_view uri, const std::string& what) {
  return "malformed store URI '" + Printable(uri, 1024) + "': " + what;
}

// Decodes `in`, which starts at byte `base` of `uri` (for the offsets in messages).
// A NUL byte, literal or percent-encoded, is refused: every consumer hands these strings
// to C APIs (open(2), libpq) that would silently cut them there.
Result<std::string> PercentDecode(std::string_view in, size_t base, std::string_view uri) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string at = " at offset " + std::to_string(base + i);
    if (in[i] == '\0') return Status::InvalidArgument(Malformed(uri, "NUL byte" + at));
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Status::InvalidArgument(Malformed(uri, "truncated percent escape" + at));
    }
    int hi = HexDigitValue(in[i + 1]), lo = HexDigitValue(in[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument(Malformed(uri, "bad percent escape" + at));
    if (hi == 0 && lo == 0) {
      return Status::InvalidArgument(Malformed(uri, "percent-encoded NUL (%00)" + at));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// The checks of a location that is a file-system path (rocks://), on its encoded form
// `raw` (which starts at byte `base` of `uri`). An encoded '/' or an encoded dot segment
// would make the path the driver opens differ from the one the URI shows, and a ".."
// after a directory name makes the driver create that directory on the way
// (create_directories("/a/../b") creates /a). Leading "." and ".." segments - a path
// relative to the working directory or its parents - stay valid.
Status CheckPathLocation(std::string_view raw, size_t base, std::string_view uri) {
  bool named_seen = false;  // a segment other than "", "." and ".." came before
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t slash = raw.find('/', pos);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view segment = raw.substr(pos, slash - pos);
    const std::string at = " at offset " + std::to_string(base + pos);
    for (size_t i = 0; i + 2 < segment.size(); ++i) {
      if (segment[i] == '%' && segment[i + 1] == '2' && (segment[i + 2] | 0x20) == 'f') {
        return Status::InvalidArgument(Malformed(
            uri, "percent-encoded '/' (%2F) in path segment '" + std::string(segment) + "'" + at));
      }
    }
    REFKV_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(segment, base + pos, uri));
    const bool dot = decoded == "." || decoded == "..";
    if (dot && decoded != segment) {
      return Status::InvalidArgument(
          Malformed(uri, "percent-encoded dot segment '" + std::string(segment) + "'" + at +
                             " (write '" + decoded + "' if it is meant)"));
    }
    if (decoded == ".." && named_seen) {
      return Status::InvalidArgument(
          Malformed(uri, "'..' after a directory name" + at +
                             " (give the path it resolves to: '..' is allowed only at the start)"));
    }
    if (!decoded.empty() && !dot) named_seen = true;
    pos = slash + 1;
  }
  return Status::OK();
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
  const size_t location_at = sep + 3;
  REFKV_ASSIGN_OR_RETURN(out.location, PercentDecode(location, location_at, uri));
  if (out.scheme == "rocks") REFKV_RETURN_IF_ERROR(CheckPathLocation(location, location_at, uri));
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    size_t pair_at = location_at + q + 1;  // where `pair` starts in `uri`
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const size_t at = pair_at;
      pair_at += pair.size() + 1;
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      if (eq == 0) {
        return Status::InvalidArgument("malformed store URI '" + std::string(uri) +
                                       "': query parameter with no name");
      }
      REFKV_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), at, uri));
      std::string value;
      if (eq != std::string_view::npos) {
        REFKV_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), at + eq + 1, uri));
      } else {
        value = "true";
      }
      out.params[name] = value;
    }
  }
  return out;
}

}  // namespace refkv::kv
