// How the refkv CLI reads bytes from arguments and writes them to text and JSON output.
//
// Text output (kv scan, store info) is ASCII: printable ASCII stands for itself, and
// everything else is escaped C-style (\\, \t, \n, \r, \xNN), so a line is one entry and
// the escaping is reversible. `kv get` writes the raw value bytes instead.
//
// JSON output is valid UTF-8 JSON. A byte-string field F is written as
//   "F": "<string>"    when the bytes are valid UTF-8 (control characters as \u00XX), or
//   "F_hex": "<hex>"   when they are not, or always under --hex.
// So a reader takes F if present, else decodes F_hex. cli/json.h writes it.
//
// Thread-safety: pure functions.
#ifndef REFKV_CLI_BYTES_FORMAT_H_
#define REFKV_CLI_BYTES_FORMAT_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace refkv::cli {

// Lower-case hex, two digits per byte.
std::string HexEncode(std::string_view bytes);
// Decodes hex (either case). InvalidArgument naming `what` for an odd length or a
// non-hex digit (with its offset).
Result<std::string> HexDecode(std::string_view hex, std::string_view what);

// The text-output escaping described above.
std::string EscapeText(std::string_view bytes);

bool IsValidUtf8(std::string_view bytes);

}  // namespace refkv::cli

#endif  // REFKV_CLI_BYTES_FORMAT_H_
