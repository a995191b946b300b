// refkv export/import/dump verify/dump inspect/kv migrate: the file formats
// (format/dump.h, format/sst.h) and store-to-store copy (format/copy.h) on the command
// line. Progress goes to stderr: a live bar when stderr is a terminal, else one final
// summary line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/bytes_format.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/input_path.h"
#include "cli/json.h"
#include "cli/leaf.h"
#include "cli/number_option.h"
#include "engine/open.h"
#include "format/copy.h"
#include "format/dump.h"
#include "format/sst.h"
#include "refstore/schema.h"

namespace refkv::cli {
namespace {

struct FormatArgs {
  std::string format = "dump", output, path, on_conflict = "fail", from, to;
  std::vector<std::string> partitions;
  bool overwrite = false, allow_non_empty = false, allow_older_schema = false, abort = false;
  unsigned threads = 0;  // 0: format::DefaultDumpThreads()
};

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

// Presents format::Progress on stderr.
class ProgressBar {
 public:
  ProgressBar() : live_(isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}
  format::ProgressCallback Callback() {
    return [this](const format::Progress& p) { Update(p); };
  }
  // An export does not know its total; the driver's key estimate (whole store, so only
  // when every partition is exported) stands in for it, shown as "~N".
  void SetEstimatedRecords(uint64_t estimate) { estimate_ = estimate; }
  void Update(format::Progress p) {
    bool estimated = false;
    if (p.total_records == 0 && estimate_ > 0) {
      p.total_records = std::max(estimate_, p.records + 1);
      estimated = true;
    }
    last_ = p;
    phase_ = std::string(p.phase);
    if (!live_) return;
    auto now = Clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? p.records / secs : 0;
    std::string line = "\r" + phase_ + ": " + std::to_string(p.records);
    if (p.total_records > 0) line += (estimated ? "/~" : "/") + std::to_string(p.total_records);
    line += " records, " + HumanBytes(static_cast<double>(p.bytes));
    if (p.total_bytes > 0) line += "/" + HumanBytes(static_cast<double>(p.total_bytes));
    char buf[64];
    std::snprintf(buf, sizeof buf, ", %.0f rec/s", rate);
    line += buf;
    double fraction = p.total_bytes > 0     ? static_cast<double>(p.bytes) / p.total_bytes
                      : p.total_records > 0 ? static_cast<double>(p.records) / p.total_records
                                            : 0;
    if (fraction > 0.001 && fraction < 1) {
      std::snprintf(buf, sizeof buf, ", %3.0f%%, ETA %.0fs", fraction * 100,
                    secs / fraction - secs);
      line += buf;
    }
    std::cerr << line << "\x1b[K" << std::flush;
  }
  // The final line: a summary of what was done.
  void Finish(const std::string& what, uint64_t records, uint64_t bytes) {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    if (live_) std::cerr << "\r\x1b[K";
    char buf[64];
    std::snprintf(buf, sizeof buf, " in %.2fs (%.0f records/s)", secs,
                  secs > 0 ? records / secs : 0.0);
    std::cerr << what << ": " << records << " records, " << HumanBytes(static_cast<double>(bytes))
              << buf << std::endl;
  }
  void Clear() {
    if (live_) std::cerr << "\r\x1b[K" << std::flush;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool live_;
  Clock::time_point start_, last_draw_{};
  format::Progress last_;
  uint64_t estimate_ = 0;
  std::string phase_;
};

// The driver's estimate of the store's key count ("estimated_keys" in Properties), 0
// when it has none.
uint64_t EstimatedKeys(kv::Store& store) {
  for (const auto& p : store.Properties()) {
    if (p.name != "estimated_keys") continue;
    char* end = nullptr;
    unsigned long long n = std::strtoull(p.value.c_str(), &end, 10);
    return end != p.value.c_str() ? n : 0;
  }
  return 0;
}

Status Export(CliContext& ctx, const FormatArgs& a) {
  if (a.format != "dump" && a.format != "sst") {
    return Status::InvalidArgument("--format must be dump or sst, not '" + a.format + "'");
  }
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kRead));
  ProgressBar bar;
  if (a.partitions.empty()) bar.SetEstimatedRecords(EstimatedKeys(*store));
  if (a.format == "dump") {
    format::ExportOptions options;
    options.path = a.output;
    options.partitions = a.partitions;
    options.overwrite = a.overwrite;
    options.threads = a.threads;
    options.progress = bar.Callback();
    auto summary = format::ExportDump(*store, options);
    bar.Clear();
    REFKV_RETURN_IF_ERROR(summary.status());
    bar.Finish("exported " + a.output, summary->info.records, summary->info.file_bytes);
    if (ctx.options().json) {
      ctx.out() << JsonWriter()
                       .StartObject()
                       .Field("format", "dump")
                       .Field("path", EscapeText(a.output))
                       .Field("records", summary->info.records)
                       .Field("partitions", summary->info.partitions.size())
                       .Field("file_bytes", summary->info.file_bytes)
                       .EndObject()
                       .Take()
                << "\n";
    }
    return Status::OK();
  }
  format::SstExportOptions options;
  options.dir = a.output;
  options.partitions = a.partitions;
  options.overwrite = a.overwrite;
  options.progress = bar.Callback();
  auto summary = format::ExportSst(*store, options);
  bar.Clear();
  REFKV_RETURN_IF_ERROR(summary.status());
  bar.Finish("exported " + a.output, summary->manifest.records, summary->file_bytes);
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("format", "sst")
                     .Field("path", EscapeText(a.output))
                     .Field("records", summary->manifest.records)
                     .Field("partitions", summary->manifest.partitions.size())
                     .Field("file_bytes", summary->file_bytes)
                     .EndObject()
                     .Take()
              << "\n";
  }
  return Status::OK();
}

Status Import(CliContext& ctx, const FormatArgs& a) {
  REFKV_ASSIGN_OR_RETURN(format::OnConflict mode, format::ParseOnConflict(a.on_conflict));
  // Before the store is opened (cli/input_path.h): a FIFO would block with the store held.
  REFKV_ASSIGN_OR_RETURN(InputKind kind,
                         CheckInputFile(a.path, true, "a dump file or an SST directory"));
  if (kind == InputKind::kMissing) {
    return Status::NotFound("no dump file or SST directory '" + a.path + "'");
  }
  const bool is_dir = kind == InputKind::kDirectory;
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  const StoreCreation creation = StoreCreation::Before(source.uri);
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kLoad));
  ProgressBar bar;
  Result<format::ImportSummary> summary = Status::OK();
  if (is_dir) {
    format::SstImportOptions options;
    options.on_conflict = mode;
    options.allow_older_schema = a.allow_older_schema;
    options.abort = a.abort;
    options.progress = bar.Callback();
    summary = format::ImportSst(a.path, *store, options);
  } else {
    format::ImportOptions options;
    options.on_conflict = mode;
    options.allow_older_schema = a.allow_older_schema;
    options.threads = a.threads;
    options.abort = a.abort;
    options.progress = bar.Callback();
    summary = format::ImportDump(a.path, *store, options);
  }
  bar.Clear();
  if (!summary.ok()) {
    // A failed import leaves no store it created (an empty one, or a partial one).
    (void)ctx.CloseStore();
    creation.Undo();
    return summary.status();
  }
  if (a.abort) {
    ctx.out() << "rolled back the unfinished import of " << a.path << ": removed "
              << summary->removed << " records\n";
    return Status::OK();
  }
  bar.Finish("imported " + a.path, summary->written, summary->info.file_bytes);
  if (summary->schema_set != 0) {
    std::cerr << "refkv: note: the store is now at schema " << summary->schema_set
              << ", the file's; run `refkv migrate up` to bring it to schema "
              << refstore::kCodeSchema << " (until then other commands refuse it)\n";
  }
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Field("written", summary->written)
                     .Field("skipped", summary->skipped)
                     .Field("skipped_meta", summary->skipped_meta)
                     .Field("ingested", summary->ingested)
                     .EndObject()
                     .Take()
              << "\n";
  } else {
    ctx.out() << "written " << summary->written << ", skipped " << summary->skipped << "\n";
  }
  return Status::OK();
}

void InfoOut(CliContext& ctx, const format::DumpInfo& info) {
  std::ostream& out = ctx.out();
  const auto& h = info.header;
  if (ctx.options().json) {
    JsonWriter j(ctx.options().hex);
    j.StartObject()
        .Field("format_version", h.format_version)
        .Field("store_format_version", h.store_format_version)
        .Field("schema_version", h.schema_version)
        .Field("created_at", h.created_at)
        .Field("refkv_version", EscapeText(h.refkv_version))
        .Field("source_driver", EscapeText(h.source_driver))
        .Field("store_id", EscapeText(h.store_id))
        .Field("records", info.records)
        .Field("blocks", info.blocks)
        .Field("uncompressed_bytes", info.uncompressed_bytes)
        .Field("file_bytes", info.file_bytes)
        .Key("partitions")
        .StartArray();
    for (const auto& p : info.partitions) {
      j.StartObject()
          .Bytes("name", p.name)
          .Field("records", p.records)
          .Field("record_bytes", p.record_bytes)
          .EndObject();
    }
    out << j.EndArray().EndObject().Take() << "\n";
    return;
  }
  out << "format_version " << h.format_version << "\nschema_version " << h.schema_version
      << "\nsource_driver " << h.source_driver << "\nrefkv_version " << h.refkv_version
      << "\nstore_id " << h.store_id << "\nrecords " << info.records << "\nblocks " << info.blocks
      << "\nfile_bytes " << info.file_bytes << "\n";
  for (const auto& p : info.partitions) {
    out << "partition " << ctx.TextBytes(p.name) << "\t" << p.records << " records\n";
  }
}

Status DumpVerify(CliContext& ctx, const FormatArgs& a) {
  REFKV_RETURN_IF_ERROR(CheckInputFile(a.path, false, "a dump file").status());
  ProgressBar bar;
  auto info = format::VerifyDump(a.path, bar.Callback(), {}, a.threads);
  bar.Clear();
  REFKV_RETURN_IF_ERROR(info.status());
  if (ctx.options().json) {
    InfoOut(ctx, *info);
  } else {
    ctx.out() << "ok: " << a.path << ": " << info->records << " records in "
              << info->partitions.size() << " partitions\n";
  }
  return Status::OK();
}

Status DumpInspect(CliContext& ctx, const FormatArgs& a) {
  REFKV_RETURN_IF_ERROR(CheckInputFile(a.path, false, "a dump file").status());
  REFKV_ASSIGN_OR_RETURN(format::DumpInfo info, format::InspectDump(a.path));
  InfoOut(ctx, info);
  return Status::OK();
}

Status Migrate(CliContext& ctx, const FormatArgs& a) {
  // The source may be at any schema this code knows (CopyStore compares both sides'
  // schemas); a new target starts at the ref store's newest.
  kv::OpenOptions read_options;
  read_options.create_if_missing = false;
  read_options.read_only = true;
  read_options.code_schema_version = refstore::kCodeSchema;
  read_options.allow_older_schema = true;
  auto source = kv::Open(a.from, read_options);
  if (!source.ok()) return source.status().WithContext("cannot open --from '" + a.from + "'");
  kv::OpenOptions write_options;
  write_options.code_schema_version = refstore::kCodeSchema;
  write_options.allow_pending_load = true;  // a copy interrupted before: this run finishes it
  auto target = kv::Open(a.to, write_options);
  if (!target.ok()) return target.status().WithContext("cannot open --to '" + a.to + "'");
  ProgressBar bar;
  format::CopyOptions options;
  options.partitions = a.partitions;
  options.allow_non_empty_target = a.allow_non_empty;
  options.source_name = a.from;
  options.target_name = a.to;
  options.progress = bar.Callback();
  auto summary = format::CopyStore(**source, **target, options);
  bar.Clear();
  Status closed = (*target)->Close();
  (void)(*source)->Close();
  REFKV_RETURN_IF_ERROR(summary.status());
  REFKV_RETURN_IF_ERROR(closed);
  bar.Finish("copied", summary->records, summary->bytes);
  std::ostream& out = ctx.out();
  bool all_match = true;
  JsonWriter j(ctx.options().hex);
  if (ctx.options().json) {
    j.StartObject().Field("records", summary->records).Key("partitions").StartArray();
  } else {
    out << "partition\tsource_records\ttarget_records\tchecksum\tmatch\n";
  }
  for (size_t i = 0; i < summary->checks.size(); ++i) {
    const auto& c = summary->checks[i];
    all_match = all_match && c.match();
    char sum[24];
    std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(c.source.checksum));
    if (ctx.options().json) {
      j.StartObject()
          .Bytes("name", c.name)
          .Field("source_records", c.source.records)
          .Field("target_records", c.target.records)
          .Field("match", c.match())
          .EndObject();
    } else {
      out << ctx.TextBytes(c.name) << "\t" << c.source.records << "\t" << c.target.records << "\t"
          << sum << "\t" << (c.match() ? "ok" : "MISMATCH") << "\n";
    }
  }
  if (ctx.options().json) out << j.EndArray().EndObject().Take() << "\n";
  if (!all_match) return Status::Corruption("kv migrate: the target differs from the source");
  return Status::OK();
}

}  // namespace

void AddFormatCommands(CLI::App& app, CliContext& ctx) {
  std::shared_ptr<FormatArgs> a;
  CLI::App* sub;
  sub = AddLeaf(ctx, app, "export",
                "write the store's partitions to a dump file or an SST directory (-o PATH)", a,
                Export);
  sub->add_option("--format", a->format, "dump (one file) or sst (a directory)")
      ->type_name("dump|sst");
  sub->add_option("-o,--output", a->output, "the file or directory to write")
      ->type_name("PATH")
      ->required();
  sub->add_option("--partition", a->partitions, "only this partition (repeatable)")->type_name("P");
  sub->add_flag("--overwrite", a->overwrite,
                "replace PATH if it exists (sst: only a directory holding an SST export and "
                "nothing else)");
  AddNumberOption(*sub, "--threads", a->threads,
                  "dump: blocks compressed in parallel (default: the number of cores, at most "
                  "8; 1: no worker threads); the file is the same whatever the count",
                  0u, format::kMaxDumpThreads)
      ->type_name("N");

  sub = AddLeaf(ctx, app, "import",
                "load a dump file or an SST directory into the store; a bad file names the "
                "offset or block and writes nothing",
                a, Import);
  sub->add_option("PATH", a->path, "dump file or SST directory")->required();
  sub->add_option("--on-conflict", a->on_conflict,
                  "when a key exists: fail (import nothing), skip, overwrite")
      ->type_name("fail|skip|overwrite");
  sub->add_flag("--allow-older-schema", a->allow_older_schema,
                "accept a file written at an older schema (into a store holding no data)");
  sub->add_flag("--abort", a->abort,
                "roll back an interrupted import of PATH that ran with --on-conflict fail "
                "(delete its keys) instead of finishing it");
  AddNumberOption(*sub, "--threads", a->threads,
                  "dump: blocks checked and decompressed in parallel (default: the number of "
                  "cores, at most 8)",
                  0u, format::kMaxDumpThreads)
      ->type_name("N");

  CLI::App* dump = app.add_subcommand("dump", "dump files");
  dump->require_subcommand(1);
  sub = AddLeaf(ctx, *dump, "verify", "check every block and checksum of FILE (exit 1 if bad)", a,
                DumpVerify);
  sub->add_option("FILE", a->path)->required();
  AddNumberOption(*sub, "--threads", a->threads,
                  "blocks checked and decompressed in parallel (default: the number of cores, at "
                  "most 8)",
                  0u, format::kMaxDumpThreads)
      ->type_name("N");
  sub = AddLeaf(ctx, *dump, "inspect", "the header and partitions of FILE", a, DumpInspect);
  sub->add_option("FILE", a->path)->required();

  // `kv migrate` joins the kv group.
  CLI::App* kv = app.get_subcommand("kv");
  sub = AddLeaf(ctx, *kv, "migrate",
                "copy every partition from --from URI to --to URI, then verify both sides "
                "(table of records and checksums; exit 1 on a mismatch)",
                a, Migrate);
  sub->add_option("--from", a->from, "source store URI")->type_name("URI")->required();
  sub->add_option("--to", a->to, "target store URI")->type_name("URI")->required();
  sub->add_flag("--allow-non-empty", a->allow_non_empty, "the target may hold data already");
  sub->add_option("--partition", a->partitions, "only this partition (repeatable)")->type_name("P");
}

}  // namespace refkv::cli
