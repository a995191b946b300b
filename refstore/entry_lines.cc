#include "refstore/entry_lines.h"

#include <map>
#include <optional>

#include "refstore/internal/keys.h"

namespace refkv::refstore {
namespace {

struct Parser {
  std::string_view s;
  size_t i = 0;

  void SkipSpace() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  }
  Status Error(std::string what) const {
    return Status::InvalidArgument(what + " at column " + std::to_string(i + 1));
  }
  Status Expect(char c) {
    SkipSpace();
    if (i >= s.size() || s[i] != c) return Error(std::string("expected '") + c + "'");
    ++i;
    return Status::OK();
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  Result<uint32_t> Hex4() {
    if (i + 4 > s.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return Error("bad \\u escape");
    }
    return v;
  }
  Result<std::string> String() {
    REFKV_RETURN_IF_ERROR(Expect('"'));
    std::string out;
    while (true) {
      if (i >= s.size()) return Error("unterminated string");
      char c = s[i++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) return Error("unterminated string");
      char e = s[i++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          REFKV_ASSIGN_OR_RETURN(uint32_t cp, Hex4());
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u') {
              return Error("unpaired surrogate");
            }
            i += 2;
            REFKV_ASSIGN_OR_RETURN(uint32_t lo, Hex4());
            if (lo < 0xDC00 || lo >= 0xE000) return Error("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Error(std::string("bad escape '\\") + e + "'");
      }
    }
  }
};

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || (v[k] = B64Value(c)) < 0) {
        return Status::InvalidArgument("bad base64 character at offset " + std::to_string(i + k));
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

Result<Entry> ParseEntryLine(std::string_view line) {
  Parser p{line};
  REFKV_RETURN_IF_ERROR(p.Expect('{'));
  std::map<std::string, std::string> fields;
  p.SkipSpace();
  if (p.i < line.size() && line[p.i] == '}') {
    ++p.i;
  } else {
    while (true) {
      REFKV_ASSIGN_OR_RETURN(std::string key, p.String());
      REFKV_RETURN_IF_ERROR(p.Expect(':'));
      p.SkipSpace();
      if (p.i >= line.size() || line[p.i] != '"') {
        return p.Error("field \"" + key + "\" must be a string");
      }
      REFKV_ASSIGN_OR_RETURN(std::string value, p.String());
      if (key != "path" && key != "value" && key != "value_b64") {
        return Status::InvalidArgument("unknown field \"" + key + "\"");
      }
      if (!fields.emplace(key, std::move(value)).second) {
        return Status::InvalidArgument("field \"" + key + "\" given twice");
      }
      p.SkipSpace();
      if (p.i < line.size() && line[p.i] == ',') {
        ++p.i;
        continue;
      }
      REFKV_RETURN_IF_ERROR(p.Expect('}'));
      break;
    }
  }
  p.SkipSpace();
  if (p.i != line.size()) return p.Error("trailing characters after the object");
  auto path = fields.find("path");
  if (path == fields.end()) return Status::InvalidArgument("missing field \"path\"");
  REFKV_RETURN_IF_ERROR(internal::ValidatePath(path->second));
  bool has_value = fields.count("value") > 0, has_b64 = fields.count("value_b64") > 0;
  if (has_value == has_b64) {
    return Status::InvalidArgument("exactly one of \"value\" and \"value_b64\" is required");
  }
  Entry entry;
  entry.path = path->second;
  if (has_value) {
    entry.value = fields["value"];
  } else {
    auto decoded = Base64Decode(fields["value_b64"]);
    if (!decoded.ok()) return decoded.status().WithContext("value_b64");
    entry.value = std::move(decoded).value();
  }
  REFKV_RETURN_IF_ERROR(internal::ValidateEntryValue(entry.path, entry.value));
  return entry;
}

Result<std::vector<Entry>> ParseEntryLines(std::istream& in, std::string_view name) {
  std::vector<Entry> entries;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto entry = ParseEntryLine(line);
    if (!entry.ok()) {
      return Status::InvalidArgument(std::string(name) + ":" + std::to_string(number) + ": " +
                                     entry.status().message());
    }
    entries.push_back(std::move(entry).value());
  }
  if (in.bad()) return Status::IOError("cannot read " + std::string(name));
  return entries;
}

}  // namespace refkv::refstore
