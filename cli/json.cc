#include "cli/json.h"

#include <cctype>

#include "cli/bytes_format.h"

namespace refkv::cli {
namespace {

// RapidJSON writes \b and \f, upper-case \u00XX, and DEL as is; refkv's documented form
// is \u00xx (lower case) for all of them. Every backslash in the writer's output starts
// an escape, and DEL (0x7F) is never part of a longer UTF-8 sequence.
std::string ToRefkvEscapes(std::string_view json) {
  if (json.find_first_of("\\\x7f") == std::string_view::npos) return std::string(json);
  std::string out;
  out.reserve(json.size() + 16);
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '\x7f') {
      out += "\\u007f";
    } else if (c != '\\') {
      out.push_back(c);
    } else if (char e = json[++i]; e == 'b') {
      out += "\\u0008";
    } else if (e == 'f') {
      out += "\\u000c";
    } else if (e == 'u') {
      out += "\\u";
      for (size_t k = 1; k <= 4; ++k) {
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(json[i + k]))));
      }
      i += 4;
    } else {
      out.push_back('\\');
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace

JsonWriter& JsonWriter::StartObject() {
  writer_.StartObject();
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  writer_.EndObject();
  return *this;
}

JsonWriter& JsonWriter::StartArray() {
  writer_.StartArray();
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  writer_.EndArray();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  if (IsValidUtf8(key)) {
    writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  } else {
    std::string escaped = EscapeText(key);
    writer_.Key(escaped.data(), static_cast<rapidjson::SizeType>(escaped.size()));
  }
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view text) {
  if (IsValidUtf8(text)) {
    writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  } else {
    std::string escaped = EscapeText(text);
    writer_.String(escaped.data(), static_cast<rapidjson::SizeType>(escaped.size()));
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(bool b) {
  writer_.Bool(b);
  return *this;
}

JsonWriter& JsonWriter::Null() {
  writer_.Null();
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}

JsonWriter& JsonWriter::Bytes(std::string_view name, std::string_view bytes) {
  if (!force_hex_ && IsValidUtf8(bytes)) {
    writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer_.String(bytes.data(), static_cast<rapidjson::SizeType>(bytes.size()));
  } else {
    std::string key = std::string(name) + "_hex";
    writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    std::string hex = HexEncode(bytes);
    writer_.String(hex.data(), static_cast<rapidjson::SizeType>(hex.size()));
  }
  return *this;
}

std::string JsonWriter::Take() {
  return ToRefkvEscapes(std::string_view(buffer_.GetString(), buffer_.GetSize()));
}

std::string JsonBytesMember(std::string_view name, std::string_view bytes, bool force_hex) {
  std::string object = JsonWriter(force_hex).StartObject().Bytes(name, bytes).EndObject().Take();
  return object.substr(1, object.size() - 2);
}

}  // namespace refkv::cli
