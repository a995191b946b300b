// CliContext: what every refkv command shares: the global options, the resolved store
// URI, the lazily opened store, the output stream and the byte encodings of --hex.
//
// A command group lives in its own file and adds its subcommands with
//   void AddXxxCommands(CLI::App& app, CliContext& ctx);   (cli/commands.h)
// registering, for each leaf command, a handler with ctx.SetHandler(sub, fn). After
// parsing, RunCli (cli/app.h) runs the handler of the command selected and maps the
// Status it returns to the exit code (cli/exit_code.h). A handler does no logic of its
// own: it parses its arguments, calls the library, formats the output.
//
// Thread-safety: not thread-safe; one per process run, used from the main thread.
#ifndef REFKV_CLI_CONTEXT_H_
#define REFKV_CLI_CONTEXT_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "base/result.h"
#include "cli/config.h"
#include "engine/open.h"
#include "engine/store.h"

namespace CLI {
class App;
}

namespace refkv::cli {

struct GlobalOptions {
  std::string store;   // --store URI
  std::string config;  // --config FILE
  // Whether --store / --config were given at all: an explicit empty value is an error,
  // not "unset" (cli/config.h ResolveInputs).
  bool store_given = false;
  bool config_given = false;
  bool hex = false;   // --hex: byte arguments are hex, byte output is hex
  bool json = false;  // --json: machine-readable output where a command offers it
};

// How a command uses the store.
enum class Access {
  kRead,   // must exist; opened read-only where the driver can (no lock, nothing written)
  kWrite,  // created if missing
  // As kRead, but a store at any schema this code knows opens, even mid-migration or
  // holding an unfinished load (`check`, `store info`: they report those states).
  kInspect,
  // As kWrite (created if missing), for `import`: a store at an older schema opens (the
  // import compares the file's schema with it), and so does one holding an unfinished
  // load (the import that finishes it). Never auto-migrated; a store mid-migration is
  // refused.
  kLoad,
};

class CliContext {
 public:
  using Handler = std::function<Status(CliContext&)>;

  // `out`: where command output goes; `out_is_terminal`: whether it is a terminal.
  CliContext(std::ostream& out, bool out_is_terminal, EnvLookup env);
  ~CliContext();
  CliContext(const CliContext&) = delete;
  CliContext& operator=(const CliContext&) = delete;

  GlobalOptions& options() { return options_; }
  const EnvLookup& env() const { return env_; }
  std::ostream& out() { return out_; }
  bool out_is_terminal() const { return out_is_terminal_; }

  // Makes `handler` what runs when `command` is the command selected.
  void SetHandler(const CLI::App* command, Handler handler);
  // The handler for `command`, or nullptr.
  const Handler* HandlerFor(const CLI::App* command) const;

  // The store URI and where it came from (cli/config.h), resolved once.
  Result<StoreSource> Source();

  // The store, opened on first use with `access` and kept open until the context ends.
  // A store first opened for kRead is reopened for kWrite if a later call needs it.
  // Failures are setup failures (exit code 1), and the message names the URI and its
  // origin. The store is owned by the context.
  Result<kv::Store*> Store(Access access);
  // Opens a store for `uri` like Store(), for commands that choose their own (quickstart).
  Result<kv::Store*> OpenStore(const StoreSource& source, Access access);
  // True once resolving or opening the store failed: the error is a setup error.
  bool setup_failed() const { return setup_failed_; }
  // A command whose failure has an exit code no Status maps to (merge conflicts, 13:
  // cli/exit_code.h) sets it before returning its error; RunCli exits with it.
  void set_failure_exit_code(int code) { failure_exit_code_ = code; }
  std::optional<int> failure_exit_code() const { return failure_exit_code_; }

  // Bytes of a command-line argument: hex-decoded under --hex (InvalidArgument naming
  // `what` if it is not hex), else the argument as given.
  Result<std::string> ArgBytes(std::string_view what, const std::string& arg) const;
  // Bytes for text output: hex under --hex, else EscapeText (cli/bytes_format.h).
  std::string TextBytes(std::string_view bytes) const;
  // One JSON member for bytes, without braces: JsonBytesMember(name, bytes, --hex).
  std::string JsonBytes(std::string_view name, std::string_view bytes) const;

  // Closes the store if open; the status of Close.
  Status CloseStore();

 private:
  std::ostream& out_;
  bool out_is_terminal_;
  EnvLookup env_;
  GlobalOptions options_;
  std::map<const CLI::App*, Handler> handlers_;
  std::optional<StoreSource> source_;
  std::unique_ptr<kv::Store> store_;
  Access store_access_ = Access::kRead;
  bool setup_failed_ = false;
  std::optional<int> failure_exit_code_;
};

}  // namespace refkv::cli

#endif  // REFKV_CLI_CONTEXT_H_
