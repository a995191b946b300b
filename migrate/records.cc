#include "migrate/records.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <variant>

#include "base/hex.h"
#include "base/random.h"

namespace refkv::kv::migrate {
namespace {

std::string Escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (c == '%' || c == '=' || c < 0x20 || c >= 0x7f) {
      out += '%';
      AppendHexByte(&out, c, HexCase::kUpper);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool Unescape(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexDigitValue(in[i + 1]), lo = HexDigitValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// "name=value" lines after the first line.
class Fields {
 public:
  void Add(std::string_view name, std::string_view value) {
    text_ += std::string(name) + "=" + Escape(value) + "\n";
  }
  void Add(std::string_view name, int64_t value) { Add(name, std::to_string(value)); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

struct Parsed {
  std::string record;  // what is being parsed, for messages
  std::string first_line;
  std::map<std::string, std::string> fields;

  Status Error(std::string_view what) const {
    return Status::Corruption("migration record '" + record + "' in partition '" +
                              std::string(kMetaPartition) + "': " + std::string(what));
  }
  Result<std::string> Str(const std::string& name) const {
    auto it = fields.find(name);
    if (it == fields.end()) return Error("field '" + name + "' missing");
    return it->second;
  }
  std::string StrOr(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
  Result<int64_t> Int(const std::string& name) const {
    REFKV_ASSIGN_OR_RETURN(std::string text, Str(name));
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return Error("field '" + name + "' is not an integer: '" + Printable(text) + "'");
    }
    return v;
  }
};

Result<Parsed> Parse(std::string_view record, std::string_view text) {
  Parsed p;
  p.record = std::string(record);
  size_t pos = text.find('\n');
  p.first_line = std::string(text.substr(0, pos));
  while (pos != std::string_view::npos && pos + 1 < text.size()) {
    size_t next = text.find('\n', pos + 1);
    std::string_view line = text.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    pos = next;
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return p.Error("line without '=': " + Printable(line));
    std::string value;
    if (!Unescape(line.substr(eq + 1), &value)) {
      return p.Error("bad escape in: " + Printable(line));
    }
    p.fields[std::string(line.substr(0, eq))] = std::move(value);
  }
  return p;
}

}  // namespace

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kUp:
      return "up";
    case Direction::kDown:
      return "down";
    case Direction::kCleanup:
      return "cleanup";
  }
  return "?";
}

Result<Direction> ParseDirection(std::string_view name) {
  if (name == "up") return Direction::kUp;
  if (name == "down") return Direction::kDown;
  if (name == "cleanup") return Direction::kCleanup;
  return Status::Corruption("migration record: unknown direction '" + Printable(name) + "'");
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string NewRandomId() { return HexUint64(ThreadRng()()); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HistoryKey(int64_t seq) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%012lld", static_cast<long long>(seq));
  return std::string(kHistoryPrefix) + buf;
}

std::string KeptKey(std::string_view step_id) {
  return std::string(kKeptPrefix) + std::string(step_id);
}

namespace {

// One field of a record kind: its name, the member it holds, and whether decoding
// requires it (integers always are; an absent optional string decodes as "").
template <typename R>
struct FieldSpec {
  std::string_view name;
  std::variant<int64_t R::*, std::string R::*, Direction R::*> member;
  bool required = true;
};

template <typename R>
using FieldTable = std::initializer_list<FieldSpec<R>>;

template <typename R>
void EncodeFields(const R& r, FieldTable<R> table, Fields* f) {
  for (const auto& spec : table) {
    if (auto* i = std::get_if<int64_t R::*>(&spec.member)) {
      f->Add(spec.name, r.**i);
    } else if (auto* s = std::get_if<std::string R::*>(&spec.member)) {
      f->Add(spec.name, std::string_view(r.**s));
    } else {
      f->Add(spec.name, DirectionName(r.*std::get<Direction R::*>(spec.member)));
    }
  }
}

template <typename R>
Status DecodeFields(const Parsed& p, FieldTable<R> table, R* r) {
  for (const auto& spec : table) {
    const std::string name(spec.name);
    if (auto* i = std::get_if<int64_t R::*>(&spec.member)) {
      REFKV_ASSIGN_OR_RETURN(r->**i, p.Int(name));
    } else if (auto* s = std::get_if<std::string R::*>(&spec.member)) {
      if (spec.required) {
        REFKV_ASSIGN_OR_RETURN(r->**s, p.Str(name));
      } else {
        r->** s = p.StrOr(name);
      }
    } else {
      REFKV_ASSIGN_OR_RETURN(std::string dir, p.Str(name));
      REFKV_ASSIGN_OR_RETURN(r->*std::get<Direction R::*>(spec.member), ParseDirection(dir));
    }
  }
  return Status::OK();
}

using S = MigrationState;
// Every state record; then, while migrating, the step's.
const FieldTable<S> kStateFields = {{"epoch", &S::epoch}, {"holder", &S::holder, false}};
const FieldTable<S> kStepFields = {{"step", &S::step_id},
                                   {"from", &S::from},
                                   {"to", &S::to},
                                   {"direction", &S::direction},
                                   {"cursor", &S::cursor},
                                   {"rows_done", &S::rows_done},
                                   {"rows_total", &S::rows_total},
                                   {"started_ms", &S::started_ms},
                                   {"seq", &S::seq},
                                   {"backup", &S::backup, false}};

using L = LeaseInfo;
const FieldTable<L> kLeaseFields = {{"holder", &L::holder_id, false},
                                    {"host", &L::host, false},
                                    {"pid", &L::pid},
                                    {"epoch", &L::epoch},
                                    {"expiry_ms", &L::expiry_ms},
                                    {"ttl_ms", &L::ttl_ms},
                                    {"code_version", &L::code_version, false}};

using H = HistoryEntry;
const FieldTable<H> kHistoryFields = {{"seq", &H::seq},
                                      {"step", &H::step_id},
                                      {"from", &H::from},
                                      {"to", &H::to},
                                      {"direction", &H::direction},
                                      {"code_version", &H::code_version, false},
                                      {"started_ms", &H::started_ms},
                                      {"finished_ms", &H::finished_ms},
                                      {"rows", &H::rows},
                                      {"backup", &H::backup, false},
                                      {"fingerprint", &H::fingerprint},
                                      {"holder", &H::holder, false}};

}  // namespace

std::string EncodeState(const MigrationState& s) {
  Fields f;
  EncodeFields(s, kStateFields, &f);
  if (!s.migrating) return "ready\n" + f.text();
  EncodeFields(s, kStepFields, &f);
  // The first line is what kv::Open prints when it refuses a store mid-migration.
  return "migrating " + std::string(DirectionName(s.direction)) + " " + std::to_string(s.from) +
         "->" + std::to_string(s.to) + " step " + Escape(s.step_id) + "\n" + f.text();
}

Result<MigrationState> DecodeState(std::string_view text) {
  REFKV_ASSIGN_OR_RETURN(Parsed p, Parse(kStateKey, text));
  MigrationState s;
  REFKV_RETURN_IF_ERROR(DecodeFields(p, kStateFields, &s));
  if (p.first_line == "ready") return s;
  if (p.first_line.rfind("migrating", 0) != 0) {
    return p.Error("unknown state '" + Printable(p.first_line) + "'");
  }
  s.migrating = true;
  REFKV_RETURN_IF_ERROR(DecodeFields(p, kStepFields, &s));
  return s;
}

std::string EncodeLease(const LeaseInfo& l) {
  Fields f;
  EncodeFields(l, kLeaseFields, &f);
  return (l.holder_id.empty() ? "lease released\n" : "lease held\n") + f.text();
}

Result<LeaseInfo> DecodeLease(std::string_view text) {
  REFKV_ASSIGN_OR_RETURN(Parsed p, Parse(kLeaseKey, text));
  LeaseInfo l;
  REFKV_RETURN_IF_ERROR(DecodeFields(p, kLeaseFields, &l));
  return l;
}

std::string EncodeHistory(const HistoryEntry& e) {
  Fields f;
  EncodeFields(e, kHistoryFields, &f);
  return std::string(DirectionName(e.direction)) + " " + std::to_string(e.from) + "->" +
         std::to_string(e.to) + " " + Escape(e.step_id) + "\n" + f.text();
}

Result<HistoryEntry> DecodeHistory(std::string_view text) {
  REFKV_ASSIGN_OR_RETURN(Parsed p, Parse("migration/history", text));
  HistoryEntry e;
  REFKV_RETURN_IF_ERROR(DecodeFields(p, kHistoryFields, &e));
  return e;
}

std::string NodeKey(std::string_view node_id) {
  return std::string(kNodePrefix) + std::string(node_id);
}

std::string EncodeNode(const NodeInfo& n) {
  Fields f;
  f.Add("node", n.node_id);
  f.Add("host", n.host);
  f.Add("pid", n.pid);
  f.Add("code_schema", n.code_schema);
  f.Add("code_version", n.code_version);
  f.Add("role", n.role);
  f.Add("started_ms", n.started_ms);
  f.Add("beat_ms", n.beat_ms);
  f.Add("interval_ms", n.interval_ms);
  f.Add("ttl_ms", n.ttl_ms);
  f.Add("fenced", n.fenced);
  return (n.fenced.empty() ? "node\n" : "node fenced\n") + f.text();
}

Result<NodeInfo> DecodeNode(std::string_view key, std::string_view text) {
  REFKV_ASSIGN_OR_RETURN(Parsed p, Parse(key, text));
  NodeInfo n;
  REFKV_ASSIGN_OR_RETURN(n.node_id, p.Str("node"));
  n.host = p.StrOr("host");
  REFKV_ASSIGN_OR_RETURN(n.pid, p.Int("pid"));
  REFKV_ASSIGN_OR_RETURN(n.code_schema, p.Int("code_schema"));
  n.code_version = p.StrOr("code_version");
  n.role = p.StrOr("role");
  REFKV_ASSIGN_OR_RETURN(n.started_ms, p.Int("started_ms"));
  REFKV_ASSIGN_OR_RETURN(n.beat_ms, p.Int("beat_ms"));
  REFKV_ASSIGN_OR_RETURN(n.interval_ms, p.Int("interval_ms"));
  REFKV_ASSIGN_OR_RETURN(n.ttl_ms, p.Int("ttl_ms"));
  n.fenced = p.StrOr("fenced");
  return n;
}

std::string NodeInfo::ToString(int64_t now_ms) const {
  return "node " + node_id + " (host " + host + ", pid " + std::to_string(pid) + ", refkv " +
         code_version + ", code schema " + std::to_string(code_schema) +
         (role.empty() ? "" : ", " + role) + "), last beat " + std::to_string(now_ms - beat_ms) +
         " ms ago (ttl " + std::to_string(ttl_ms) + " ms)" +
         (fenced.empty() ? "" : ", fenced: " + fenced);
}

std::string MigrationState::ToString() const {
  if (!migrating) return "ready";
  return "migrating " + std::string(DirectionName(direction)) + " " + std::to_string(from) + "->" +
         std::to_string(to) + " (step '" + step_id + "', " + std::to_string(rows_done) + "/" +
         std::to_string(rows_total) + " rows, cursor '" + Printable(cursor) + "')";
}

std::string LeaseInfo::ToString() const {
  if (holder_id.empty()) return "released (epoch " + std::to_string(epoch) + ")";
  int64_t left = expiry_ms - NowMs();
  return "holder " + holder_id + " (host " + host + ", pid " + std::to_string(pid) + ", refkv " +
         code_version + "), epoch " + std::to_string(epoch) + ", expires " +
         (left >= 0 ? "in " + std::to_string(left) + " ms" : std::to_string(-left) + " ms ago") +
         " (ttl " + std::to_string(ttl_ms) + " ms)";
}

}  // namespace refkv::kv::migrate
