// Checks of the paths a command reads or creates, made before the store is opened.
//
//  - CheckInputFile: `import`, `dump verify` and `dump inspect` read a path named on the
//    command line. open(2) of a FIFO without a writer blocks for ever (an import would
//    hold the store all that time) and a device never ends, so only a regular file (and,
//    where allowed, a directory) is accepted, decided with stat(2) - nothing is opened.
//  - StoreCreation: an import into a rocks:// path that does not exist yet creates the
//    store; if the import then fails, Undo() removes what the open created, so that a
//    failed import leaves no empty store behind. (Other drivers: mem:// keeps nothing;
//    a PostgreSQL store is a table that the open creates and that stays.)
//
// Thread-safety: plain functions and a value type.
#ifndef REFKV_CLI_INPUT_PATH_H_
#define REFKV_CLI_INPUT_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace refkv::cli {

enum class InputKind { kMissing, kFile, kDirectory };

// The kind of `path` (following symlinks). InvalidArgument (exit 2) naming the path and
// its kind for a FIFO, a device, a socket - or a directory unless `allow_directory`;
// `expected` says what was wanted ("a dump file or an SST directory"). kMissing is not
// an error here: the caller reports it as it always has.
Result<InputKind> CheckInputFile(const std::string& path, bool allow_directory,
                                 std::string_view expected);

// What an open for writing of a rocks:// store would create, recorded before the open.
class StoreCreation {
 public:
  // Looks at `uri`'s path: records the outermost directory that does not exist yet, or
  // an existing empty directory (RocksDB fills it). Nothing for other drivers or a
  // path that holds something.
  static StoreCreation Before(const std::string& uri);

  // Removes what was recorded: the missing directories, or the contents of the empty
  // one. Call with the store closed, only after the command failed. Best effort: an
  // error removing is ignored (the command's own error is the one reported).
  void Undo() const;

 private:
  std::string remove_tree_;      // created by the open: removed whole
  std::string empty_directory_;  // existed empty: its contents are removed
};

}  // namespace refkv::cli

#endif  // REFKV_CLI_INPUT_PATH_H_
