#include "refstore/migrations/commit_index.h"

#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include "refstore/internal/codec.h"
#include "refstore/internal/commit_graph.h"
#include "refstore/internal/keys.h"

namespace refkv::refstore::migrations {

std::string AncestryKey(std::string_view id) { return std::string(kAncestryPrefix) += id; }

std::string ChildKey(std::string_view parent, std::string_view child) {
  std::string key(kChildPrefix);
  key += parent;
  key += '/';
  key += child;
  return key;
}

std::string EncodeAncestry(const pb::Commit& commit) {
  std::string out(8, '\0');
  uint64_t g = static_cast<uint64_t>(commit.generation());
  for (int i = 7; i >= 0; --i, g >>= 8) out[i] = static_cast<char>(g & 0xff);
  for (const auto& p : commit.parents()) {
    out += p;
    out += '\n';
  }
  return out;
}

Result<Ancestry> DecodeAncestry(std::string_view bytes, std::string_view what) {
  if (bytes.size() < 8) {
    return Status::Corruption("ancestry record " + kv::Printable(what) + " is " +
                              std::to_string(bytes.size()) + " bytes, shorter than 8");
  }
  Ancestry a;
  uint64_t g = 0;
  for (int i = 0; i < 8; ++i) g = (g << 8) | static_cast<unsigned char>(bytes[i]);
  a.generation = static_cast<int64_t>(g);
  bytes.remove_prefix(8);
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos || nl == 0) {
      return Status::Corruption("ancestry record " + kv::Printable(what) +
                                " has a malformed parent list");
    }
    a.parents.emplace_back(bytes.substr(0, nl));
    bytes.remove_prefix(nl + 1);
  }
  return a;
}

void AddIndexKeys(const pb::Commit& commit, int64_t schema, kv::WriteBatch* batch) {
  if (schema >= 2) batch->Put(AncestryKey(commit.id()), EncodeAncestry(commit));
  if (schema >= 3) {
    for (const auto& p : commit.parents()) batch->Put(ChildKey(p, commit.id()), "");
  }
}

Result<std::vector<Ancestry>> LoadAncestry(kv::Store& store, std::string_view refs,
                                           const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& id : ids) keys.push_back(AncestryKey(id));
  REFKV_ASSIGN_OR_RETURN(auto got, store.MultiGet(refs, keys));
  std::vector<Ancestry> out(ids.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (got[i].ok()) {
      REFKV_ASSIGN_OR_RETURN(out[i], DecodeAncestry(*got[i], std::string(refs) + "/" + keys[i]));
    } else if (got[i].status().IsNotFound()) {
      missing.push_back(i);
    } else {
      return got[i].status();
    }
  }
  if (missing.empty()) return out;
  std::vector<std::string> ckeys;
  for (size_t i : missing) ckeys.push_back(internal::CommitKey(ids[i]));
  REFKV_ASSIGN_OR_RETURN(auto commits, store.MultiGet(refs, ckeys));
  for (size_t j = 0; j < missing.size(); ++j) {
    if (!commits[j].ok()) {
      return commits[j].status().WithContext("commit '" + kv::Printable(ids[missing[j]]) + "'");
    }
    pb::Commit c;
    REFKV_RETURN_IF_ERROR(internal::Decode(*commits[j], &c, std::string(refs) + "/" + ckeys[j]));
    Ancestry& a = out[missing[j]];
    a.generation = c.generation();
    a.parents.assign(c.parents().begin(), c.parents().end());
  }
  return out;
}

namespace {

// Marks every commit reachable from `starts` down to `min_generation` with `flag`,
// level by level (one batched read per round). Returns id -> flags.
struct Walker {
  kv::Store& store;
  std::string_view refs;
  std::map<std::string, Ancestry> known;

  Status Load(const std::vector<std::string>& ids) {
    std::vector<std::string> need;
    for (const auto& id : ids)
      if (!known.count(id)) need.push_back(id);
    if (need.empty()) return Status::OK();
    REFKV_ASSIGN_OR_RETURN(auto got, LoadAncestry(store, refs, need));
    for (size_t i = 0; i < need.size(); ++i) known.emplace(need[i], std::move(got[i]));
    return Status::OK();
  }
};

}  // namespace

Result<bool> IsAncestor(kv::Store& store, std::string_view refs, std::string_view ancestor,
                        std::string_view descendant) {
  if (ancestor == descendant) return true;
  Walker w{store, refs, {}};
  REFKV_RETURN_IF_ERROR(w.Load({std::string(ancestor), std::string(descendant)}));
  const int64_t floor = w.known.at(std::string(ancestor)).generation;
  std::set<std::string> seen{std::string(descendant)};
  std::vector<std::string> level{std::string(descendant)};
  while (!level.empty()) {
    std::vector<std::string> next;
    for (const auto& id : level) {
      for (const auto& p : w.known.at(id).parents) {
        if (p == ancestor) return true;
        if (seen.insert(p).second) next.push_back(p);
      }
    }
    REFKV_RETURN_IF_ERROR(w.Load(next));
    level.clear();
    for (auto& id : next)
      if (w.known.at(id).generation > floor) level.push_back(std::move(id));
  }
  return false;
}

Result<std::optional<std::string>> MergeBase(kv::Store& store, std::string_view refs,
                                             std::string_view a, std::string_view b) {
  Walker w{store, refs, {}};
  REFKV_RETURN_IF_ERROR(w.Load({std::string(a), std::string(b)}));
  // Walk both sides by descending generation; the first commit reached from both is a
  // best common ancestor (nothing of higher generation can still reach both).
  std::map<std::string, int> flags;
  using Item = std::pair<int64_t, std::string>;
  std::priority_queue<Item> frontier;
  auto push = [&](const std::string& id, int flag) {
    int& f = flags[id];
    if ((f | flag) == f) return;
    f |= flag;
    frontier.emplace(w.known.at(id).generation, id);
  };
  push(std::string(a), 1);
  push(std::string(b), 2);
  while (!frontier.empty()) {
    auto [gen, id] = frontier.top();
    frontier.pop();
    const int f = flags[id];
    if (f == 3) return std::optional<std::string>(id);
    const std::vector<std::string> parents = w.known.at(id).parents;
    REFKV_RETURN_IF_ERROR(w.Load(parents));
    for (const auto& p : parents) push(p, f);
  }
  return std::optional<std::string>();
}

Result<std::vector<std::string>> Children(kv::Store& store, std::string_view refs,
                                          std::string_view parent) {
  std::string prefix = ChildKey(parent, "");
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(refs, kv::ScanOptions::Prefix(prefix)));
  std::vector<std::string> found;
  for (; it->Valid(); it->Next()) found.emplace_back(it->key().substr(prefix.size()));
  REFKV_RETURN_IF_ERROR(it->status());
  // Only recorded commits: an index key may outlive its record until the cleaner runs.
  std::vector<std::string> keys;
  for (const auto& id : found) keys.push_back(internal::CommitKey(id));
  REFKV_ASSIGN_OR_RETURN(auto got, store.MultiGet(refs, keys));
  std::vector<std::string> out;
  for (size_t i = 0; i < found.size(); ++i) {
    if (got[i].ok()) {
      out.push_back(std::move(found[i]));
    } else if (!got[i].status().IsNotFound()) {
      return got[i].status();
    }
  }
  return out;
}

Result<std::vector<IndexViolation>> CheckIndex(kv::Store& store, int64_t schema) {
  std::vector<IndexViolation> out;
  if (schema < 2) return out;
  auto repos_or = store.Scan(internal::kReposPartition, kv::ScanOptions{});
  if (repos_or.status().IsNotFound()) return out;  // no ref store in this store
  REFKV_ASSIGN_OR_RETURN(auto repos, std::move(repos_or));
  std::vector<pb::Repository> active;
  for (; repos->Valid(); repos->Next()) {
    pb::Repository r;
    REFKV_RETURN_IF_ERROR(
        internal::Decode(repos->value(), &r, "repository " + kv::Printable(repos->key())));
    if (r.state() == pb::Repository::ACTIVE) active.push_back(std::move(r));
  }
  REFKV_RETURN_IF_ERROR(repos->status());
  for (const auto& r : active) {
    const std::string part = internal::RefsPartition(r.name(), r.instance_id());
    auto loaded = internal::LoadCommitGraph(store, part, r.initial_commit_id());
    if (loaded.status().IsNotFound()) continue;  // being created or deleted
    REFKV_ASSIGN_OR_RETURN(internal::CommitGraph graph, std::move(loaded));
    for (const auto& [id, node] : graph) {
      if (!node.reached) continue;  // unpublished: its index may be incomplete (gc.cc)
      pb::Commit c;
      c.set_generation(node.generation);
      for (const auto& p : node.parents) c.add_parents(p);
      auto a = store.Get(part, AncestryKey(id));
      if (!a.ok() && !a.status().IsNotFound()) return a.status();
      if (!a.ok()) {
        out.push_back({part, AncestryKey(id), "missing ancestry record"});
      } else if (*a != EncodeAncestry(c)) {
        out.push_back({part, AncestryKey(id), "ancestry record differs from the commit"});
      }
      if (schema < 3) continue;
      for (const auto& p : node.parents) {
        auto k = store.Get(part, ChildKey(p, id));
        if (!k.ok() && !k.status().IsNotFound()) return k.status();
        if (!k.ok()) out.push_back({part, ChildKey(p, id), "missing child key"});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const IndexViolation& a, const IndexViolation& b) {
    return std::tie(a.partition, a.key) < std::tie(b.partition, b.key);
  });
  return out;
}

}  // namespace refkv::refstore::migrations
