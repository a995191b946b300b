// refkv repo/branch/entry/commit/log/show/tag/diff/gc: the ref store (refstore/refstore.h)
// on the command line. The ref store is opened on the CLI's store with the default range
// store (refstore/open_for_store.h: inside the KV store, so export/import/kv migrate carry
// committed data).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/bytes_format.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json.h"
#include "cli/leaf.h"
#include "cli/number_option.h"
#include "refstore/check.h"
#include "refstore/entry_lines.h"
#include "refstore/open_for_store.h"

namespace refkv::cli {
namespace {

using refstore::CommitInfo;
using refstore::EntryDiff;

// Storage for one command's arguments; owned by its handler.
struct RefArgs {
  std::string repo, name, ref, path, value, file, from, message, expect_parent, committer;
  std::string left, right, prefix, after;
  std::vector<std::string> meta;
  size_t limit = 0;
  bool uncommitted = false;
  bool names_only = false;
  double grace_seconds = 3600;
  CLI::Option* value_option = nullptr;
  CLI::Option* file_option = nullptr;
  CLI::Option* expect_option = nullptr;
  // log's filters (refstore::LogOptions)
  bool first_parent = false;
  int64_t since_ms = 0, until_ms = 0;
  std::string stop_at;
  std::vector<std::string> log_paths, log_prefixes;
  // entry put / entry rm preconditions (--absent, --exists, --expect OLD)
  bool if_absent = false, if_exists = false;
  std::string if_expect;
  CLI::Option* if_expect_option = nullptr;
};

// The precondition `entry put` / `entry rm` were given, or nullopt for none.
Result<std::optional<refstore::EntryPrecondition>> EntryPreconditionOf(CliContext& ctx,
                                                                       const RefArgs& a) {
  if (a.if_absent) return std::optional(refstore::EntryPrecondition::Absent());
  if (a.if_exists) return std::optional(refstore::EntryPrecondition::Exists());
  if (a.if_expect_option != nullptr && a.if_expect_option->count() > 0) {
    REFKV_ASSIGN_OR_RETURN(std::string expected, ctx.ArgBytes("--expect", a.if_expect));
    return std::optional(refstore::EntryPrecondition::Equals(expected));
  }
  return std::optional<refstore::EntryPrecondition>();
}

// Adds the precondition options of `entry put` (all three) or `entry rm` (--expect only).
void AddEntryPrecondition(CLI::App& sub, RefArgs& a, bool all) {
  CLI::Option_group* group = sub.add_option_group("precondition", "at most one of");
  if (all) {
    group->add_flag("--absent", a.if_absent, "write only if PATH has no value at BRANCH");
    group->add_flag("--exists", a.if_exists, "write only if PATH has a value at BRANCH");
  }
  a.if_expect_option =
      group->add_option("--expect", a.if_expect, "write only if PATH's value at BRANCH is OLD")
          ->type_name("OLD");
  group->require_option(0, 1);
  sub.footer(
      "With a precondition: judged against what 'entry get' at BRANCH sees (staged over\n"
      "committed), atomically with the write; exit 4 and nothing written if it does not hold.");
}

// `sync_staged_writes`: false for a command that stages many entries and syncs once
// itself (entry load).
Result<refstore::OpenedRefStore> Refs(CliContext& ctx, Access access,
                                      refstore::Options options = {},
                                      bool sync_staged_writes = true) {
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(access));
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  // database.sync_commits: what a command acknowledges survives power loss (one Sync).
  options.sync_commits = source.sync_commits;
  options.sync_staged_writes = source.sync_commits && sync_staged_writes;
  // A node on shared stores (migrate/nodes.h) while it may write; a read-only open cannot
  // write its node record, nor anything else.
  options.node_role = "refkv cli";
  if (access != Access::kWrite) options.heartbeat = refstore::Options::Heartbeat::kOff;
  refstore::OpenForStoreOptions open_options;
  open_options.refstore = options;
  return refstore::OpenForStore(*store, open_options);
}

std::string CommitJson(CliContext& ctx, const CommitInfo& c) {
  JsonWriter j(ctx.options().hex);
  j.StartObject().Field("id", c.id).Key("parents").StartArray();
  for (const std::string& p : c.parents) j.String(p);
  j.EndArray().Field("committer", c.committer).Bytes("message", c.message);
  j.Key("metadata").StartObject();
  for (const auto& [k, v] : c.metadata) j.Field(k, v);
  j.EndObject()
      .Field("creation_time_ms", c.creation_time_ms)
      .Field("generation", c.generation)
      .Field("metarange_id", c.metarange_id)
      .EndObject();
  return j.Take();
}

void CommitText(CliContext& ctx, const CommitInfo& c) {
  std::ostream& out = ctx.out();
  out << "commit " << c.id << "\n";
  for (const std::string& p : c.parents) out << "parent " << p << "\n";
  out << "committer " << ctx.TextBytes(c.committer) << "\n";
  out << "time_ms " << c.creation_time_ms << "\ngeneration " << c.generation << "\n";
  for (const auto& [k, v] : c.metadata) {
    out << "meta " << ctx.TextBytes(k) << "=" << ctx.TextBytes(v) << "\n";
  }
  out << "\n    " << ctx.TextBytes(c.message) << "\n";
}

// ---- repo ------------------------------------------------------------------------------
Status RepoCreate(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto info,
                         r.refs->CreateRepository(a.repo, a.name.empty() ? "main" : a.name));
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("name", info.name)
                     .Field("default_branch", info.default_branch)
                     .EndObject()
                     .Take()
              << "\n";
  } else {
    ctx.out() << "created repository " << info.name << " (default branch " << info.default_branch
              << ")\n";
  }
  return Status::OK();
}

refstore::ListOptions ListOpts(const RefArgs& a) {
  refstore::ListOptions options;
  options.after = a.after;
  options.limit = a.limit;
  return options;
}

// The end of a --json listing: `]` and the next page's token ("" after the last page).
void EndJsonList(CliContext& ctx, const std::string& next_after) {
  ctx.out() << "]," << ctx.JsonBytes("next_after", next_after) << "}\n";
}

Status RepoList(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  REFKV_ASSIGN_OR_RETURN(auto page, r.refs->ListRepositories(ListOpts(a)));
  const auto& repos = page.repositories;
  std::ostream& out = ctx.out();
  if (ctx.options().json) out << "{\"repositories\":[";
  for (size_t i = 0; i < repos.size(); ++i) {
    const auto& info = repos[i];
    if (ctx.options().json) {
      out << (i ? "," : "")
          << JsonWriter()
                 .StartObject()
                 .Field("name", info.name)
                 .Field("default_branch", info.default_branch)
                 .Field("creation_time_ms", info.creation_time_ms)
                 .EndObject()
                 .Take();
    } else {
      out << info.name << "\t" << info.default_branch << "\n";
    }
  }
  if (ctx.options().json) EndJsonList(ctx, page.next_after);
  return Status::OK();
}

Status RepoDelete(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  return r.refs->DeleteRepository(a.repo);
}

// ---- branch ----------------------------------------------------------------------------
void BranchOut(CliContext& ctx, const refstore::BranchInfo& b, bool first, bool list) {
  if (ctx.options().json) {
    ctx.out() << (first ? "" : ",")
              << JsonWriter()
                     .StartObject()
                     .Field("name", b.name)
                     .Field("commit_id", b.commit_id)
                     .Field("sealed_tokens", b.sealed_tokens)
                     .EndObject()
                     .Take()
              << (list ? "" : "\n");
  } else {
    ctx.out() << b.name << "\t" << b.commit_id << "\n";
  }
}

Status BranchCreate(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto b, r.refs->CreateBranch(a.repo, a.name, a.from));
  BranchOut(ctx, b, true, false);
  return Status::OK();
}

Status BranchList(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  REFKV_ASSIGN_OR_RETURN(auto page, r.refs->ListBranches(a.repo, ListOpts(a)));
  const auto& branches = page.branches;
  if (ctx.options().json) ctx.out() << "{\"branches\":[";
  for (size_t i = 0; i < branches.size(); ++i) BranchOut(ctx, branches[i], i == 0, true);
  if (ctx.options().json) EndJsonList(ctx, page.next_after);
  return Status::OK();
}

// ---- entry -----------------------------------------------------------------------------
Status EntryPut(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(std::string path, ctx.ArgBytes("PATH", a.path));
  std::string value;
  if (a.file_option->count() > 0) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return Status::NotFound("cannot open --file " + a.file);
    value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::IOError("cannot read --file " + a.file);
  } else if (a.value_option->count() > 0) {
    REFKV_ASSIGN_OR_RETURN(value, ctx.ArgBytes("VALUE", a.value));
  } else {
    return Status::InvalidArgument("entry put: give VALUE or --file F");
  }
  REFKV_ASSIGN_OR_RETURN(auto precondition, EntryPreconditionOf(ctx, a));
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  if (precondition) return r.refs->PutEntry(a.repo, a.name, path, value, *precondition);
  return r.refs->PutEntry(a.repo, a.name, path, value);
}

Status EntryGet(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(std::string path, ctx.ArgBytes("PATH", a.path));
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  REFKV_ASSIGN_OR_RETURN(std::string value, r.refs->GetEntry(a.repo, a.ref, path));
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    out << JsonWriter(ctx.options().hex)
               .StartObject()
               .Bytes("path", path)
               .Bytes("value", value)
               .EndObject()
               .Take()
        << "\n";
  } else if (ctx.options().hex) {
    out << HexEncode(value) << "\n";
  } else {
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    if (ctx.out_is_terminal()) out << "\n";
  }
  return Status::OK();
}

Status EntryRm(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(std::string path, ctx.ArgBytes("PATH", a.path));
  REFKV_ASSIGN_OR_RETURN(auto precondition, EntryPreconditionOf(ctx, a));
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  if (precondition) return r.refs->DeleteEntry(a.repo, a.name, path, *precondition);
  return r.refs->DeleteEntry(a.repo, a.name, path);
}

Status EntryLs(CliContext& ctx, const RefArgs& a) {
  refstore::ListEntriesOptions options;
  REFKV_ASSIGN_OR_RETURN(options.prefix, ctx.ArgBytes("--prefix", a.prefix));
  REFKV_ASSIGN_OR_RETURN(options.after, ctx.ArgBytes("--after", a.after));
  options.names_only = a.names_only;
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  const bool json = ctx.options().json;
  std::ostream& out = ctx.out();
  size_t n = 0;
  std::string next;
  if (json) out << "{\"entries\":[";
  // Pages until --limit entries (0: all) are written.
  while (true) {
    options.limit = a.limit == 0 ? 1000 : std::min<size_t>(1000, a.limit - n);
    REFKV_ASSIGN_OR_RETURN(auto page, r.refs->ListEntries(a.repo, a.ref, options));
    for (const auto& e : page.entries) {
      if (json && a.names_only) {
        out << (n ? ",\n" : "\n")
            << JsonWriter(ctx.options().hex).StartObject().Bytes("path", e.path).EndObject().Take();
      } else if (json) {
        out << (n ? ",\n" : "\n")
            << JsonWriter(ctx.options().hex)
                   .StartObject()
                   .Bytes("path", e.path)
                   .Bytes("value", e.value)
                   .EndObject()
                   .Take();
      } else if (a.names_only) {
        out << ctx.TextBytes(e.path) << "\n";
      } else {
        out << ctx.TextBytes(e.path) << "\t" << ctx.TextBytes(e.value) << "\n";
      }
      ++n;
    }
    next = page.next_after;
    if (next.empty() || (a.limit > 0 && n >= a.limit)) break;
    options.after = next;
  }
  if (json) out << (n ? "\n" : "") << "]," << ctx.JsonBytes("next_after", next) << "}\n";
  return Status::OK();
}

Status EntryLoad(CliContext& ctx, const RefArgs& a) {
  Result<std::vector<refstore::EntryWrite>> writes = Status::OK();
  if (a.file == "-") {
    writes = refstore::ParseEntryWriteLines(std::cin, "<stdin>");
  } else {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return Status::NotFound("cannot open " + a.file);
    writes = refstore::ParseEntryWriteLines(in, a.file);
  }
  REFKV_RETURN_IF_ERROR(writes.status());
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite, {}, /*sync_staged_writes=*/false));
  // One atomic batch: all of the file visible, or none of it.
  REFKV_RETURN_IF_ERROR(
      r.refs->WriteEntries(a.repo, a.name, *writes).WithContext("entry load: nothing was staged"));
  const size_t staged = writes->size();
  // One Sync for the whole load (database.sync_commits) instead of one per entry.
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  if (source.sync_commits) {
    REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kWrite));
    REFKV_RETURN_IF_ERROR(store->Sync().WithContext("entry load: syncing the staged entries"));
  }
  if (ctx.options().json) {
    ctx.out() << JsonWriter().StartObject().Field("staged", staged).EndObject().Take() << "\n";
  } else {
    ctx.out() << "staged " << staged << " entries on " << a.repo << "/" << a.name << "\n";
  }
  return Status::OK();
}

// ---- commit / log / show ---------------------------------------------------------------
Status Commit(CliContext& ctx, const RefArgs& a) {
  refstore::CommitRequest request;
  request.message = a.message;
  request.committer = a.committer;
  if (request.committer.empty()) request.committer = ctx.env()("USER").value_or("refkv");
  for (const std::string& kv : a.meta) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--meta '" + kv + "': expected KEY=VALUE");
    }
    request.metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (a.expect_option->count() > 0) request.expected_parent = a.expect_parent;
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto result, r.refs->Commit(a.repo, a.name, request));
  using Outcome = refstore::CommitResult::Outcome;
  const char* outcome = result.outcome == Outcome::kCommitted   ? "committed"
                        : result.outcome == Outcome::kNoChanges ? "no_changes"
                                                                : "committed_concurrently";
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("outcome", outcome)
                     .Field("attempts", result.attempts)
                     .Key("commit")
                     .Raw(CommitJson(ctx, result.commit))
                     .EndObject()
                     .Take()
              << "\n";
  } else if (result.outcome == Outcome::kCommitted) {
    ctx.out() << "committed " << result.commit.id << "\n";
  } else if (result.outcome == Outcome::kNoChanges) {
    // Also when a concurrent commit found the staged writes changed nothing.
    ctx.out() << "no changes: nothing staged on " << a.repo << "/" << a.name
              << " differs from its head; head stays " << result.commit.id << "\n";
  } else {
    ctx.out() << "committed concurrently: another commit of the branch took the staged "
                 "writes: "
              << result.commit.id << "\n";
  }
  return Status::OK();
}

Status Log(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  refstore::LogOptions options;
  options.page_token = a.after;
  options.first_parent = a.first_parent;
  options.since_ms = a.since_ms;
  options.until_ms = a.until_ms;
  options.stop_at = a.stop_at;
  for (const auto& p : a.log_paths) {
    REFKV_ASSIGN_OR_RETURN(std::string path, ctx.ArgBytes("--path", p));
    options.paths.push_back(std::move(path));
  }
  for (const auto& p : a.log_prefixes) {
    REFKV_ASSIGN_OR_RETURN(std::string prefix, ctx.ArgBytes("--prefix", p));
    options.prefixes.push_back(std::move(prefix));
  }
  size_t n = 0;
  std::string next;
  const bool json = ctx.options().json;
  if (json) ctx.out() << "{\"commits\":[";
  while (true) {
    options.limit = a.limit == 0 ? 100 : std::min<size_t>(100, a.limit - n);
    REFKV_ASSIGN_OR_RETURN(auto page, r.refs->Log(a.repo, a.ref, options));
    for (const auto& c : page.commits) {
      if (json) {
        ctx.out() << (n ? ",\n" : "\n") << CommitJson(ctx, c);
      } else {
        if (n) ctx.out() << "\n";
        CommitText(ctx, c);
      }
      ++n;
    }
    next = page.next_page_token;
    if (next.empty() || (a.limit > 0 && n >= a.limit)) break;
    options.page_token = next;
  }
  if (json) ctx.out() << (n ? "\n" : "") << "]," << ctx.JsonBytes("next_after", next) << "}\n";
  return Status::OK();
}

Status Show(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  REFKV_ASSIGN_OR_RETURN(auto c, r.refs->GetCommit(a.repo, a.ref));
  if (ctx.options().json) {
    ctx.out() << CommitJson(ctx, c) << "\n";
  } else {
    CommitText(ctx, c);
  }
  return Status::OK();
}

// ---- tag -------------------------------------------------------------------------------
void TagOut(CliContext& ctx, const refstore::TagInfo& t, bool first, bool list) {
  if (ctx.options().json) {
    ctx.out() << (first ? "" : ",")
              << JsonWriter()
                     .StartObject()
                     .Field("name", t.name)
                     .Field("commit_id", t.commit_id)
                     .Field("creation_time_ms", t.creation_time_ms)
                     .EndObject()
                     .Take()
              << (list ? "" : "\n");
  } else {
    ctx.out() << t.name << "\t" << t.commit_id << "\n";
  }
}

Status TagCreate(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite));
  REFKV_ASSIGN_OR_RETURN(auto t, r.refs->CreateTag(a.repo, a.name, a.ref));
  TagOut(ctx, t, true, false);
  return Status::OK();
}

Status TagList(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  REFKV_ASSIGN_OR_RETURN(auto page, r.refs->ListTags(a.repo, ListOpts(a)));
  const auto& tags = page.tags;
  if (ctx.options().json) ctx.out() << "{\"tags\":[";
  for (size_t i = 0; i < tags.size(); ++i) TagOut(ctx, tags[i], i == 0, true);
  if (ctx.options().json) EndJsonList(ctx, page.next_after);
  return Status::OK();
}

// ---- diff / gc -------------------------------------------------------------------------
Status Diff(CliContext& ctx, const RefArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kRead));
  std::vector<EntryDiff> diffs;
  if (a.uncommitted) {
    if (!a.right.empty()) {
      return Status::InvalidArgument("diff --uncommitted takes one BRANCH, not LEFT RIGHT");
    }
    REFKV_ASSIGN_OR_RETURN(diffs, r.refs->DiffUncommitted(a.repo, a.left, a.limit));
  } else {
    if (a.right.empty()) return Status::InvalidArgument("diff needs LEFT RIGHT (or --uncommitted)");
    REFKV_ASSIGN_OR_RETURN(diffs, r.refs->Diff(a.repo, a.left, a.right, a.limit));
  }
  std::ostream& out = ctx.out();
  const bool json = ctx.options().json;
  if (json) out << "[";
  for (size_t i = 0; i < diffs.size(); ++i) {
    const EntryDiff& d = diffs[i];
    const char* kind = d.kind == EntryDiff::Kind::kAdded     ? "added"
                       : d.kind == EntryDiff::Kind::kRemoved ? "removed"
                                                             : "changed";
    if (json) {
      JsonWriter j(ctx.options().hex);
      j.StartObject().Bytes("path", d.path).Field("kind", kind);
      if (d.left) j.Bytes("left", *d.left);
      if (d.right) j.Bytes("right", *d.right);
      out << (i ? ",\n" : "\n") << j.EndObject().Take();
    } else {
      char sign = d.kind == EntryDiff::Kind::kAdded     ? '+'
                  : d.kind == EntryDiff::Kind::kRemoved ? '-'
                                                        : '~';
      out << sign << " " << ctx.TextBytes(d.path);
      if (d.right) out << "\t" << ctx.TextBytes(*d.right);
      out << "\n";
    }
  }
  if (json) out << (diffs.empty() ? "" : "\n") << "]\n";
  return Status::OK();
}

Status Gc(CliContext& ctx, const RefArgs& a) {
  refstore::Options options;
  options.gc_grace = std::chrono::milliseconds(static_cast<int64_t>(a.grace_seconds * 1000));
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kWrite, options));
  REFKV_ASSIGN_OR_RETURN(auto s, r.refs->CollectGarbage());
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("repositories_finished", s.repositories_finished)
                     .Field("partitions_dropped", s.partitions_dropped)
                     .Field("staging_tokens_released", s.staging_tokens_released)
                     .Field("metaranges_deleted", s.metaranges_deleted)
                     .Field("metarange_parts_deleted", s.metarange_parts_deleted)
                     .Field("ranges_deleted", s.ranges_deleted)
                     .Field("commits_deleted", s.commits_deleted)
                     .Field("index_keys_deleted", s.index_keys_deleted)
                     .EndObject()
                     .Take()
              << "\n";
  } else {
    ctx.out() << "repositories finished " << s.repositories_finished << ", partitions dropped "
              << s.partitions_dropped << ", staging tokens released " << s.staging_tokens_released
              << ", metaranges deleted " << s.metaranges_deleted << " (parts "
              << s.metarange_parts_deleted << "), ranges deleted " << s.ranges_deleted
              << ", commits deleted " << s.commits_deleted << ", index keys deleted "
              << s.index_keys_deleted << "\n";
  }
  return Status::OK();
}

Status CheckCmd(CliContext& ctx, const RefArgs&) {
  REFKV_ASSIGN_OR_RETURN(auto r, Refs(ctx, Access::kInspect));
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kInspect));
  REFKV_ASSIGN_OR_RETURN(auto report, refstore::Check(*store, *r.refs, *r.ranges));
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    JsonWriter j;
    j.StartObject()
        .Field("ok", report.ok())
        .Field("repositories", report.repositories)
        .Field("branches", report.branches)
        .Field("tags", report.tags)
        .Field("commits", report.commits)
        .Field("metaranges", report.metaranges)
        .Key("violations")
        .StartArray();
    for (const auto& v : report.violations) {
      j.StartObject().Field("location", v.location).Field("problem", v.problem).EndObject();
    }
    out << j.EndArray().EndObject().Take() << "\n";
  } else {
    for (const auto& v : report.violations) out << v.location << ": " << v.problem << "\n";
    out << (report.ok() ? "ok: " : "FAILED: ") << report.repositories << " repositories, "
        << report.branches << " branches, " << report.tags << " tags, " << report.commits
        << " commits, " << report.metaranges << " metaranges checked";
    if (!report.ok()) out << ", " << report.violations.size() << " violations";
    out << "\n";
  }
  if (!report.ok()) {
    return Status::Corruption("check: " + std::to_string(report.violations.size()) +
                              " violations (listed on stdout)");
  }
  return Status::OK();
}

// --limit and --after of `repo list`, `branch list` and `tag list`.
void AddPageOptions(CLI::App& sub, RefArgs& a) {
  AddNumberOption(sub, "--limit", a.limit, "at most N names (0: all)", size_t{0}, kMaxLimit)
      ->type_name("N");
  sub.add_option("--after", a.after, "only names after X (a previous page's next_after)")
      ->type_name("X");
  sub.footer(
      "--json: {\"<repositories|branches|tags>\":[...],\"next_after\":X}; pass X as --after\n"
      "for the next page (\"\" after the last page).");
}

}  // namespace

void AddRefStoreCommands(CLI::App& app, CliContext& ctx) {
  std::shared_ptr<RefArgs> a;
  CLI::App* sub;

  CLI::App* repo = app.add_subcommand("repo", "ref store repositories");
  repo->require_subcommand(1);
  sub = AddLeaf(ctx, *repo, "create", "create repository NAME with an empty initial commit", a,
                RepoCreate);
  sub->add_option("NAME", a->repo, "repository name")->required();
  sub->add_option("--default-branch", a->name, "its default branch (main)")->type_name("B");
  sub = AddLeaf(ctx, *repo, "list", "list repositories: 'NAME<TAB>DEFAULT_BRANCH'", a, RepoList);
  AddPageOptions(*sub, *a);
  sub = AddLeaf(ctx, *repo, "delete", "delete repository NAME and everything in it", a, RepoDelete);
  sub->add_option("NAME", a->repo, "repository name")->required();

  CLI::App* branch = app.add_subcommand("branch", "branches of a repository");
  branch->require_subcommand(1);
  sub = AddLeaf(ctx, *branch, "create", "create branch NAME at the commit REF resolves to", a,
                BranchCreate);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("NAME", a->name)->required();
  sub->add_option("--from", a->from, "branch, tag or commit id")->type_name("REF")->required();
  sub = AddLeaf(ctx, *branch, "list", "list branches: 'NAME<TAB>COMMIT'", a, BranchList);
  sub->add_option("REPO", a->repo)->required();
  AddPageOptions(*sub, *a);
  sub = AddLeaf(ctx, *branch, "delete", "delete branch NAME (not the default branch)", a,
                [](CliContext& c, const RefArgs& x) {
                  REFKV_ASSIGN_OR_RETURN(auto r, Refs(c, Access::kWrite));
                  return r.refs->DeleteBranch(x.repo, x.name);
                });
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("NAME", a->name)->required();
  sub = AddLeaf(ctx, *branch, "reset", "discard every staged (uncommitted) write of branch NAME", a,
                [](CliContext& c, const RefArgs& x) {
                  REFKV_ASSIGN_OR_RETURN(auto r, Refs(c, Access::kWrite));
                  return r.refs->ResetBranch(x.repo, x.name);
                });
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("NAME", a->name)->required();

  CLI::App* entry = app.add_subcommand("entry", "entries (PATH -> VALUE bytes) of a repository");
  entry->require_subcommand(1);
  sub = AddLeaf(ctx, *entry, "put", "stage VALUE (or the bytes of --file F) at PATH on BRANCH", a,
                EntryPut);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BRANCH", a->name)->required();
  sub->add_option("PATH", a->path)->required();
  a->value_option = sub->add_option("VALUE", a->value, "the value (may be empty)");
  a->file_option = sub->add_option("--file", a->file, "read the value from F")->type_name("F");
  a->value_option->excludes(a->file_option);
  AddEntryPrecondition(*sub, *a, /*all=*/true);
  sub = AddLeaf(ctx, *entry, "get",
                "print the value at PATH at REF (raw bytes; --hex, --json); exit 3 if absent", a,
                EntryGet);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("REF", a->ref)->required();
  sub->add_option("PATH", a->path)->required();
  sub = AddLeaf(ctx, *entry, "rm", "stage the deletion of PATH on BRANCH", a, EntryRm);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BRANCH", a->name)->required();
  sub->add_option("PATH", a->path)->required();
  AddEntryPrecondition(*sub, *a, /*all=*/false);
  sub =
      AddLeaf(ctx, *entry, "ls", "list entries at REF in path order: 'PATH<TAB>VALUE'", a, EntryLs);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("REF", a->ref)->required();
  sub->add_option("--prefix", a->prefix, "only paths starting with X")->type_name("X");
  sub->add_option("--after", a->after, "only paths after K (a previous next_after)")
      ->type_name("K");
  AddNumberOption(*sub, "--limit", a->limit, "at most N entries (0: all)", size_t{0}, kMaxLimit)
      ->type_name("N");
  sub->add_flag("--names-only", a->names_only,
                "paths only, one per line (--json: {\"path\":..}); values are not read");
  sub = AddLeaf(ctx, *entry, "load",
                "stage the entries of FILE (or - for stdin) as one atomic batch: JSON lines "
                "{\"path\":..,\"value\":..}, {\"path\":..,\"value_b64\":..} or "
                "{\"path\":..,\"delete\":true}; every line is checked first, a bad line "
                "stages nothing (exit 2, FILE:LINE); all of FILE becomes visible at once or "
                "none of it (also if the process dies)",
                a, EntryLoad);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BRANCH", a->name)->required();
  sub->add_option("FILE", a->file)->required();

  sub = AddLeaf(ctx, app, "commit", "commit what is staged on BRANCH", a, Commit);
  sub->footer(
      "Nothing staged (or nothing that changes the head): prints 'no changes: ...' and\n"
      "exits 0; staged writes a concurrent commit took: 'committed concurrently: ID', 0.\n"
      "Exit 4 if --expect-parent is not the head; exit 5 if the commit lost the race for\n"
      "the branch through every retry (the staged writes stay staged: run it again), or if\n"
      "a concurrent 'branch reset' discarded them (the message says so).");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("BRANCH", a->name)->required();
  sub->add_option("-m,--message", a->message, "commit message")->required();
  sub->add_option("--meta", a->meta, "metadata KEY=VALUE (repeatable)")->type_name("K=V");
  sub->add_option("--committer", a->committer, "committer (default: $USER)");
  a->expect_option = sub->add_option("--expect-parent", a->expect_parent,
                                     "commit only if the branch head is commit ID")
                         ->type_name("ID");

  sub = AddLeaf(ctx, app, "log", "the history of REF, newest first", a, Log);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("REF", a->ref)->required();
  AddNumberOption(*sub, "--limit", a->limit, "at most N commits (0: all)", size_t{0}, kMaxLimit)
      ->type_name("N");
  sub->add_flag("--first-parent", a->first_parent, "follow only first parents");
  AddNumberOption(*sub, "--since", a->since_ms, "only commits made at or after T (Unix ms)",
                  int64_t{0}, std::numeric_limits<int64_t>::max())
      ->type_name("T");
  AddNumberOption(*sub, "--until", a->until_ms, "only commits made at or before T (Unix ms)",
                  int64_t{0}, std::numeric_limits<int64_t>::max())
      ->type_name("T");
  sub->add_option("--stop-at", a->stop_at, "leave out REF2 and everything it reaches")
      ->type_name("REF2");
  sub->add_option("--path", a->log_paths, "only commits that changed PATH (repeatable)")
      ->type_name("PATH");
  sub->add_option("--prefix", a->log_prefixes,
                  "only commits that changed something under X (repeatable)")
      ->type_name("X");
  sub->add_option("--after", a->after, "continue after a previous page (its next_after)")
      ->type_name("TOKEN");
  sub->footer(
      "--json: {\"commits\":[...],\"next_after\":TOKEN}; pass TOKEN as --after for the next\n"
      "page (\"\" after the last). A commit changed PATH when its value differs from that in\n"
      "every parent compared (only the first with --first-parent).");

  sub = AddLeaf(ctx, app, "show", "the commit REF resolves to", a, Show);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("REF", a->ref)->required();

  CLI::App* tag = app.add_subcommand("tag", "tags (immutable names of commits)");
  tag->require_subcommand(1);
  sub = AddLeaf(ctx, *tag, "create", "create tag TAG at the commit REF resolves to", a, TagCreate);
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("TAG", a->name)->required();
  sub->add_option("REF", a->ref)->required();
  sub = AddLeaf(ctx, *tag, "list", "list tags: 'TAG<TAB>COMMIT'", a, TagList);
  sub->add_option("REPO", a->repo)->required();
  AddPageOptions(*sub, *a);
  sub = AddLeaf(ctx, *tag, "delete", "delete tag TAG", a, [](CliContext& c, const RefArgs& x) {
    REFKV_ASSIGN_OR_RETURN(auto r, Refs(c, Access::kWrite));
    return r.refs->DeleteTag(x.repo, x.name);
  });
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("TAG", a->name)->required();

  sub = AddLeaf(ctx, app, "diff",
                "what changed from LEFT to RIGHT (or, --uncommitted, staged on branch LEFT)", a,
                Diff);
  sub->footer(
      "One line per path: '+ PATH<TAB>VALUE' added, '- PATH' removed, '~ PATH<TAB>VALUE'\n"
      "changed (the RIGHT value). Committed data only, unless --uncommitted.");
  sub->add_option("REPO", a->repo)->required();
  sub->add_option("LEFT", a->left, "a ref (the branch, with --uncommitted)")->required();
  sub->add_option("RIGHT", a->right, "a ref");
  sub->add_flag("--uncommitted", a->uncommitted, "the staged changes of branch LEFT");
  AddNumberOption(*sub, "--limit", a->limit, "at most N changes (0: all)", size_t{0}, kMaxLimit)
      ->type_name("N");

  sub = AddLeaf(ctx, app, "check", "verify the store's invariants; exit 1 on any violation", a,
                CheckCmd);
  sub->footer(
      "Checks the metadata and migration state, every repository's default branch, every\n"
      "branch and tag, every reachable commit's parents, metarange and range content hashes.\n"
      "Each violation is a line 'LOCATION: PROBLEM' on stdout (--json: violations[]).");

  sub = AddLeaf(ctx, app, "gc",
                "remove unreachable ref store leftovers older than --grace (safe while others "
                "write)",
                a, Gc);
  AddNumberOption(*sub, "--grace", a->grace_seconds, "only things older than S seconds (3600)", 0.0,
                  kMaxSeconds)
      ->type_name("S");
}

Result<refstore::OpenedRefStore> OpenRefStoreForCommand(CliContext& ctx, Access access) {
  return Refs(ctx, access);
}

}  // namespace refkv::cli
