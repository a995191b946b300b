#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_code.h"
#include "engine/open.h"

namespace refkv::cli {
namespace {

constexpr std::string_view kStoreHelp =
    "Store: --store URI, else $REFKV_STORE, else the 'database:' section of refkv.yaml\n"
    "       (or --config FILE; each field overridable by REFKV_DATABASE_* variables),\n"
    "       else rocks://./refkv-data. URIs: rocks://PATH[?partitions=shared&sync=true],\n"
    "       mem://, postgres://user@host/db,\n"
    "       dynamodb://TABLE?endpoint=URL&region=R (AWS_ACCESS_KEY_ID ...).\n"
    "Bytes: arguments are taken as given; with --hex they are hex and output is hex.\n"
    "       Text output escapes non-printable bytes (\\xNN); JSON gives F, or F_hex when\n"
    "       the bytes are not UTF-8.\n";

// One line: the error message with any line breaks folded.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// The leaf command selected on the command line.
const CLI::App* SelectedCommand(const CLI::App& app) {
  const CLI::App* current = &app;
  while (true) {
    auto subs = current->get_subcommands();
    if (subs.empty()) return current;
    current = subs.front();
  }
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           bool out_is_terminal, const EnvLookup& env) {
  // The context outlives the app: handlers own the storage the app's options point to.
  CliContext ctx(out, out_is_terminal, env);
  CLI::App app("refkv: an embedded, versioned metadata store.", "refkv");
  app.set_version_flag("--version", "refkv " + std::string(kv::CodeVersion()));
  CLI::Option* store_option = app.add_option("--store", ctx.options().store,
                                             "the store URI (overrides REFKV_STORE, config)")
                                  ->type_name("URI");
  CLI::Option* config_option = app.add_option("--config", ctx.options().config,
                                              "config file (default: ./refkv.yaml if present)")
                                   ->type_name("FILE");
  app.add_flag("--hex", ctx.options().hex, "byte arguments and byte output in hex");
  app.add_flag("--json", ctx.options().json, "JSON output (store info, kv get, kv scan ...)");
  // Global options may follow the command: `refkv kv scan p --json`. Subcommands inherit
  // this setting when they are created, so it is set first.
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(std::string(kStoreHelp) + std::string(kExitCodeHelp));

  AddStoreCommands(app, ctx);
  AddKvCommands(app, ctx);
  AddRefStoreCommands(app, ctx);
  AddHistoryCommands(app, ctx);
  AddMergeCommands(app, ctx);
  AddFormatCommands(app, ctx);
  AddMigrateCommands(app, ctx);
  AddQuickstartCommand(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e, out, err);  // --help, --version
    }
    // Name the command the error is about, and the help that explains it.
    const CLI::App* where = SelectedCommand(app);
    std::string path;
    for (const CLI::App* a = where; a != nullptr && a != &app; a = a->get_parent()) {
      path = a->get_name() + (path.empty() ? "" : " " + path);
    }
    std::string what = OneLine(e.what());
    std::vector<std::string> extra = app.remaining(true);
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !extra.empty() &&
        where->get_require_subcommand_min() > 0) {
      what = "unknown command '" + extra.front() + "'";
    }
    err << "refkv: " << (path.empty() ? "" : path + ": ") << what << " (see 'refkv "
        << (path.empty() ? "" : path + " ") << "--help')" << std::endl;
    return kExitUsage;
  }

  ctx.options().store_given = store_option->count() > 0;
  ctx.options().config_given = config_option->count() > 0;
  const CLI::App* command = SelectedCommand(app);
  const CliContext::Handler* handler = ctx.HandlerFor(command);
  if (handler == nullptr) {
    err << "refkv: '" << command->get_name() << "' needs a subcommand (see 'refkv "
        << command->get_name() << " --help')" << std::endl;
    return kExitUsage;
  }
  Status status = (*handler)(ctx);
  Status closed = ctx.CloseStore();
  if (status.ok()) status = closed;
  out.flush();
  if (status.ok() && !out.good()) {
    status = Status::IOError("cannot write the output (stdout closed or full)");
  }
  if (!status.ok()) {
    err << "refkv: " << OneLine(status.message()) << std::endl;
    if (ctx.failure_exit_code()) return *ctx.failure_exit_code();
    return ExitCodeFor(status, ctx.setup_failed() ? Phase::kSetup : Phase::kCommand);
  }
  return kExitOk;
}

}  // namespace refkv::cli
