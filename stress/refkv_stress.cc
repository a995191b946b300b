// refkv_stress: one trial of the crash campaign (scripts/stress runs many). A seeded random
// workload from several threads over the public APIs of a rocks store and the ref store on
// it, an expected-state oracle outside the store, and the check after an interruption.
//
//   refkv_stress --dir D --seed S [--threads T] [--ops N] [--mapping cf|shared]
//                [--interrupt none|power|error|kill]
//
// Each trial: opens rocks://D/db (creating it) on the fault-injecting file system
// (tests/support/fault_fs.h); if D/oracle exists, verifies the store against it (the
// previous trial was interrupted: killed by the runner, a simulated power loss, or I/O
// errors), runs refstore::Check and the cleaner, and writes the state it found as the new
// baseline; then runs the workload, interrupted as asked:
//   power  at a random moment: the power goes off, unsynced data is dropped (torn, half
//          the time), the process _exits;
//   error  an EIO or ENOSPC at a random file operation (once or from then on); the
//          workload goes on through the errors, then closes;
//   kill   the process SIGKILLs itself at a random moment (the runner also kills from
//          outside);
//   none   the workload runs to its end.
//
// The oracle (D/oracle, one line per event, each written with one write(2) before the
// call it describes returns to the workload): an intent line before each call, an ack
// line after it succeeded. Durability verified (engine/rocks/rocks_store.h,
// refstore/refstore.h): after a kill every acknowledged write is there; after a power
// loss every write acknowledged before a Store::Sync that returned OK, and every commit,
// tag and branch change (the ref store runs with sync_commits); a key holds its last
// durable value or the value of a later attempt, never anything else; a batch is whole
// or absent; a branch head's entries all come from one commit (a commit is whole).
//
// Not in the workload yet: merges and reverts (being built), export/import, schema steps,
// PostgreSQL.
//
// Exit codes: 0 verified (and the workload ran); 1 a verification failure (one line each
// on stderr: LOST, WRONG, HALF, CHECK); 2 bad usage or a setup error; 3 the store does not
// open after the interruption (it would need a manual step).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/open.h"
#include "engine/store.h"
#include "refstore/check.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"
#include "tests/support/fault_fs.h"

namespace refkv::stress {
namespace {

constexpr const char* kRepo = "stress";
constexpr const char* kKvPart = "kv";
constexpr const char* kBatchPart = "batch";
constexpr int kKeysPerThread = 40;
constexpr int kFilesPerCommit = 5;

struct Args {
  std::string dir;
  uint64_t seed = 1;
  int threads = 4;
  int ops = 400;
  std::string mapping = "cf";
  std::string interrupt = "none";
};

// The oracle file: lines appended with one write(2) each (O_APPEND), so a line is whole
// or absent whatever kills the process.
class Oracle {
 public:
  explicit Oracle(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  ~Oracle() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void Line(const std::string& line) {
    std::string l = line + "\n";
    if (::write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) {
      std::fprintf(stderr, "refkv_stress: cannot write the oracle\n");
      _exit(2);
    }
  }

 private:
  int fd_ = -1;
};

std::string KvKey(int tid, int k) {
  return std::string("t") + std::to_string(tid) + ".k" + std::to_string(k);
}
std::string Branch(int tid) { return std::string("t") + std::to_string(tid); }
std::string FilePath(int f) { return std::string("f") + std::to_string(f); }

// ---- verification ----------------------------------------------------------------------

struct Verifier {
  kv::Store& store;
  refstore::RefStore& refs;
  int failures = 0;
  void Fail(const std::string& kind, const std::string& what) {
    ++failures;
    std::fprintf(stderr, "%s %s\n", kind.c_str(), what.c_str());
  }
};

// What the oracle says, parsed.
struct Intent {
  char kind = 0;  // 'K' kv set/delete, 'W' batch, 'C' commit, 'T' tag, 'X' branch op
  long pos = 0;   // line number of the intent
  long ack = -1;  // line number of the ack, -1 if none
  std::string a, b;
};

struct OracleState {
  std::map<std::string, std::string> base_kv;  // key -> value ("" = absent) at the baseline
  std::map<int, int64_t> base_gen;             // thread -> head generation at the baseline
  std::map<std::string, bool> base_branches;   // extra branch -> exists at the baseline
  int64_t run = 0;
  std::vector<Intent> intents;
  long durable_pos = -1;  // acks before this line survive a power loss (kv writes)
  bool power_lost = false;
};

OracleState ReadOracle(const std::string& path) {
  OracleState st;
  std::ifstream in(path);
  std::string line;
  std::map<std::string, size_t> by_id;  // "tid:seq" -> intent index
  std::map<std::string, long> sync_begin;
  long pos = 0;
  while (std::getline(in, line)) {
    ++pos;
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "R") {
      ls >> st.run;
    } else if (tag == "BK") {
      std::string key, value;
      ls >> key >> value;
      st.base_kv[key] = value == "-" ? "" : value;
    } else if (tag == "BG") {
      int tid = 0;
      int64_t gen = 0;
      ls >> tid >> gen;
      st.base_gen[tid] = gen;
    } else if (tag == "BX") {
      std::string name;
      int exists = 0;
      ls >> name >> exists;
      st.base_branches[name] = exists != 0;
    } else if (tag == "I") {
      std::string id, kind;
      Intent intent;
      ls >> id >> kind >> intent.a >> intent.b;
      intent.kind = kind[0];
      intent.pos = pos;
      by_id[id] = st.intents.size();
      st.intents.push_back(intent);
    } else if (tag == "A") {
      std::string id;
      ls >> id;
      auto it = by_id.find(id);
      if (it != by_id.end()) st.intents[it->second].ack = pos;
    } else if (tag == "SB") {
      std::string id;
      ls >> id;
      sync_begin[id] = pos;
    } else if (tag == "SA") {
      std::string id;
      ls >> id;
      auto it = sync_begin.find(id);
      if (it != sync_begin.end()) st.durable_pos = std::max(st.durable_pos, it->second);
    } else if (tag == "P") {
      st.power_lost = true;
    }
  }
  return st;
}

bool Durable(const OracleState& st, const Intent& intent, bool commit_like) {
  if (intent.ack < 0) return false;
  if (!st.power_lost || commit_like) return true;
  return intent.ack < st.durable_pos;
}

// Verifies and returns the baseline lines for the next trial.
std::vector<std::string> Verify(Verifier& v, const OracleState& st, int threads) {
  std::vector<std::string> baseline;
  // KV keys: the last durable value, or a later attempt's.
  std::map<std::string, std::vector<const Intent*>> per_key;
  for (const Intent& i : st.intents) {
    if (i.kind == 'K') per_key[i.a].push_back(&i);
  }
  std::set<std::string> keys;
  for (const auto& [k, value] : st.base_kv) keys.insert(k);
  for (const auto& [k, list] : per_key) keys.insert(k);
  for (const std::string& key : keys) {
    std::set<std::string> allowed;
    auto base = st.base_kv.find(key);
    std::string last = base == st.base_kv.end() ? "" : base->second;
    const auto& list = per_key[key];
    size_t from = 0;
    for (size_t j = 0; j < list.size(); ++j) {
      if (Durable(st, *list[j], false)) {
        last = list[j]->b == "-" ? "" : list[j]->b;
        from = j + 1;
      }
    }
    allowed.insert(last);
    for (size_t j = from; j < list.size(); ++j) allowed.insert(list[j]->b == "-" ? "" : list[j]->b);
    Result<std::string> got = v.store.Get(kKvPart, key);
    std::string actual;
    if (got.ok()) {
      actual = *got;
    } else if (!got.status().IsNotFound()) {
      v.Fail("WRONG", "kv " + key + ": " + got.status().ToString());
      continue;
    }
    if (!allowed.count(actual)) {
      v.Fail(last.empty() || actual.empty() ? "LOST" : "WRONG",
             "kv " + key + " = '" + actual + "', expected '" + last + "' or a later attempt");
    }
    baseline.push_back("BK " + key + " " + (actual.empty() ? "-" : actual));
  }
  // Batches: whole or absent; durable ones present.
  for (const Intent& i : st.intents) {
    if (i.kind != 'W') continue;
    int present = 0;
    for (int j = 0; j < 4; ++j) {
      Result<std::string> got = v.store.Get(kBatchPart, i.a + "." + std::to_string(j));
      if (got.ok() && *got == i.b) ++present;
    }
    if (present != 0 && present != 4)
      v.Fail("HALF", "batch " + i.a + ": " + std::to_string(present) + " of 4 keys");
    if (present == 0 && Durable(st, i, false)) v.Fail("LOST", "batch " + i.a);
  }
  // Commits: each thread's branch head holds one whole commit, at least the last acked one.
  for (int tid = 0; tid < threads; ++tid) {
    int64_t min_gen = st.base_gen.count(tid) ? st.base_gen.at(tid) : 0;
    int64_t max_gen = min_gen;
    for (const Intent& i : st.intents) {
      if (i.kind != 'C' || std::stoi(i.a) != tid) continue;
      int64_t gen = std::stoll(i.b);
      max_gen = std::max(max_gen, gen);
      if (Durable(st, i, true)) min_gen = std::max(min_gen, gen);
    }
    int64_t head_gen = 0;
    Result<refstore::BranchInfo> branch = v.refs.GetBranch(kRepo, Branch(tid));
    if (!branch.ok()) {
      if (min_gen > 0) v.Fail("LOST", "branch " + Branch(tid) + ": " + branch.status().ToString());
      continue;
    }
    Result<refstore::EntryPage> page = v.refs.ListEntries(kRepo, branch->commit_id);
    if (!page.ok()) {
      v.Fail("WRONG", "entries of " + Branch(tid) + ": " + page.status().ToString());
      continue;
    }
    std::set<std::string> values;
    for (const refstore::Entry& e : page->entries) values.insert(e.value);
    if (!page->entries.empty()) {
      if (values.size() != 1 || page->entries.size() != kFilesPerCommit) {
        v.Fail("HALF", "branch " + Branch(tid) + " head " + branch->commit_id + ": " +
                           std::to_string(page->entries.size()) + " entries, " +
                           std::to_string(values.size()) + " generations");
      } else {
        head_gen = std::stoll(values.begin()->substr(1));
      }
    }
    if (head_gen < min_gen || head_gen > max_gen) {
      v.Fail("LOST", "branch " + Branch(tid) + " head generation " + std::to_string(head_gen) +
                         ", acknowledged " + std::to_string(min_gen));
    }
    baseline.push_back("BG " + std::to_string(tid) + " " + std::to_string(head_gen));
  }
  // Tags: acknowledged ones exist and name a whole commit of their generation.
  for (const Intent& i : st.intents) {
    if (i.kind != 'T' || !Durable(st, i, true)) continue;
    Result<refstore::TagInfo> tag = v.refs.GetTag(kRepo, i.a);
    if (!tag.ok()) {
      v.Fail("LOST", "tag " + i.a + ": " + tag.status().ToString());
      continue;
    }
    Result<refstore::EntryPage> page = v.refs.ListEntries(kRepo, tag->commit_id);
    if (!page.ok() || page->entries.size() != kFilesPerCommit) {
      v.Fail("HALF", "tag " + i.a + " commit " + tag->commit_id);
      continue;
    }
    for (const refstore::Entry& e : page->entries) {
      if (e.value != "g" + i.b) v.Fail("WRONG", "tag " + i.a + " " + e.path + " = " + e.value);
    }
  }
  // Extra branches: the last durable create/delete, or a later attempt.
  std::map<std::string, std::set<bool>> allowed_branch;
  std::map<std::string, bool> last_branch = st.base_branches;
  std::map<std::string, std::vector<const Intent*>> per_branch;
  for (const Intent& i : st.intents) {
    if (i.kind == 'X') per_branch[i.a].push_back(&i);
  }
  std::set<std::string> names;
  for (const auto& [n, e] : st.base_branches) names.insert(n);
  for (const auto& [n, l] : per_branch) names.insert(n);
  for (const std::string& name : names) {
    bool last = last_branch.count(name) ? last_branch[name] : false;
    const auto& list = per_branch[name];
    size_t from = 0;
    for (size_t j = 0; j < list.size(); ++j) {
      if (Durable(st, *list[j], true)) {
        last = list[j]->b == "+";
        from = j + 1;
      }
    }
    std::set<bool> allowed{last};
    for (size_t j = from; j < list.size(); ++j) allowed.insert(list[j]->b == "+");
    Result<refstore::BranchInfo> got = v.refs.GetBranch(kRepo, name);
    if (!got.ok() && !got.status().IsNotFound()) {
      v.Fail("WRONG", "branch " + name + ": " + got.status().ToString());
      continue;
    }
    if (!allowed.count(got.ok())) {
      v.Fail("LOST", "branch " + name + (got.ok() ? " exists" : " missing"));
    }
    baseline.push_back("BX " + name + " " + (got.ok() ? "1" : "0"));
  }
  return baseline;
}

// ---- workload --------------------------------------------------------------------------

struct Counters {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> errors{0};
};

void Worker(int tid, const Args& args, int64_t run, kv::Store& store, refstore::RefStore& refs,
            Oracle& oracle, Counters& counters, std::atomic<bool>& stop) {
  std::mt19937_64 rng(args.seed * 1000003 + run * 131 + tid);
  int64_t gen = run * 1000000;
  std::string last_commit;
  int64_t last_gen = 0;
  uint64_t seq = 0;
  auto id = [&] { return std::to_string(tid) + ":" + std::to_string(++seq); };
  auto ack = [&](const std::string& op_id, const Status& s) {
    if (s.ok()) {
      oracle.Line("A " + op_id);
      ++counters.acked;
    } else {
      ++counters.errors;
    }
  };
  for (int op = 0; op < args.ops && !stop; ++op) {
    unsigned r = rng() % 100;
    if (r < 40) {
      std::string key = KvKey(tid, static_cast<int>(rng() % kKeysPerThread));
      bool del = rng() % 5 == 0;
      std::string value = std::string("v") + std::to_string(run) + std::string(".") +
                          std::to_string(tid) + "." + std::to_string(op);
      std::string op_id = id();
      oracle.Line("I " + op_id + " K " + key + " " + (del ? "-" : value));
      ack(op_id, del ? store.Delete(kKvPart, key) : store.Set(kKvPart, key, value));
    } else if (r < 50) {
      std::string name = std::string("t") + std::to_string(tid) + std::string(".r") +
                         std::to_string(run) + ".o" + std::to_string(op);
      std::string value = std::string("b") + std::to_string(op);
      kv::WriteBatch batch;
      for (int j = 0; j < 4; ++j) batch.Put(name + "." + std::to_string(j), value);
      std::string op_id = id();
      oracle.Line("I " + op_id + " W " + name + " " + value);
      ack(op_id, store.Write(kBatchPart, batch));
    } else if (r < 56) {
      std::string op_id = id();
      oracle.Line("SB " + op_id);
      Status s = store.Sync();
      if (s.ok()) oracle.Line("SA " + op_id);
    } else if (r < 82) {
      ++gen;
      bool staged = true;
      for (int f = 0; f < kFilesPerCommit && staged; ++f) {
        staged =
            refs.PutEntry(kRepo, Branch(tid), FilePath(f), std::string("g") + std::to_string(gen))
                .ok();
      }
      if (!staged) {
        ++counters.errors;
        continue;
      }
      std::string op_id = id();
      oracle.Line("I " + op_id + " C " + std::to_string(tid) + " " + std::to_string(gen));
      Result<refstore::CommitResult> c = refs.Commit(
          kRepo, Branch(tid),
          refstore::CommitRequest{"stress", std::string("g") + std::to_string(gen), {}, {}});
      if (c.ok() && c->outcome == refstore::CommitResult::Outcome::kCommitted) {
        last_commit = c->commit.id;
        last_gen = gen;
      }
      ack(op_id, c.status());
    } else if (r < 88) {
      if (last_commit.empty()) continue;
      std::string name = std::string("t") + std::to_string(tid) + "-g" + std::to_string(last_gen);
      std::string op_id = id();
      oracle.Line("I " + op_id + " T " + name + " " + std::to_string(last_gen));
      Result<refstore::TagInfo> t = refs.CreateTag(kRepo, name, last_commit);
      ack(op_id, t.ok() || t.status().IsAlreadyExists() ? Status::OK() : t.status());
    } else if (r < 96) {
      std::string name = std::string("t") + std::to_string(tid) + "-x" + std::to_string(rng() % 3);
      bool create = rng() % 2 == 0;
      std::string op_id = id();
      oracle.Line("I " + op_id + " X " + name + " " + (create ? "+" : "-"));
      Status s;
      if (create) {
        Result<refstore::BranchInfo> b = refs.CreateBranch(kRepo, name, Branch(tid));
        s = b.ok() || b.status().IsAlreadyExists() ? Status::OK() : b.status();
      } else {
        s = refs.DeleteBranch(kRepo, name);
        if (s.IsNotFound()) s = Status::OK();
      }
      ack(op_id, s);
    } else {
      Result<refstore::GcStats> gc = refs.CollectGarbage();
      if (!gc.ok() && !gc.status().IsBusy()) ++counters.errors;
    }
  }
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: refkv_stress --dir D --seed S [--threads T] [--ops N] [--mapping cf|shared]\n"
      "                    [--interrupt none|power|error|kill]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--dir") {
      args.dir = value;
    } else if (flag == "--seed") {
      args.seed = std::stoull(value);
    } else if (flag == "--threads") {
      args.threads = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--ops") {
      args.ops = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--mapping") {
      args.mapping = value;
    } else if (flag == "--interrupt") {
      args.interrupt = value;
    } else {
      return Usage();
    }
  }
  if (args.dir.empty() || argc % 2 == 0) return Usage();
  static const std::set<std::string> kInterrupts{"none", "power", "error", "kill"};
  if (!kInterrupts.count(args.interrupt)) return Usage();
  std::filesystem::create_directories(args.dir);
  const std::string oracle_path = args.dir + "/oracle";
  const std::string uri = "rocks://" + args.dir + "/db?io_uring=false&partitions=" + args.mapping;

  testing::ScopedFaultFs fault_fs;
  auto opened = kv::Open(uri);
  if (!opened.ok()) {
    std::fprintf(stderr, "OPEN %s: %s\n", uri.c_str(), opened.status().ToString().c_str());
    return 3;
  }
  std::unique_ptr<kv::Store> store = std::move(*opened);
  refstore::OpenForStoreOptions ref_options;
  ref_options.refstore.sync_commits = true;
  // Short enough that the verification's gc, a trial later, removes what a crash left;
  // long enough for a repository creation on a loaded machine (it gives up after half).
  ref_options.refstore.gc_grace = std::chrono::seconds(5);
  // Short, so a sweep cut off by the interruption stops fencing commits soon.
  ref_options.refstore.gc_lease = std::chrono::milliseconds(1500);
  auto refs = refstore::OpenForStore(*store, ref_options);
  if (!refs.ok()) {
    std::fprintf(stderr, "OPEN ref store: %s\n", refs.status().ToString().c_str());
    return 3;
  }
  Result<refstore::RepositoryInfo> repo = refs->refs->GetRepository(kRepo);
  if (!repo.ok()) repo = refs->refs->CreateRepository(kRepo);
  if (!repo.ok()) {
    std::fprintf(stderr, "OPEN repository: %s\n", repo.status().ToString().c_str());
    return 3;
  }
  for (int tid = 0; tid < args.threads; ++tid) {
    Result<refstore::BranchInfo> b = refs->refs->CreateBranch(kRepo, Branch(tid), "main");
    if (!b.ok() && !b.status().IsAlreadyExists()) {
      std::fprintf(stderr, "OPEN branch: %s\n", b.status().ToString().c_str());
      return 3;
    }
  }

  // Verify what the previous trial left, then start the oracle afresh from what is there.
  OracleState previous = ReadOracle(oracle_path);
  int64_t run = previous.run + 1;
  Verifier verifier{*store, *refs->refs};
  std::vector<std::string> baseline = Verify(verifier, previous, args.threads);
  Result<refstore::CheckReport> check = refstore::Check(*store, *refs->refs, *refs->ranges);
  if (!check.ok()) {
    verifier.Fail("CHECK", check.status().ToString());
  } else {
    for (const auto& violation : check->violations) {
      verifier.Fail("CHECK", violation.location + ": " + violation.problem);
    }
  }
  // A sweep the interruption cut off holds its fence until its lease expires (gc_lease):
  // Busy until then, never longer.
  Result<refstore::GcStats> gc = refs->refs->CollectGarbage();
  const auto gc_give_up = std::chrono::steady_clock::now() + 2 * ref_options.refstore.gc_lease;
  while (!gc.ok() && gc.status().IsBusy() && std::chrono::steady_clock::now() < gc_give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gc = refs->refs->CollectGarbage();
  }
  if (!gc.ok()) verifier.Fail("CHECK", "gc: " + gc.status().ToString());
  if (verifier.failures > 0) {
    std::fprintf(stderr, "refkv_stress: run %lld: %d verification failures (oracle kept)\n",
                 static_cast<long long>(run), verifier.failures);
    return 1;
  }
  {
    const std::string tmp = oracle_path + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << "R " << run << "\n";
    for (const std::string& line : baseline) out << line << "\n";
    out.close();
    if (!out || ::rename(tmp.c_str(), oracle_path.c_str()) != 0) {
      std::fprintf(stderr, "refkv_stress: cannot write %s\n", oracle_path.c_str());
      return 2;
    }
  }
  // The baseline is what the store holds now: make it durable before anything else
  // (recovery and the cleaner wrote since the open).
  if (Status synced = store->Sync(); !synced.ok()) {
    std::fprintf(stderr, "refkv_stress: sync after verification: %s\n", synced.ToString().c_str());
    return 2;
  }

  // The workload, interrupted as asked.
  Oracle oracle(oracle_path);
  if (!oracle.ok()) return 2;
  std::mt19937_64 rng(args.seed * 7919 + run);
  std::atomic<bool> stop{false};
  Counters counters;
  std::thread interrupter;
  const auto delay = std::chrono::milliseconds(20 + rng() % 800);
  const bool tear = rng() % 2 == 0;
  if (args.interrupt == "power" || args.interrupt == "kill") {
    interrupter = std::thread([&, delay, tear] {
      std::this_thread::sleep_for(delay);
      if (args.interrupt == "kill") ::kill(::getpid(), SIGKILL);
      fault_fs->PowerOff();
      testing::PowerLossReport lost = fault_fs->DropUnsyncedData(tear, rng());
      oracle.Line("P");
      std::printf(
          "refkv_stress: run %lld (power%s) after %lld ms: acked %llu; dropped %llu bytes "
          "of %llu files, %llu names, %llu renames undone\n",
          static_cast<long long>(run), tear ? ", torn" : "", static_cast<long long>(delay.count()),
          static_cast<unsigned long long>(counters.acked.load()),
          static_cast<unsigned long long>(lost.bytes_dropped),
          static_cast<unsigned long long>(lost.files_truncated),
          static_cast<unsigned long long>(lost.names_removed),
          static_cast<unsigned long long>(lost.renames_undone));
      std::fflush(stdout);
      _exit(0);
    });
  } else if (args.interrupt == "error") {
    static const unsigned kKinds[] = {testing::kFaultWrite,  testing::kFaultSync,
                                      testing::kFaultRename, testing::kFaultDirSync,
                                      testing::kFaultRead,   testing::kFaultCreate};
    testing::FaultSpec spec;
    spec.ops = kKinds[rng() % std::size(kKinds)];
    // Reads and writes are many per trial; renames, directory syncs and creations few.
    const bool common = spec.ops == testing::kFaultWrite || spec.ops == testing::kFaultRead ||
                        spec.ops == testing::kFaultSync;
    spec.nth = 1 + rng() % (common ? 60 : 6);
    spec.error = rng() % 2 == 0 ? testing::FaultError::kEio : testing::FaultError::kNoSpace;
    spec.sticky = rng() % 2 == 0;
    fault_fs->InjectError(spec);
  }
  std::vector<std::thread> workers;
  for (int tid = 0; tid < args.threads; ++tid) {
    workers.emplace_back(Worker, tid, std::cref(args), run, std::ref(*store), std::ref(*refs->refs),
                         std::ref(oracle), std::ref(counters), std::ref(stop));
  }
  for (std::thread& t : workers) t.join();
  if (interrupter.joinable()) {
    // The workload ended before the interruption: it still comes (a trial always ends
    // with the interruption it was given).
    interrupter.join();
  }
  std::printf(
      "refkv_stress: run %lld (%s): verified %zu baseline records; workload acked %llu, "
      "errors %llu, injected %llu%s%s\n",
      static_cast<long long>(run), args.interrupt.c_str(), baseline.size(),
      static_cast<unsigned long long>(counters.acked.load()),
      static_cast<unsigned long long>(counters.errors.load()),
      static_cast<unsigned long long>(fault_fs->injected()), fault_fs->injected() ? ": " : "",
      fault_fs->last_injected().c_str());
  fault_fs->ClearError();
  refs->refs.reset();
  refs->ranges.reset();
  Status closed = store->Close();
  (void)closed;  // after injected errors a close may fail; the next trial verifies
  return 0;
}

}  // namespace
}  // namespace refkv::stress

int main(int argc, char** argv) { return refkv::stress::Main(argc, argv); }
