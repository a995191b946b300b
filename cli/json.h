// The refkv CLI's JSON output, written with RapidJSON (see README, "Dependencies").
//
// A JsonWriter builds one compact JSON value (no spaces); keys come out in the order they
// are written. Escaping is the documented form (README, "Bytes"): ", \, \n, \t, \r as
// themselves escaped, every other control character and DEL as \u00xx (lower case), all
// other bytes as given. Byte strings follow cli/bytes_format.h: Bytes("F", b) writes
// "F":"<b>" when b is valid UTF-8 (and not --hex), else "F_hex":"<hex>"; Field(key, text)
// is for names and ids the store keeps as text, written C-escaped (EscapeText) in the rare
// case they are not UTF-8.
//
// Thread-safety: a JsonWriter is used by one thread.
#ifndef REFKV_CLI_JSON_H_
#define REFKV_CLI_JSON_H_

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace refkv::cli {

class JsonWriter {
 public:
  // force_hex: every byte string as F_hex (--hex).
  explicit JsonWriter(bool force_hex = false) : writer_(buffer_), force_hex_(force_hex) {}

  JsonWriter& StartObject();
  JsonWriter& EndObject();
  JsonWriter& StartArray();
  JsonWriter& EndArray();
  // A key and a text value: as is when valid UTF-8, else EscapeText.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view text);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  template <typename T>
  requires std::is_integral_v<T> JsonWriter& Number(T n) {
    if constexpr (std::is_signed_v<T>) {
      writer_.Int64(static_cast<int64_t>(n));
    } else {
      writer_.Uint64(static_cast<uint64_t>(n));
    }
    return *this;
  }
  // A value another JsonWriter wrote (Take()).
  JsonWriter& Raw(std::string_view json);

  // Members: Key then the value.
  JsonWriter& Field(std::string_view key, std::string_view text) { return Key(key).String(text); }
  JsonWriter& Field(std::string_view key, const char* text) { return Key(key).String(text); }
  JsonWriter& Field(std::string_view key, const std::string& text) { return Key(key).String(text); }
  JsonWriter& Field(std::string_view key, bool b) { return Key(key).Bool(b); }
  template <typename T>
  requires std::is_integral_v<T> JsonWriter& Field(std::string_view key, T n) {
    return Key(key).Number(n);
  }
  // "name":"<bytes>" or "name_hex":"<hex>", as described above.
  JsonWriter& Bytes(std::string_view name, std::string_view bytes);

  // The JSON written so far, in the escaping described above. Call once.
  std::string Take();

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  bool force_hex_;
};

// One byte-string member without braces, `"name":"<bytes>"` or `"name_hex":"<hex>"`, for
// output streamed piece by piece (`{"entries":[...],` + this + `}`).
std::string JsonBytesMember(std::string_view name, std::string_view bytes, bool force_hex);

}  // namespace refkv::cli

#endif  // REFKV_CLI_JSON_H_
