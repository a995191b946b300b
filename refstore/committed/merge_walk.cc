#include "refstore/committed/merge_walk.h"

#include <optional>
#include <string>

namespace refkv::refstore::internal {
namespace {

enum SideIndex { kBase = 0, kSource = 1, kDest = 2 };

// One side's position: its first range whose max path is not yet decided.
struct Side {
  const MetaRange* tree = nullptr;
  size_t i = 0;
  std::shared_ptr<const RangeReader> reader;  // of range i, once read

  bool has() const { return i < tree->size(); }
  RangeRef cur() const { return (*tree)[i]; }
  bool last() const { return i + 1 == tree->size(); }
};

// The winner where the other two sides agree: a pair containing the base means the third
// side changed alone; source and destination equal means both made the same change.
struct Pair {
  SideIndex y, z, winner;
};
constexpr Pair kPairs[] = {
    {kBase, kDest, kSource}, {kBase, kSource, kDest}, {kSource, kDest, kSource}};

class Walker {
 public:
  Walker(const MetaRange& base, const MetaRange& source, const MetaRange& dest,
         const TreeMergeOptions& options, const RangeLoader& load, MergeOutput& out,
         TreeMergeResult* result, ApplyStats* stats)
      : options_(options), load_(load), out_(out), result_(result), stats_(stats) {
    sides_[kBase].tree = &base;
    sides_[kSource].tree = &source;
    sides_[kDest].tree = &dest;
  }

  Status Run() {
    while (true) {
      SkipDecided();
      if (!sides_[kBase].has() && !sides_[kSource].has() && !sides_[kDest].has()) break;
      if (!collecting_ && out_.AtRangeStart() && TryKeep()) continue;
      bool progressed = false;
      REFKV_RETURN_IF_ERROR(TrySpan(&progressed));
      if (progressed) continue;
      bool stop = false;
      REFKV_RETURN_IF_ERROR(Step(&stop));
      if (stop) break;
    }
    return Status::OK();
  }

 private:
  bool Decided(std::string_view path) const { return started_ && path <= done_; }
  void Decide(std::string_view path) {
    done_.assign(path);
    started_ = true;
  }

  void SkipDecided() {
    for (Side& s : sides_) {
      while (s.has() && Decided(s.cur().max_path)) {
        ++s.i;
        s.reader.reset();
      }
    }
  }

  Status Load(Side& s) {
    if (s.reader) return Status::OK();
    REFKV_ASSIGN_OR_RETURN(s.reader, load_(s.cur().id));
    stats_->ranges_read++;
    return Status::OK();
  }

  // The first undecided path of `s` (precondition: s.has()); reads the range only when
  // part of it is decided already. The view lives as long as the side's range.
  Result<std::string_view> NextPath(Side& s) {
    const RangeRef r = s.cur();
    if (!Decided(r.min_path)) return r.min_path;
    REFKV_RETURN_IF_ERROR(Load(s));
    size_t pos = s.reader->LowerBound(done_);
    if (pos < s.reader->size() && s.reader->key(pos) == done_) ++pos;
    if (pos >= s.reader->size()) {
      return Status::Corruption("merge: range " + std::string(r.id) + " ends before its max path");
    }
    return s.reader->key(pos);
  }

  // The value of `s` at `path` (nullopt: absent); reads only a range that may hold it.
  Result<std::optional<std::string>> ValueAt(Side& s, std::string_view path) {
    if (!s.has()) return std::optional<std::string>();
    const RangeRef r = s.cur();
    if (path < r.min_path || path > r.max_path) return std::optional<std::string>();
    REFKV_RETURN_IF_ERROR(Load(s));
    const size_t pos = s.reader->LowerBound(path);
    if (pos >= s.reader->size() || s.reader->key(pos) != path) {
      return std::optional<std::string>();
    }
    stats_->entries_read++;
    return std::optional<std::string>(std::string(s.reader->value(pos)));
  }

  static bool SameRange(const Side& y, const Side& z) {
    return y.has() && z.has() && y.cur().id == z.cur().id;
  }
  // No undecided entry of `s` up to and including `path`.
  static bool NoneThrough(const Side& s, std::string_view path) {
    return !s.has() || s.cur().min_path > path;
  }
  static bool NothingAfter(const Side& s, std::string_view path) {
    return !s.has() || (s.last() && s.cur().max_path <= path);
  }
  // y and z hold the same entries from the decided point through `path`.
  static bool EqualThrough(const Side& y, const Side& z, std::string_view path) {
    if (NoneThrough(y, path) && NoneThrough(z, path)) return true;
    return SameRange(y, z) && y.cur().max_path >= path;
  }

  // Keeps the winner's current range whole when the merged tree provably holds exactly
  // it from here (see merge_walk.h).
  bool TryKeep() {
    for (const Pair& p : kPairs) {
      Side& x = sides_[p.winner];
      const Side& y = sides_[p.y];
      const Side& z = sides_[p.z];
      if (!x.has()) continue;
      const RangeRef r = x.cur();
      if (Decided(r.min_path)) continue;
      if (p.winner == p.y || p.winner == p.z) {
        // Source and destination have this very range: the merged tree has it whatever
        // the base holds; if it ends both sides, nothing follows it either.
        if (!SameRange(y, z)) continue;
        if (x.last() && !(y.last() && z.last())) continue;
      } else {
        if (!EqualThrough(y, z, r.max_path)) continue;
        if (x.last() && !(NothingAfter(y, r.max_path) && NothingAfter(z, r.max_path))) continue;
      }
      out_.Keep(*x.tree, x.i);
      stats_->ranges_reused++;
      Decide(r.max_path);
      return true;
    }
    return false;
  }

  Status Emit(std::string_view path, const std::optional<std::string>& value) {
    if (collecting_ || !value) return Status::OK();
    return out_.Add(path, *value);
  }

  // Where two sides agree over a known span, the winner's entries are the merged ones
  // there: take its next entry (or skip the span) without reading the other two.
  Status TrySpan(bool* progressed) {
    *progressed = true;
    for (const Pair& p : kPairs) {
      if (!SameRange(sides_[p.y], sides_[p.z])) continue;
      const std::string end(sides_[p.y].cur().max_path);
      Side& w = sides_[p.winner];
      if (!collecting_ && w.has()) {
        REFKV_ASSIGN_OR_RETURN(std::string_view next_view, NextPath(w));
        if (next_view <= end) {
          const std::string next(next_view);
          REFKV_ASSIGN_OR_RETURN(auto value, ValueAt(w, next));
          REFKV_RETURN_IF_ERROR(Emit(next, value));
          Decide(next);
          return Status::OK();
        }
      }
      Decide(end);  // nothing of the winner (or only conflicts are listed): skip it
      return Status::OK();
    }
    // Two sides without undecided entries before their next ranges.
    for (const Pair& p : kPairs) {
      const Side& y = sides_[p.y];
      const Side& z = sides_[p.z];
      const bool y_clear = !y.has() || !Decided(y.cur().min_path);
      const bool z_clear = !z.has() || !Decided(z.cur().min_path);
      if (!y_clear || !z_clear) continue;
      // Their entries start at `bound` (exclusive end of the span; none: no bound).
      std::optional<std::string_view> bound;
      if (y.has()) bound = y.cur().min_path;
      if (z.has() && (!bound || z.cur().min_path < *bound)) bound = z.cur().min_path;
      // Source and destination both empty here: the base's entries are deleted.
      Side& w = p.winner == p.y ? sides_[kBase] : sides_[p.winner];
      if (!w.has()) continue;
      REFKV_ASSIGN_OR_RETURN(std::string_view next_view, NextPath(w));
      if (bound && next_view >= *bound) continue;
      const std::string next(next_view);
      if (&w != &sides_[kBase]) {
        REFKV_ASSIGN_OR_RETURN(auto value, ValueAt(w, next));
        REFKV_RETURN_IF_ERROR(Emit(next, value));
      }
      Decide(next);
      return Status::OK();
    }
    *progressed = false;
    return Status::OK();
  }

  // The full three-way decision at the smallest undecided path.
  Status Step(bool* stop) {
    std::string path;
    bool any = false;
    for (Side& s : sides_) {
      if (!s.has()) continue;
      REFKV_ASSIGN_OR_RETURN(std::string_view next, NextPath(s));
      if (!any || next < path) path.assign(next);
      any = true;
    }
    std::optional<std::string> v[3];
    for (int i = 0; i < 3; ++i) {
      REFKV_ASSIGN_OR_RETURN(v[i], ValueAt(sides_[i], path));
    }
    std::optional<std::string> merged;
    if (v[kSource] == v[kDest] || v[kBase] == v[kDest]) {
      merged = std::move(v[kSource]);
    } else if (v[kBase] == v[kSource]) {
      merged = std::move(v[kDest]);
    } else {
      TreeConflict conflict{path, std::move(v[kBase]), std::move(v[kSource]), std::move(v[kDest])};
      TreeResolution resolution;
      if (options_.resolve) resolution = options_.resolve(conflict);
      if (resolution.resolved) {
        merged = std::move(resolution.value);
      } else {
        collecting_ = true;
        result_->conflicted = true;
        if (path > options_.conflicts_after) {
          if (result_->conflicts.size() >= std::max<size_t>(options_.conflicts_limit, 1)) {
            result_->more_conflicts = true;
            *stop = true;
            return Status::OK();
          }
          result_->conflicts.push_back(std::move(conflict));
        }
      }
    }
    REFKV_RETURN_IF_ERROR(Emit(path, merged));
    Decide(path);
    return Status::OK();
  }

  const TreeMergeOptions& options_;
  const RangeLoader& load_;
  MergeOutput& out_;
  TreeMergeResult* result_;
  ApplyStats* stats_;
  Side sides_[3];
  bool started_ = false;
  std::string done_;         // every path <= done_ is decided (once started_)
  bool collecting_ = false;  // an unresolved conflict: only list the rest
};

}  // namespace

Status WalkMerge(const MetaRange& base, const MetaRange& source, const MetaRange& dest,
                 const TreeMergeOptions& options, const RangeLoader& load, MergeOutput& out,
                 TreeMergeResult* result, ApplyStats* stats) {
  Walker walker(base, source, dest, options, load, out, result, stats);
  return walker.Run();
}

}  // namespace refkv::refstore::internal
