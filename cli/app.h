// RunCli: the whole refkv command line, callable in-process (cli/main.cc is one line).
//
// Parses `argv`, runs the selected command, writes its output to `out` and at most one
// error line ("refkv: <what and where>") to `err`, and returns the exit code
// (cli/exit_code.h). --help and --version write to `out` and return 0; a usage error
// returns 2.
//
// Thread-safety: not reentrant with itself on the same streams; each call is independent.
#ifndef REFKV_CLI_APP_H_
#define REFKV_CLI_APP_H_

#include <ostream>

#include "cli/config.h"

namespace refkv::cli {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           bool out_is_terminal, const EnvLookup& env);

}  // namespace refkv::cli

#endif  // REFKV_CLI_APP_H_
