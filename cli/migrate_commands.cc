// refkv migrate version/status/plan/up/down/cleanup/unlock/restore: the schema migration
// runner (migrate/migrate.h) with the ref store's steps (refstore/schema.h), and the
// backups of migrate/backup.h. The store is opened with the tooling options, so a store
// at an older schema or mid-migration opens.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/bytes_format.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_code.h"
#include "cli/json.h"
#include "cli/leaf.h"
#include "cli/number_option.h"
#include "migrate/backup.h"
#include "migrate/migrate.h"
#include "refstore/schema.h"

namespace refkv::cli {
namespace {

namespace mg = kv::migrate;

struct MigrateArgs {
  int64_t to = 0;
  CLI::Option* to_option = nullptr;
  bool dry_run = false, no_backup = false, force = false, ignore_nodes = false;
  bool keep_replaced = false, replace = false;
  double lease_ttl = 30, lock_timeout = 60;
  int64_t reserve = 0;
  std::string backup_dir;
  std::string backup;  // restore: the backup to bring back
};

// The store opened for the migration tooling; closed by the destructor.
struct Tooling {
  mg::StepRegistry steps = refstore::SchemaSteps();
  std::unique_ptr<kv::Store> store;
  ~Tooling() {
    if (store) (void)store->Close();
  }
};

Result<std::unique_ptr<Tooling>> Open(CliContext& ctx, bool write) {
  auto t = std::make_unique<Tooling>();
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  kv::OpenOptions options = mg::ToolingOpenOptions(t->steps);
  // version, status and plan only read: a read-only open writes nothing (RocksDB: no
  // WAL, MANIFEST, OPTIONS or LOG file), so they work on a full disk and beside a writer,
  // and they report an unfinished import instead of refusing the store.
  if (!write) {
    options.create_if_missing = false;
    options.read_only = true;
    options.allow_pending_load = true;
  }
  auto opened = kv::Open(source.uri, options);
  if (!opened.ok()) {
    return opened.status().WithContext("cannot open store '" + source.uri + "' (" +
                                       DescribeOrigin(source) + ")");
  }
  t->store = std::move(opened).value();
  return t;
}

int64_t NowMsForStatus() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void VersionOut(CliContext& ctx, const mg::VersionInfo& v) {
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("store_schema", v.store_schema)
                     .Field("code_schema", v.code_schema)
                     .Field("oldest_upgradable_schema", v.oldest_upgradable_schema)
                     .Field("state", v.state_name)
                     .Field("detail", v.state.ToString())
                     .EndObject()
                     .Take()
              << "\n";
  } else {
    ctx.out() << "store schema " << v.store_schema << "\ncode schema " << v.code_schema
              << "\noldest upgradable " << v.oldest_upgradable_schema << "\nstate "
              << v.state.ToString() << "\n";
  }
}

Status Version(CliContext& ctx, const MigrateArgs&) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, false));
  REFKV_ASSIGN_OR_RETURN(auto v, mg::Version(*t->store, t->steps));
  VersionOut(ctx, v);
  return Status::OK();
}

Status StatusCmd(CliContext& ctx, const MigrateArgs&) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, false));
  REFKV_ASSIGN_OR_RETURN(auto s, mg::GetStatus(*t->store, t->steps));
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    JsonWriter j;
    j.StartObject()
        .Field("store_schema", s.version.store_schema)
        .Field("code_schema", s.version.code_schema)
        .Field("oldest_upgradable_schema", s.version.oldest_upgradable_schema)
        .Field("state", s.version.state_name)
        .Field("detail", s.version.state.ToString())
        .Key("lease");
    if (s.lease) {
      j.String(s.lease->ToString());
    } else {
      j.Null();
    }
    j.Key("nodes").StartArray();
    const int64_t now = NowMsForStatus();
    for (const auto& n : s.nodes) {
      j.StartObject()
          .Field("id", n.node_id)
          .Field("host", n.host)
          .Field("pid", n.pid)
          .Field("code_schema", n.code_schema)
          .Field("code_version", n.code_version)
          .Field("role", n.role)
          .Field("age_ms", now - n.beat_ms)
          .Field("ttl_ms", n.ttl_ms)
          .Field("fenced", n.fenced)
          .EndObject();
    }
    j.EndArray().Key("kept").StartArray();
    for (const auto& k : s.kept) j.String(k);
    j.EndArray().Key("history").StartArray();
    for (const auto& h : s.history) {
      j.StartObject()
          .Field("seq", h.seq)
          .Field("step", h.step_id)
          .Field("from", h.from)
          .Field("to", h.to)
          .Field("direction", mg::DirectionName(h.direction))
          .Field("rows", h.rows)
          .Field("finished_ms", h.finished_ms)
          .Field("backup", h.backup)
          .EndObject();
    }
    out << j.EndArray().EndObject().Take() << "\n";
    return Status::OK();
  }
  VersionOut(ctx, s.version);
  if (s.lease) out << "lease " << s.lease->ToString() << "\n";
  const int64_t now = NowMsForStatus();
  for (const auto& n : s.nodes) out << "node " << n.ToString(now).substr(5) << "\n";
  for (const auto& k : s.kept) out << "kept (awaits cleanup) " << k << "\n";
  for (const auto& h : s.history) {
    out << "history " << h.seq << " " << mg::DirectionName(h.direction) << " " << h.step_id << " "
        << h.from << "->" << h.to << " rows " << h.rows
        << (h.backup.empty() ? "" : " backup " + h.backup) << "\n";
  }
  return Status::OK();
}

void PlanOut(CliContext& ctx, const mg::Plan& p) {
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    JsonWriter j;
    j.StartObject()
        .Field("store_schema", p.store_schema)
        .Field("target", p.target)
        .Field("abandons", p.abandons)
        .Field("rows", p.total.rows)
        .Field("bytes", p.total.bytes)
        .Key("steps")
        .StartArray();
    for (const auto& s : p.steps) {
      j.StartObject()
          .Field("id", s.id)
          .Field("from", s.from)
          .Field("to", s.to)
          .Field("direction", mg::DirectionName(s.direction))
          .Field("rows", s.estimate.rows)
          .Field("resumes", s.resumes)
          .EndObject();
    }
    out << j.EndArray().EndObject().Take() << "\n";
    return;
  }
  out << "schema " << p.store_schema << " -> " << p.target << "\n";
  if (!p.abandons.empty()) out << "abandons interrupted " << p.abandons << "\n";
  if (p.steps.empty()) out << "nothing to do\n";
  for (const auto& s : p.steps) {
    out << mg::DirectionName(s.direction) << " " << s.id << " " << s.from << "->" << s.to << " ~"
        << s.estimate.rows << " rows" << (s.resumes ? " (resumes)" : "") << "  " << s.description
        << "\n";
  }
}

Status PlanCmd(CliContext& ctx, const MigrateArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, false));
  REFKV_ASSIGN_OR_RETURN(auto v, mg::Version(*t->store, t->steps));
  std::optional<int64_t> to;
  if (a.to_option->count() > 0) to = a.to;
  Result<mg::Plan> plan = (to && *to < v.store_schema) ? mg::PlanDown(*t->store, t->steps, *to)
                                                       : mg::PlanUp(*t->store, t->steps, to);
  REFKV_RETURN_IF_ERROR(plan.status());
  PlanOut(ctx, *plan);
  return Status::OK();
}

mg::RunOptions RunOptionsFor(const MigrateArgs& a) {
  mg::RunOptions options;
  options.dry_run = a.dry_run;
  options.no_backup = a.no_backup;
  options.lease_ttl_ms = static_cast<int64_t>(a.lease_ttl * 1000);
  options.lock_timeout_ms = static_cast<int64_t>(a.lock_timeout * 1000);
  options.backup_dir = a.backup_dir;
  options.reserve_bytes = a.reserve;
  options.ignore_nodes = a.ignore_nodes;
  options.progress = [](const mg::Progress& p) {
    std::cerr << "migrate " << mg::DirectionName(p.direction) << " " << p.step_id << " " << p.from
              << "->" << p.to << ": " << p.rows_done << "/" << p.rows_total << " rows\n";
  };
  if (a.to_option->count() > 0) options.to = a.to;
  return options;
}

Status RunOut(CliContext& ctx, const mg::RunResult& r, bool dry_run) {
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("dry_run", dry_run)
                     .Field("target", r.plan.target)
                     .Field("applied", r.applied.size())
                     .Field("backup", r.backup)
                     .EndObject()
                     .Take()
              << "\n";
    return Status::OK();
  }
  if (dry_run) {
    PlanOut(ctx, r.plan);
    return Status::OK();
  }
  for (const auto& h : r.applied) {
    ctx.out() << "applied " << mg::DirectionName(h.direction) << " " << h.step_id << " " << h.from
              << "->" << h.to << " (" << h.rows << " rows)\n";
  }
  if (!r.backup.empty()) ctx.out() << "backup " << r.backup << "\n";
  ctx.out() << "schema " << r.plan.target << "\n";
  return Status::OK();
}

// Up or Down (a pre-flight refusal's exit code comes from its StatusReason). The backup is the
// module's choice (a checkpoint for rocks, a dump otherwise: migrate/migrate.h).
Status RunSteps(CliContext& ctx, const MigrateArgs& a, bool up) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, true));
  mg::RunOptions options = RunOptionsFor(a);
  // A pre-flight refusal carries its reason (StatusReason): its exit code (cli/exit_code.h).
  auto r = up ? mg::Up(*t->store, t->steps, options) : mg::Down(*t->store, t->steps, options);
  if (!r.ok()) return r.status();
  return RunOut(ctx, *r, a.dry_run);
}

Status Up(CliContext& ctx, const MigrateArgs& a) { return RunSteps(ctx, a, true); }
Status Down(CliContext& ctx, const MigrateArgs& a) { return RunSteps(ctx, a, false); }

Status Restore(CliContext& ctx, const MigrateArgs& a) {
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  mg::StepRegistry steps = refstore::SchemaSteps();
  kv::migrate::RestoreOptions options;
  options.open = mg::ToolingOpenOptions(steps);
  options.force = a.force;
  options.keep_replaced = a.keep_replaced;
  options.replace = a.replace;
  options.lease.lease_ttl_ms = static_cast<int64_t>(a.lease_ttl * 1000);
  options.lease.lock_timeout_ms = static_cast<int64_t>(a.lock_timeout * 1000);
  auto r = kv::migrate::RestoreBackup(source.uri, a.backup, options);
  if (!r.ok()) return r.status();
  for (const auto& note : r->notes) std::cerr << "refkv: note: " << note << "\n";
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("restored", a.backup)
                     .Field("kind", r->kind)
                     .Field("schema", r->schema)
                     .Field("records", r->records)
                     .Field("replaced", r->replaced)
                     .EndObject()
                     .Take()
              << "\n";
    return Status::OK();
  }
  ctx.out() << "restored " << a.backup << " (" << r->kind << ", " << r->records << " records"
            << (r->kind == "checkpoint" ? " verified" : " imported") << ")\nschema " << r->schema
            << "\n";
  if (!r->replaced.empty()) ctx.out() << "replaced store kept at " << r->replaced << "\n";
  return Status::OK();
}

Status Cleanup(CliContext& ctx, const MigrateArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, true));
  REFKV_ASSIGN_OR_RETURN(auto r, mg::Cleanup(*t->store, t->steps, RunOptionsFor(a)));
  return RunOut(ctx, r, a.dry_run);
}

Status Unlock(CliContext& ctx, const MigrateArgs& a) {
  REFKV_ASSIGN_OR_RETURN(auto t, Open(ctx, true));
  REFKV_RETURN_IF_ERROR(mg::Unlock(*t->store, a.force));
  ctx.out() << "lease released\n";
  return Status::OK();
}

// The schema numbers --to takes; the lease times, seconds (the lease is written in ms).
constexpr int64_t kMaxSchema = std::numeric_limits<int32_t>::max();
constexpr double kMaxLeaseSeconds = 86400;

// --lease-ttl and --lock-timeout of `migrate up/down/cleanup/restore`.
void LeaseOptions(CLI::App& sub, MigrateArgs& a) {
  AddNumberOption(sub, "--lease-ttl", a.lease_ttl, "lease time-to-live, seconds (30)", 1.0,
                  kMaxLeaseSeconds)
      ->type_name("S");
  AddNumberOption(sub, "--lock-timeout", a.lock_timeout,
                  "how long to wait for another migration's lease, seconds (60)", 0.0,
                  kMaxLeaseSeconds)
      ->type_name("S");
}

void RunFlags(CLI::App* sub, MigrateArgs& a, bool to_required) {
  a.to_option = AddNumberOption(*sub, "--to", a.to, "target schema N", int64_t{0}, kMaxSchema)
                    ->type_name("N");
  if (to_required) a.to_option->required();
  sub->add_flag("--dry-run", a.dry_run, "plan, check and report; write nothing");
  sub->add_flag("--no-backup", a.no_backup, "skip the backup before the first step");
  sub->add_option("--backup-dir", a.backup_dir, "where the backup goes")->type_name("DIR");
  AddNumberOption(*sub, "--reserve", a.reserve,
                  "free bytes to keep beyond what the plan needs (pre-flight, exit 8)", int64_t{0},
                  std::numeric_limits<int64_t>::max())
      ->type_name("BYTES");
  LeaseOptions(*sub, a);
  sub->add_flag("--ignore-nodes", a.ignore_nodes,
                "migrate although live nodes of another schema write the store (pre-flight, "
                "exit 11); they are fenced and the run waits for that");
}

}  // namespace

void AddMigrateCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* m = app.add_subcommand("migrate", "schema migrations of the store");
  m->require_subcommand(1);
  std::shared_ptr<MigrateArgs> a;
  CLI::App* sub;
  AddLeaf(ctx, *m, "version",
          "store, code and oldest upgradable schema, and the state ('ready' when idle)", a,
          Version);
  AddLeaf(ctx, *m, "status", "version, lease, live nodes, history and steps awaiting cleanup", a,
          StatusCmd);
  sub = AddLeaf(ctx, *m, "plan", "the steps 'migrate up/down --to N' would run", a, PlanCmd);
  a->to_option = AddNumberOption(*sub, "--to", a->to, "target schema N (default: newest)",
                                 int64_t{0}, kMaxSchema)
                     ->type_name("N");
  sub = AddLeaf(ctx, *m, "up", "migrate up to --to N (default: the newest schema)", a, Up);
  RunFlags(sub, *a, false);
  sub = AddLeaf(ctx, *m, "down", "migrate down to --to N", a, Down);
  RunFlags(sub, *a, true);
  sub = AddLeaf(ctx, *m, "cleanup", "drop the old forms kept by applied steps", a, Cleanup);
  RunFlags(sub, *a, false);
  sub = AddLeaf(ctx, *m, "unlock",
                "release the migration lease if free or expired; --force even if held (the "
                "holder is fenced out)",
                a, Unlock);
  sub->add_flag("--force", a->force, "release a lease that is held");
  sub = AddLeaf(ctx, *m, "restore",
                "bring back a backup taken by 'migrate up' (a checkpoint directory or a dump "
                "file) as the store",
                a, Restore);
  sub->add_option("BACKUP", a->backup, "the backup path 'migrate up' printed")->required();
  sub->add_flag("--force", a->force,
                "checkpoint: replace the store even if the backup is of another store");
  sub->add_flag("--keep-replaced", a->keep_replaced,
                "checkpoint: keep the replaced store as PATH.replaced-<time>");
  sub->add_flag("--replace", a->replace, "dump: drop the store's data before importing");
  LeaseOptions(*sub, *a);
}

}  // namespace refkv::cli
