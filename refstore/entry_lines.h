// Entry files: JSON lines of entries to stage, one object per line,
//   {"path": "a/b", "value": "text"}   or   {"path": "a/b", "value_b64": "AAEC"}
// (exactly one of value / value_b64; other fields are an error; blank lines are
// skipped), or a deletion {"path": "a/b", "delete": true} (no value). Used by
// `refkv entry load` and by embedders loading the same files.
//
// Thread-safety: pure functions.
#ifndef REFKV_REFSTORE_ENTRY_LINES_H_
#define REFKV_REFSTORE_ENTRY_LINES_H_

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "refstore/refstore.h"

namespace refkv::refstore {

// Parses every line of `in` (named `name` in messages) before returning, so a caller
// stages nothing from a file with a bad line. InvalidArgument "NAME:LINE: what" for the
// first malformed line (bad JSON, a missing or unknown field, bad base64, an empty path,
// a path or value beyond the limits of refstore.h); IOError if reading fails.
// Cost: O(file size) memory.
Result<std::vector<Entry>> ParseEntryLines(std::istream& in, std::string_view name);

// One line, as above; InvalidArgument naming what is wrong (without file and line).
// A deletion line is InvalidArgument here (entries only).
Result<Entry> ParseEntryLine(std::string_view line);

// As ParseEntryLines / ParseEntryLine, deletions included (EntryWrite::value nullopt).
Result<std::vector<EntryWrite>> ParseEntryWriteLines(std::istream& in, std::string_view name);
Result<EntryWrite> ParseEntryWriteLine(std::string_view line);

// Standard base64 (RFC 4648, with padding); InvalidArgument on bad input.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_ENTRY_LINES_H_
