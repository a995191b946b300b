// Log: the history of a ref by descending generation, with LogOptions' filters.
//
// The walk is a priority queue of commits by (generation, id), newest first. A commit's
// generation exceeds every parent's, so when a commit is popped every commit that can
// reach it and is still to be walked has been popped: its marks are final. stop_at is
// walked in the same queue, marked "excluded"; the mark spreads to every parent, and the
// walk ends when only excluded commits remain (as git's `A..B`).
//
// Page token: the queue's ids, comma-separated, excluded ones prefixed by '-' (a token
// of plain ids, as earlier versions wrote, continues a walk without stop_at).
#include <map>
#include <queue>

#include "refstore/internal/ref_store_impl.h"

namespace refkv::refstore::internal {

namespace {

// Whether the tree `a` and the tree `b` differ at `path`. Equal ids of the range covering
// the path (one cached metarange lookup each) mean equal; otherwise both values are read.
Result<bool> PathDiffers(CommittedManager& committed, const std::string& a, const std::string& b,
                         const std::string& path) {
  if (a == b) return false;
  const std::string end = path + '\0';
  REFKV_ASSIGN_OR_RETURN(auto left_ranges, committed.RangeIdsCovering(a, path, end));
  REFKV_ASSIGN_OR_RETURN(auto right_ranges, committed.RangeIdsCovering(b, path, end));
  if (left_ranges == right_ranges) return false;
  auto left = committed.Get(a, path);
  auto right = committed.Get(b, path);
  if (!left.ok() && !left.status().IsNotFound()) return left.status();
  if (!right.ok() && !right.status().IsNotFound()) return right.status();
  if (left.ok() != right.ok()) return true;
  return left.ok() && *left != *right;
}

// Whether the trees differ anywhere under `prefix`: equal lists of covering ranges mean
// equal; otherwise the entries under the prefix are compared (only those ranges read).
Result<bool> PrefixDiffers(CommittedManager& committed, const std::string& a, const std::string& b,
                           const std::string& prefix) {
  if (a == b) return false;
  const std::string end = kv::PrefixUpperBound(prefix);
  REFKV_ASSIGN_OR_RETURN(auto left_ranges, committed.RangeIdsCovering(a, prefix, end));
  REFKV_ASSIGN_OR_RETURN(auto right_ranges, committed.RangeIdsCovering(b, prefix, end));
  if (left_ranges == right_ranges) return false;
  REFKV_ASSIGN_OR_RETURN(auto left, committed.NewIterator(a, prefix, end));
  REFKV_ASSIGN_OR_RETURN(auto right, committed.NewIterator(b, prefix, end));
  while (left->Valid() && right->Valid()) {
    if (left->key() != right->key() || left->value() != right->value()) return true;
    left->Next();
    right->Next();
  }
  REFKV_RETURN_IF_ERROR(left->status());
  REFKV_RETURN_IF_ERROR(right->status());
  return left->Valid() != right->Valid();
}

}  // namespace

Result<LogPage> RefStoreImpl::Log(std::string_view repo_name, std::string_view ref,
                                  const LogOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  for (const auto& path : options.paths) REFKV_RETURN_IF_ERROR(ValidateReadPath(path));
  if (options.since_ms != 0 && options.until_ms != 0 && options.since_ms > options.until_ms) {
    return Status::InvalidArgument("log: since (" + std::to_string(options.since_ms) +
                                   ") is after until (" + std::to_string(options.until_ms) + ")");
  }
  std::vector<std::pair<std::string, bool>> start;  // id, excluded
  if (options.page_token.empty()) {
    REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, ref));
    start.emplace_back(at.commit.id(), false);
    if (!options.stop_at.empty()) {
      REFKV_ASSIGN_OR_RETURN(Resolved stop, Resolve(repo, options.stop_at));
      start.emplace_back(stop.commit.id(), true);
    }
  } else {
    size_t pos = 0;
    const std::string& token = options.page_token;
    while (pos <= token.size()) {
      size_t comma = token.find(',', pos);
      if (comma == std::string::npos) comma = token.size();
      std::string_view item(token.data() + pos, comma - pos);
      const bool excluded = !item.empty() && item.front() == '-';
      if (excluded) item.remove_prefix(1);
      if (!item.empty()) start.emplace_back(std::string(item), excluded);
      pos = comma + 1;
    }
  }
  struct State {
    pb::Commit commit;
    bool excluded = false;
  };
  using Item = std::pair<int64_t, std::string>;
  std::priority_queue<Item> frontier;
  std::map<std::string, State> queued;
  size_t listed_queued = 0;  // queued commits not excluded: the walk goes on while > 0
  auto enqueue = [&](const std::string& id, bool excluded) -> Status {
    auto found = queued.find(id);
    if (found != queued.end()) {
      // Not popped yet (see the top of the file): an exclusion still applies.
      if (excluded && !found->second.excluded) {
        found->second.excluded = true;
        --listed_queued;
      }
      return Status::OK();
    }
    REFKV_ASSIGN_OR_RETURN(pb::Commit c, LoadCommit(repo, id));
    frontier.emplace(c.generation(), id);
    if (!excluded) ++listed_queued;
    queued.emplace(id, State{std::move(c), excluded});
    return Status::OK();
  };
  for (const auto& [id, excluded] : start) REFKV_RETURN_IF_ERROR(enqueue(id, excluded));

  const bool filtered = !options.paths.empty() || !options.prefixes.empty();
  // Whether `c` changed a filtered path or prefix against every compared parent.
  auto changed = [&](const pb::Commit& c) -> Result<bool> {
    std::vector<std::string> bases;
    const int compared = options.first_parent ? std::min(c.parents_size(), 1) : c.parents_size();
    for (int i = 0; i < compared; ++i) {
      REFKV_ASSIGN_OR_RETURN(pb::Commit parent, LoadCommit(repo, c.parents(i)));
      bases.push_back(parent.metarange_id());
    }
    if (bases.empty()) bases.push_back(committed_->EmptyMetaRangeId());
    for (const auto& path : options.paths) {
      bool everywhere = true;
      for (const auto& base : bases) {
        REFKV_ASSIGN_OR_RETURN(bool differs,
                               PathDiffers(*committed_, c.metarange_id(), base, path));
        if (!differs) {
          everywhere = false;
          break;
        }
      }
      if (everywhere) return true;
    }
    for (const auto& prefix : options.prefixes) {
      bool everywhere = true;
      for (const auto& base : bases) {
        REFKV_ASSIGN_OR_RETURN(bool differs,
                               PrefixDiffers(*committed_, c.metarange_id(), base, prefix));
        if (!differs) {
          everywhere = false;
          break;
        }
      }
      if (everywhere) return true;
    }
    return false;
  };

  const size_t limit = options.limit == 0 ? SIZE_MAX : options.limit;
  LogPage page;
  while (!frontier.empty() && listed_queued > 0 && page.commits.size() < limit) {
    std::string id = frontier.top().second;
    frontier.pop();
    auto node = queued.find(id);
    const bool excluded = node->second.excluded;
    if (!excluded) --listed_queued;
    const pb::Commit& c = node->second.commit;
    // Exclusion spreads through every parent; the listed walk through the first only
    // with first_parent.
    const int walked =
        options.first_parent && !excluded ? std::min(c.parents_size(), 1) : c.parents_size();
    for (int i = 0; i < walked; ++i) REFKV_RETURN_IF_ERROR(enqueue(c.parents(i), excluded));
    if (excluded) continue;
    if (options.since_ms != 0 && c.creation_time_ms() < options.since_ms) continue;
    if (options.until_ms != 0 && c.creation_time_ms() > options.until_ms) continue;
    if (filtered) {
      REFKV_ASSIGN_OR_RETURN(bool keep, changed(c));
      if (!keep) continue;
    }
    page.commits.push_back(ToInfo(c));
  }
  if (listed_queued > 0) {
    while (!frontier.empty()) {
      const std::string& id = frontier.top().second;
      if (!page.next_page_token.empty()) page.next_page_token += ',';
      if (queued.at(id).excluded) page.next_page_token += '-';
      page.next_page_token += id;
      frontier.pop();
    }
  }
  return page;
}

}  // namespace refkv::refstore::internal
