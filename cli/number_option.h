// AddNumberOption: a numeric command-line option with a checked range.
//
// CLI11 2.1's own conversion is not strict enough for a tool that writes stores: "-1"
// into an unsigned becomes 18446744073709551615, an integer too large for the type
// saturates, "0x10" is 16, and a double takes "nan" and "inf". CLI::Range checks the
// value after that conversion, so it cannot see any of this. The check here runs on the
// text before CLI11 converts it: decimal digits only (a leading '-' only for a signed
// type), no overflow, within [min, max], finite for a double. Anything else is a usage
// error (exit 2) naming the option, the accepted range and the text given.
//
// Thread-safety: called from the main thread while the application is built.
#ifndef REFKV_CLI_NUMBER_OPTION_H_
#define REFKV_CLI_NUMBER_OPTION_H_

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <type_traits>

namespace refkv::cli {

// The bound of every --limit (0: no limit): the largest count the library's signed
// arithmetic takes without overflow.
inline constexpr size_t kMaxLimit = static_cast<size_t>(std::numeric_limits<int64_t>::max());
// The bound of a duration in seconds (--grace): ten years.
inline constexpr double kMaxSeconds = 10.0 * 365 * 24 * 3600;

namespace number_option_internal {

// "" if `text` is a number of type T in [min, max], else why not.
template <typename T>
std::string Check(const std::string& text, T min, T max) {
  std::ostringstream range;
  range.precision(17);
  range << min << " to " << max;
  const std::string want = std::string(std::is_integral_v<T> ? "an integer" : "a number") +
                           " from " + range.str() + ", got '" + text + "'";
  T value{};
  const char* begin = text.data();
  const char* end = begin + text.size();
  // from_chars takes no '+', no spaces and (for integers) no "0x"; for an unsigned type
  // no '-': what it accepts is what a reader of the command line expects.
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ptr != end) return "must be " + want;
  if (ec != std::errc()) return "must be " + want;  // also an overflow of T
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) return "must be " + want;
  }
  if (value < min || value > max) return "must be " + want;
  return "";
}

}  // namespace number_option_internal

// Adds option `name` bound to `value` whose text must be a number in [min, max] (see the
// file comment). Returns the option, for type_name() and the like.
template <typename T>
requires std::integral<T> || std::floating_point<T> CLI::Option* AddNumberOption(
    CLI::App& app, const std::string& name, T& value, const std::string& help, T min, T max) {
  CLI::Option* option = app.add_option(name, value, help);
  option->check(CLI::Validator(
      [min, max](std::string& text) { return number_option_internal::Check<T>(text, min, max); },
      "", "range"));
  return option;
}

}  // namespace refkv::cli

#endif  // REFKV_CLI_NUMBER_OPTION_H_
