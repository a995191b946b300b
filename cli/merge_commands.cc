// refkv merge / revert / cherry-pick / branch reset --to / entry reset: RefStore::Merge,
// Revert, CherryPick, ResetBranchTo and ResetEntries (refstore/refstore.h).
//
// Conflicts print one `! PATH` line each (the first page, up to --limit) on stdout, with
// --json an object listing base/source/dest values and `next_after` (pass it as --after
// for the next page), and exit kExitMergeConflicts (13); nothing is written.
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_code.h"
#include "cli/json.h"
#include "cli/leaf.h"
#include "cli/number_option.h"

namespace refkv::cli {
namespace {

struct MergeArgs {
  std::string repo, branch, ref, strategy = "fail", ff = "auto", expect_head, message, committer;
  std::string to, path, prefix, after;
  std::vector<std::string> meta;
  int parent = 0;
  size_t limit = 1000;
  bool squash = false, discard_staged = false, keep_staged = false, allow_empty = false;
  CLI::Option* expect_option = nullptr;
  CLI::Option* to_option = nullptr;
  CLI::Option* prefix_option = nullptr;
};

Result<refstore::MergeOptions::Strategy> ParseStrategy(const std::string& s) {
  using S = refstore::MergeOptions::Strategy;
  if (s == "fail") return S::kFail;
  if (s == "source-wins") return S::kSourceWins;
  if (s == "dest-wins") return S::kDestWins;
  return Status::InvalidArgument("--strategy '" + s + "': expected fail, source-wins or dest-wins");
}

Status ParseMeta(const std::vector<std::string>& meta, std::map<std::string, std::string>* out) {
  for (const std::string& kv : meta) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--meta '" + kv + "': expected KEY=VALUE");
    }
    (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return Status::OK();
}

void OptionalBytes(JsonWriter& j, std::string_view name, const std::optional<std::string>& v) {
  if (v) {
    j.Bytes(name, *v);
  } else {
    j.Key(name).Null();
  }
}

// Prints the outcome; conflicts are a failure with their own exit code.
Status Report(CliContext& ctx, const std::string& verb, const refstore::MergeResult& r) {
  using O = refstore::MergeResult::Outcome;
  const char* outcome = r.outcome == O::kMerged            ? "merged"
                        : r.outcome == O::kFastForwarded   ? "fast_forwarded"
                        : r.outcome == O::kAlreadyUpToDate ? "already_up_to_date"
                        : r.outcome == O::kNoChanges       ? "no_changes"
                                                           : "conflicts";
  if (ctx.options().json) {
    JsonWriter j(ctx.options().hex);
    j.StartObject().Field("outcome", outcome).Field("commit", r.commit.id).Field("base", r.base);
    j.Field("attempts", r.attempts);
    if (r.outcome == O::kConflicts) {
      j.Key("conflicts").StartArray();
      for (const auto& c : r.conflicts) {
        j.StartObject().Bytes("path", c.path);
        OptionalBytes(j, "base", c.base);
        OptionalBytes(j, "source", c.source);
        OptionalBytes(j, "dest", c.dest);
        j.EndObject();
      }
      j.EndArray().Bytes("next_after", r.conflicts_next_after);
    }
    ctx.out() << j.EndObject().Take() << "\n";
  } else if (r.outcome == O::kConflicts) {
    for (const auto& c : r.conflicts) ctx.out() << "! " << ctx.TextBytes(c.path) << "\n";
    if (!r.conflicts_next_after.empty()) {
      ctx.out() << "# more conflicts: --after " << ctx.TextBytes(r.conflicts_next_after) << "\n";
    }
  } else {
    ctx.out() << outcome << " " << r.commit.id << "\n";
  }
  if (r.outcome == O::kConflicts) {
    ctx.set_failure_exit_code(kExitMergeConflicts);
    return Status::Conflict(verb + ": conflicting paths (listed on stdout); nothing written");
  }
  return Status::OK();
}

// The fields refstore::MergeOptions and refstore::PickOptions share, from the flags merge,
// revert and cherry-pick share (AddPickOptions).
template <typename Options>
Status SetSharedOptions(CliContext& ctx, const MergeArgs& a, Options* o) {
  REFKV_ASSIGN_OR_RETURN(o->strategy, ParseStrategy(a.strategy));
  REFKV_RETURN_IF_ERROR(ParseMeta(a.meta, &o->metadata));
  o->message = a.message;
  o->committer = a.committer.empty() ? ctx.env()("USER").value_or("refkv") : a.committer;
  o->allow_empty = a.allow_empty;
  o->keep_staged = a.keep_staged;
  o->conflicts_after = a.after;
  o->conflicts_limit = a.limit;
  return Status::OK();
}

Status Merge(CliContext& ctx, const MergeArgs& a) {
  refstore::MergeOptions o;
  REFKV_RETURN_IF_ERROR(SetSharedOptions(ctx, a, &o));
  using F = refstore::MergeOptions::FastForward;
  if (a.ff == "auto") {
    o.fast_forward = F::kAuto;
  } else if (a.ff == "never") {
    o.fast_forward = F::kNever;
  } else if (a.ff == "only") {
    o.fast_forward = F::kOnly;
  } else {
    return Status::InvalidArgument("--ff '" + a.ff + "': expected auto, never or only");
  }
  o.squash = a.squash;
  if (a.expect_option->count() > 0) o.expected_dest_head = a.expect_head;
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefStoreForCommand(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto result, r.refs->Merge(a.repo, a.branch, a.ref, o));
  return Report(ctx, "merge", result);
}

Status Pick(CliContext& ctx, const MergeArgs& a, bool revert) {
  refstore::PickOptions o;
  REFKV_RETURN_IF_ERROR(SetSharedOptions(ctx, a, &o));
  o.parent_number = a.parent;
  if (a.expect_option->count() > 0) o.expected_head = a.expect_head;
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefStoreForCommand(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto result, revert ? r.refs->Revert(a.repo, a.branch, a.ref, o)
                                             : r.refs->CherryPick(a.repo, a.branch, a.ref, o));
  return Report(ctx, revert ? "revert" : "cherry-pick", result);
}

// The options merge, revert and cherry-pick share.
void AddPickOptions(CLI::App& sub, MergeArgs& a) {
  sub.add_option("--strategy", a.strategy, "conflicts: fail (default), source-wins, dest-wins")
      ->type_name("S");
  a.expect_option =
      sub.add_option("--expect-head", a.expect_head, "only if the branch head is commit ID")
          ->type_name("ID");
  sub.add_option("-m,--message", a.message, "commit message");
  sub.add_option("--meta", a.meta, "metadata KEY=VALUE (repeatable)")->type_name("K=V");
  sub.add_option("--committer", a.committer, "committer (default: $USER)");
  sub.add_flag("--allow-empty", a.allow_empty, "commit even when nothing changes");
  sub.add_flag("--keep-staged", a.keep_staged,
               "keep the branch's staged writes staged on top (default: refuse, exit 4)");
  sub.add_option("--after", a.after, "list conflicts after path K (a previous next_after)")
      ->type_name("K");
  AddNumberOption(sub, "--limit", a.limit, "list at most N conflicts", size_t{1}, size_t{1} << 20)
      ->type_name("N");
}

}  // namespace

void AddMergeCommands(CLI::App& app, CliContext& ctx) {
  std::shared_ptr<MergeArgs> a;
  CLI::App* sub;
  const char* footer =
      "Outcomes print 'merged ID', 'fast_forwarded ID', 'already_up_to_date ID' or\n"
      "'no_changes ID' (exit 0). Conflicts: one '! PATH' line each, nothing written, exit 13.\n"
      "Exit 4: --expect-head is not the head, or the branch has staged writes (without\n"
      "--keep-staged), or --ff only cannot fast-forward; exit 5: lost every retry.";

  sub = AddLeaf(ctx, app, "merge", "merge the commit SOURCE_REF resolves to into DEST_BRANCH", a,
                Merge);
  sub->footer(footer);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("SOURCE_REF", a->ref)->required();
  sub->add_option("DEST_BRANCH", a->branch)->required();
  sub->add_flag("--squash", a->squash, "one parent (the head) instead of [head, source]");
  sub->add_option("--ff", a->ff, "fast-forward: auto (default), never, only")->type_name("M");
  AddPickOptions(*sub, *a);

  for (bool revert : {true, false}) {
    sub = AddLeaf(
        ctx, app, revert ? "revert" : "cherry-pick",
        revert ? "commit on BRANCH the inverse of the change REF made"
               : "commit on BRANCH the change REF made",
        a,
        revert ? +[](CliContext& c, const MergeArgs& x) { return Pick(c, x, true); }
               : +[](CliContext& c, const MergeArgs& x) { return Pick(c, x, false); });
    sub->footer(footer);
    sub->add_option("REPO", a->repo)->required();
    sub->add_option("BRANCH", a->branch)->required();
    sub->add_option("REF", a->ref)->required();
    AddNumberOption(*sub, "--parent", a->parent, "parent number N (1-based) for a merge commit", 0,
                    1 << 20)
        ->type_name("N");
    AddPickOptions(*sub, *a);
  }

  // `branch reset REPO NAME` discards staged writes; with --to it moves the branch.
  CLI::App* branch_reset = app.get_subcommand("branch")->get_subcommand("reset");
  a = std::make_shared<MergeArgs>();
  const CliContext::Handler* discard = ctx.HandlerFor(branch_reset);
  a->to_option =
      branch_reset->add_option("--to", a->to, "move the branch to the commit REF resolves to")
          ->type_name("REF");
  a->expect_option =
      branch_reset->add_option("--expect-head", a->expect_head, "only if the head is commit ID")
          ->type_name("ID")
          ->needs(a->to_option);
  branch_reset
      ->add_flag("--discard-staged", a->discard_staged,
                 "with --to: discard staged writes (default: refuse, exit 4)")
      ->needs(a->to_option);
  branch_reset->footer(
      "Without --to: discards every staged write. With --to REF: a hard reset by\n"
      "compare-and-set; exit 4 if --expect-head differs or writes are staged.");
  ctx.SetHandler(branch_reset, [a, branch_reset, discard = *discard](CliContext& c) -> Status {
    if (a->to_option->count() == 0) return discard(c);
    // REPO and NAME are bound to the original command's storage: read them from the parse.
    const std::string repo = branch_reset->get_option("REPO")->as<std::string>();
    const std::string name = branch_reset->get_option("NAME")->as<std::string>();
    std::optional<std::string> expect;
    if (a->expect_option->count() > 0) expect = a->expect_head;
    REFKV_ASSIGN_OR_RETURN(auto r, OpenRefStoreForCommand(c, Access::kWrite));
    REFKV_ASSIGN_OR_RETURN(auto moved,
                           r.refs->ResetBranchTo(repo, name, a->to, expect, a->discard_staged));
    if (c.options().json) {
      c.out() << JsonWriter()
                     .StartObject()
                     .Field("branch", moved.name)
                     .Field("commit", moved.commit_id)
                     .EndObject()
                     .Take()
              << "\n";
    } else {
      c.out() << "reset " << moved.name << " to " << moved.commit_id << "\n";
    }
    return Status::OK();
  });

  sub = AddLeaf(ctx, *app.get_subcommand("entry"), "reset",
                "drop the staged writes of PATH (or of every path under --prefix P) on BRANCH", a,
                [](CliContext& c, const MergeArgs& x) -> Status {
                  const bool prefix = x.prefix_option->count() > 0;
                  if (prefix == !x.path.empty()) {
                    return Status::InvalidArgument("entry reset: give PATH or --prefix P");
                  }
                  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefStoreForCommand(c, Access::kWrite));
                  return r.refs->ResetEntries(x.repo, x.branch, prefix ? x.prefix : x.path, prefix);
                });
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BRANCH", a->branch)->required();
  sub->add_option("PATH", a->path);
  a->prefix_option =
      sub->add_option("--prefix", a->prefix, "every path starting with P")->type_name("P");
}

}  // namespace refkv::cli
