#include "refstore/entry_lines.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstdint>
#include <optional>

#include "refstore/internal/keys.h"

namespace refkv::refstore {
namespace {

// The SAX handler of one line: a flat object whose members are all strings, each of
// "path", "value" and "value_b64" at most once. A refusal leaves `error` set and stops
// the parse.
struct LineHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, LineHandler> {
  int depth = 0;
  std::string key;
  std::optional<std::string> path, value, value_b64;
  std::optional<bool> remove;  // "delete"
  std::string error;

  bool Refuse(std::string what) {
    error = std::move(what);
    return false;
  }
  // Any value that is not a string: the root must be an object, a member a string.
  bool Default() {
    return Refuse(depth == 0 ? "expected an object" : "field \"" + key + "\" must be a string");
  }
  bool StartObject() { return depth++ == 0 ? true : Default(); }
  bool EndObject(rapidjson::SizeType) { return true; }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    key.assign(s, n);
    return true;
  }
  bool Bool(bool b) {
    if (depth == 0 || key != "delete") return Default();
    if (remove.has_value()) return Refuse("field \"delete\" given twice");
    remove = b;
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 0) return Default();
    std::optional<std::string>* field = key == "path"        ? &path
                                        : key == "value"     ? &value
                                        : key == "value_b64" ? &value_b64
                                                             : nullptr;
    if (field == nullptr) {
      return Refuse(key == "delete" ? "field \"delete\" must be true or false"
                                    : "unknown field \"" + key + "\"");
    }
    if (field->has_value()) return Refuse("field \"" + key + "\" given twice");
    field->emplace(s, n);
    return true;
  }
};

// RapidJSON 1.1 decodes a \uDC00-\uDFFF escape without a high surrogate before it into
// bytes that are not UTF-8; the format refuses it. Backslashes appear only in strings of
// a line that parsed, each starting an escape. The column of the escape, or 0.
size_t LoneLowSurrogate(std::string_view line) {
  auto hex4 = [&](size_t at) {
    unsigned v = 0;
    for (size_t k = at; k < at + 4 && k < line.size(); ++k) {
      char c = line[k];
      v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  };
  for (size_t i = line.find('\\'); i != std::string_view::npos; i = line.find('\\', i)) {
    if (i + 1 >= line.size() || line[i + 1] != 'u') {
      i += 2;
      continue;
    }
    unsigned cp = hex4(i + 2);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return i + 1;
    i += cp >= 0xD800 && cp <= 0xDBFF ? 12 : 6;  // a high surrogate takes its low half
  }
  return 0;
}

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

Result<EntryWrite> ParseEntryWriteLine(std::string_view line) {
  LineHandler h;
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(line.data(), line.size());
  rapidjson::ParseResult parsed = reader.Parse(in, h);
  if (parsed.IsError()) {
    std::string what = h.error;
    if (what.empty()) {
      what = rapidjson::GetParseError_En(parsed.Code());
      if (!what.empty() && what.back() == '.') what.pop_back();
    }
    return Status::InvalidArgument(what + " at column " + std::to_string(parsed.Offset() + 1));
  }
  if (size_t column = LoneLowSurrogate(line); column != 0) {
    return Status::InvalidArgument("unpaired surrogate at column " + std::to_string(column));
  }
  if (!h.path) return Status::InvalidArgument("missing field \"path\"");
  REFKV_RETURN_IF_ERROR(internal::ValidatePath(*h.path));
  EntryWrite write;
  write.path = std::move(*h.path);
  if (h.remove.value_or(false)) {
    if (h.value || h.value_b64) {
      return Status::InvalidArgument("a deletion (\"delete\": true) takes no value");
    }
    return write;
  }
  if (h.value.has_value() == h.value_b64.has_value()) {
    return Status::InvalidArgument("exactly one of \"value\" and \"value_b64\" is required");
  }
  if (h.value) {
    write.value = std::move(*h.value);
  } else {
    auto decoded = Base64Decode(*h.value_b64);
    if (!decoded.ok()) return decoded.status().WithContext("value_b64");
    write.value = std::move(decoded).value();
  }
  REFKV_RETURN_IF_ERROR(internal::ValidateEntryValue(write.path, *write.value));
  return write;
}

Result<Entry> ParseEntryLine(std::string_view line) {
  REFKV_ASSIGN_OR_RETURN(EntryWrite write, ParseEntryWriteLine(line));
  if (!write.value) return Status::InvalidArgument("a deletion where an entry was expected");
  return Entry{std::move(write.path), std::move(*write.value)};
}

namespace {

// Every non-blank line of `in` through `parse`, refusing at the first bad one.
template <typename T, typename Parse>
Result<std::vector<T>> ParseLines(std::istream& in, std::string_view name, Parse parse) {
  std::vector<T> out;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto parsed = parse(line);
    if (!parsed.ok()) {
      return Status::InvalidArgument(std::string(name) + ":" + std::to_string(number) + ": " +
                                     parsed.status().message());
    }
    out.push_back(std::move(parsed).value());
  }
  if (in.bad()) return Status::IOError("cannot read " + std::string(name));
  return out;
}

}  // namespace

Result<std::vector<Entry>> ParseEntryLines(std::istream& in, std::string_view name) {
  return ParseLines<Entry>(in, name, ParseEntryLine);
}

Result<std::vector<EntryWrite>> ParseEntryWriteLines(std::istream& in, std::string_view name) {
  return ParseLines<EntryWrite>(in, name, ParseEntryWriteLine);
}

}  // namespace refkv::refstore
