// AddLeaf: registers a leaf command whose handler reads its own argument struct.
//
// Thread-safety: called from the main thread while the application is built.
#ifndef REFKV_CLI_LEAF_H_
#define REFKV_CLI_LEAF_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <type_traits>

#include "base/status.h"
#include "cli/context.h"

namespace refkv::cli {

// Adds `name` under `parent`, points `args` at fresh storage for the command's options
// (bind them to *args on the returned subcommand) and makes fn(ctx, *args) its handler.
// `fn` is not deduced, so captureless lambdas convert to it.
template <typename Args>
CLI::App* AddLeaf(CliContext& ctx, CLI::App& parent, const std::string& name,
                  const std::string& help, std::shared_ptr<Args>& args,
                  std::type_identity_t<Status (*)(CliContext&, const Args&)> fn) {
  args = std::make_shared<Args>();
  CLI::App* sub = parent.add_subcommand(name, help);
  ctx.SetHandler(sub, [args, fn](CliContext& c) { return fn(c, *args); });
  return sub;
}

}  // namespace refkv::cli

#endif  // REFKV_CLI_LEAF_H_
