// refkv resolve / merge-base / is-ancestor / compare: naming commits and asking about their
// ancestry (refstore/refstore.h, "Refs" and "Ref expressions and ancestry").
//
// Exit codes (cli/exit_code.h): resolve and merge-base 0 with the commit id on stdout;
// is-ancestor 0 when A is B or an ancestor of B, 4 (predicate failed) when it is not;
// merge-base 3 when the two have no common ancestor; 3 for a ref that does not exist,
// 2 for a malformed ref expression or an ambiguous commit-id prefix.
//
// Names here differ from refstore_commands.cc's: the command files are one unity
// translation unit (cli/CMakeLists.txt).
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json.h"
#include "cli/leaf.h"
#include "cli/number_option.h"
#include "refstore/open_for_store.h"

namespace refkv::cli {
namespace {

struct HistoryArgs {
  std::string repo, a, b;
  size_t limit = 0;
};

Result<refstore::OpenedRefStore> OpenRefsToRead(CliContext& ctx) {
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kRead));
  refstore::OpenForStoreOptions open_options;
  open_options.refstore.node_role = "refkv cli";
  open_options.refstore.heartbeat = refstore::Options::Heartbeat::kOff;  // reads only
  return refstore::OpenForStore(*store, open_options);
}

void PrintCommitId(CliContext& ctx, std::string_view key, const std::string& id) {
  if (ctx.options().json) {
    ctx.out() << JsonWriter().StartObject().Field(key, id).EndObject().Take() << "\n";
  } else {
    ctx.out() << id << "\n";
  }
}

Status ResolveCmd(CliContext& ctx, const HistoryArgs& x) {
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefsToRead(ctx));
  REFKV_ASSIGN_OR_RETURN(auto c, r.refs->Resolve(x.repo, x.a));
  PrintCommitId(ctx, "id", c.id);
  return Status::OK();
}

Status MergeBaseCmd(CliContext& ctx, const HistoryArgs& x) {
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefsToRead(ctx));
  REFKV_ASSIGN_OR_RETURN(auto base, r.refs->MergeBase(x.repo, x.a, x.b));
  if (!base.has_value()) {
    return Status::NotFound("merge-base: '" + x.a + "' and '" + x.b +
                            "' have no common ancestor in repository '" + x.repo + "'");
  }
  PrintCommitId(ctx, "merge_base", base->id);
  return Status::OK();
}

Status IsAncestorCmd(CliContext& ctx, const HistoryArgs& x) {
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefsToRead(ctx));
  REFKV_ASSIGN_OR_RETURN(bool yes, r.refs->IsAncestor(x.repo, x.a, x.b));
  if (ctx.options().json) {
    ctx.out() << JsonWriter().StartObject().Field("is_ancestor", yes).EndObject().Take() << "\n";
  }
  if (!yes) {
    return Status::PredicateFailed("is-ancestor: '" + x.a + "' is not an ancestor of '" + x.b +
                                   "' in repository '" + x.repo + "'");
  }
  return Status::OK();
}

Status CompareCmd(CliContext& ctx, const HistoryArgs& x) {
  REFKV_ASSIGN_OR_RETURN(auto r, OpenRefsToRead(ctx));
  REFKV_ASSIGN_OR_RETURN(auto changes, r.refs->Compare(x.repo, x.a, x.b, x.limit));
  for (const auto& d : changes) {
    switch (d.kind) {
      case refstore::EntryDiff::Kind::kAdded:
        ctx.out() << "+ " << ctx.TextBytes(d.path) << "\t" << ctx.TextBytes(*d.right) << "\n";
        break;
      case refstore::EntryDiff::Kind::kRemoved:
        ctx.out() << "- " << ctx.TextBytes(d.path) << "\n";
        break;
      case refstore::EntryDiff::Kind::kChanged:
        ctx.out() << "~ " << ctx.TextBytes(d.path) << "\t" << ctx.TextBytes(*d.right) << "\n";
        break;
    }
  }
  return Status::OK();
}

}  // namespace

void AddHistoryCommands(CLI::App& app, CliContext& ctx) {
  std::shared_ptr<HistoryArgs> a;
  CLI::App* sub;
  const std::string refs_help =
      "REF: branch > tag > full commit id > unique id prefix (>= 6 hex digits), then\n"
      "steps: ~N (N-th first-parent ancestor), ^N (N-th parent), e.g. main~2^2.";

  sub = AddLeaf(ctx, app, "resolve", "print the id of the commit REF names", a, ResolveCmd);
  sub->footer(refs_help + "\nExit 3 if it names nothing; 2 if malformed or an ambiguous prefix.");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("REF", a->a)->required();

  sub =
      AddLeaf(ctx, app, "merge-base", "print the best common ancestor of A and B", a, MergeBaseCmd);
  sub->footer(refs_help + "\nExit 3 if A and B have no common ancestor (or a ref names nothing).");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("A", a->a, "a ref")->required();
  sub->add_option("B", a->b, "a ref")->required();

  sub = AddLeaf(ctx, app, "compare",
                "what HEAD changed since its merge base with BASE (the preview of a merge)", a,
                CompareCmd);
  sub->footer(refs_help +
              "\nLines as diff's: '+ PATH<TAB>VALUE', '- PATH', '~ PATH<TAB>VALUE'. Exit 3 if\n"
              "BASE and HEAD have no common ancestor.");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BASE", a->a, "a ref")->required();
  sub->add_option("HEAD", a->b, "a ref")->required();
  AddNumberOption(*sub, "--limit", a->limit, "at most N changes (0: all)", size_t{0}, kMaxLimit)
      ->type_name("N");

  sub = AddLeaf(ctx, app, "is-ancestor", "exit 0 if A is B or an ancestor of B, 4 if not", a,
                IsAncestorCmd);
  sub->footer(refs_help +
              "\nExit 0: yes; 4: no (nothing on stdout; --json: {\"is_ancestor\":b});\n"
              "3: a ref names nothing.");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("A", a->a, "a ref")->required();
  sub->add_option("B", a->b, "a ref")->required();
}

}  // namespace refkv::cli
