// CommittedManager: Apply (merge changes into a tree, re-chunking only what they touch),
// point reads, iteration, diff, and the cleaner's primitives, over a RangeStore.
//
// Why Apply is correct and cheap: boundaries are a pure function of the content (a range
// ends after a boundary path once it holds the minimum, or at the hard limits, all counted
// from the previous end), so a tree built incrementally equals one built from scratch. Apply copies
// base ranges by id while it is "in sync" (its builder is empty: the next base range starts exactly
// where a from-scratch build would start a range) and no change falls into the range. Once a change
// falls into a range it reads that range, merges, and keeps reading base ranges until its output
// ends a range exactly where a base range ended; from there on the base ranges are again what a
// from-scratch build would produce. A deleted boundary path therefore merges a range with its
// neighbour, and a new boundary path splits one. The last range is the exception: it ends at the
// end of the data, not at a boundary, so changes past its max path are merged into it rather than
// starting a new range.
#include <algorithm>
#include <functional>
#include <unordered_set>

#include "engine/store.h"
#include "refstore/committed/committed.h"
#include "refstore/committed/encoding.h"
#include "refstore/committed/lru_cache.h"
#include "refstore/committed/merge_walk.h"
#include "refstore/committed/range_io.h"
#include "refstore/committed/two_level.h"

namespace refkv::refstore {

namespace {

using internal::MetaRange;
using internal::MetaRangeBuilder;
using internal::RangeBuilder;
using internal::RangeReader;
using internal::RangeRef;

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

class VectorChangeSource final : public ChangeSource {
 public:
  explicit VectorChangeSource(const std::vector<Change>& changes) : changes_(changes) {}
  bool Next(Change* change) override {
    if (next_ >= changes_.size()) return false;
    *change = changes_[next_++];
    return true;
  }
  Status status() const override { return Status::OK(); }

 private:
  const std::vector<Change>& changes_;
  size_t next_ = 0;
};

// Pulls changes one at a time and checks their order.
class ChangeCursor {
 public:
  explicit ChangeCursor(ChangeSource& source) : source_(source) {}

  // Moves to the next change; has() turns false at the end.
  Status Advance() {
    if (has_) prev_.swap(current_.path);
    has_ = source_.Next(&current_);
    if (!has_) return source_.status();
    if (current_.path.empty()) return Status::InvalidArgument("Apply: a change has an empty path");
    if (count_++ > 0 && current_.path <= prev_) {
      return Status::InvalidArgument("Apply: changes not in strictly increasing path order at " +
                                     kv::Printable(current_.path));
    }
    return Status::OK();
  }
  bool has() const { return has_; }
  const Change& current() const { return current_; }

 private:
  ChangeSource& source_;
  Change current_;
  std::string prev_;
  bool has_ = false;
  uint64_t count_ = 0;
};

// Cuts a stream of entries into ranges by the content rule and stores each range.
class Chunker {
 public:
  // `on_written` is called with each stored range, decoded (to cache it).
  using OnWritten = std::function<void(std::unique_ptr<RangeReader>)>;
  Chunker(internal::SstContext& sst, RangeStore& store, const CommittedManager::Options& options,
          MetaRangeBuilder* out, ApplyStats* stats, OnWritten on_written)
      : builder_(sst),
        store_(store),
        options_(options),
        out_(out),
        stats_(stats),
        on_written_(std::move(on_written)) {}

  Status Add(std::string_view path, std::string_view value) {
    builder_.Add(path, value);
    stats_->entries_written++;
    if ((builder_.count() >= options_.min_range_entries &&
         internal::IsBoundaryPath(path, options_.boundary_bits)) ||
        builder_.count() >= options_.max_range_entries ||
        builder_.bytes() >= options_.max_range_bytes) {
      return Emit();
    }
    return Status::OK();
  }

  // Ends the current range (if any entries are pending).
  Status Emit() {
    if (builder_.empty()) return Status::OK();
    std::unique_ptr<RangeReader> range;
    REFKV_RETURN_IF_ERROR(builder_.Finish(&sst_, &range));
    REFKV_RETURN_IF_ERROR(store_.PutRange(range->info().id, sst_));
    out_->Add(range->info());
    if (on_written_) on_written_(std::move(range));
    stats_->ranges_written++;
    return Status::OK();
  }

  bool empty() const { return builder_.empty(); }

 private:
  RangeBuilder builder_;
  std::string sst_;  // the last range's SST bytes (a buffer reused across ranges)
  RangeStore& store_;
  const CommittedManager::Options& options_;
  MetaRangeBuilder* out_;
  ApplyStats* stats_;
  OnWritten on_written_;
};

class ManagerImpl final : public CommittedManager {
 public:
  using CommittedManager::Apply;
  using CommittedManager::NewIterator;
  ManagerImpl(RangeStore& ranges, Options options)
      : ranges_(ranges),
        options_(options),
        sst_(options.compress),
        empty_id_(internal::MetaRangeIdOf(internal::EncodeMetaRange({}))),
        empty_list_(std::make_shared<const MetaRange>()),
        metaranges_(options.metarange_cache_bytes),
        readers_(options.range_cache_bytes) {}

  std::string EmptyMetaRangeId() const override { return empty_id_; }

  Result<std::string> Apply(std::string_view base, const std::vector<Change>& sorted_changes,
                            ApplyStats* stats, MetaRangeFormat format) override {
    VectorChangeSource source(sorted_changes);
    return Apply(base, source, stats, format);
  }

  Result<std::string> Apply(std::string_view base, ChangeSource& source, ApplyStats* stats_out,
                            MetaRangeFormat format) override {
    ApplyStats stats;
    REFKV_ASSIGN_OR_RETURN(auto base_ranges, LoadMetaRange(base));
    ChangeCursor changes(source);
    REFKV_RETURN_IF_ERROR(changes.Advance());
    MetaRangeBuilder out;
    // A range just written is the one the next commit on this branch most likely
    // touches or reads: keep it decoded (no read back, no verification needed).
    // Base ranges read and merged: unless rewritten unchanged, they are the previous
    // version of what this Apply wrote, and only readers of older trees want them again.
    std::vector<std::string> replaced;
    std::unordered_set<std::string> written;
    Chunker chunker(sst_, ranges_, options_, &out, &stats,
                    [this, &written](std::unique_ptr<RangeReader> range) {
                      std::string id = range->info().id;
                      written.insert(id);
                      if (readers_.Get(id) != nullptr) return;
                      const size_t charge = range->memory();
                      readers_.Put(id, std::shared_ptr<const RangeReader>(std::move(range)),
                                   charge);
                    });

    for (size_t i = 0; i < base_ranges->size(); ++i) {
      const RangeRef r = (*base_ranges)[i];
      // The last range ends at the end of the data, not at a boundary: changes past it
      // continue it rather than start a new range.
      const bool last = i + 1 == base_ranges->size();
      if (chunker.empty() && (!changes.has() || (!last && changes.current().path > r.max_path))) {
        out.AddFrom(*base_ranges, i);  // in sync and untouched: keep by id (its bytes)
        stats.ranges_reused++;
        continue;
      }
      // A range not in the cache is read, decoded and hash-checked in one pass (and
      // cached: the next commit of this branch likely touches it again).
      REFKV_ASSIGN_OR_RETURN(std::shared_ptr<const RangeReader> reader, LoadRange(r.id));
      stats.ranges_read++;
      replaced.emplace_back(r.id);
      const size_t n = reader->size();
      size_t pos = 0;
      while (true) {
        bool have_entry = pos < n;
        bool have_change = changes.has() && (last || changes.current().path <= r.max_path);
        if (!have_entry && !have_change) break;
        int cmp = !have_entry    ? 1
                  : !have_change ? -1
                                 : reader->key(pos).compare(changes.current().path);
        if (cmp <= 0) stats.entries_read++;
        if (cmp < 0) {
          REFKV_RETURN_IF_ERROR(chunker.Add(reader->key(pos), reader->value(pos)));
          ++pos;
          continue;
        }
        if (cmp == 0) ++pos;  // the change replaces or deletes this entry
        const Change& c = changes.current();
        if (c.value.has_value()) REFKV_RETURN_IF_ERROR(chunker.Add(c.path, *c.value));
        stats.changes++;
        REFKV_RETURN_IF_ERROR(changes.Advance());
      }
    }
    while (changes.has()) {  // only when the base is empty
      const Change& c = changes.current();
      if (c.value.has_value()) REFKV_RETURN_IF_ERROR(chunker.Add(c.path, *c.value));
      stats.changes++;
      REFKV_RETURN_IF_ERROR(changes.Advance());
    }
    REFKV_RETURN_IF_ERROR(chunker.Emit());

    std::string id = empty_id_;
    if (out.size() > 0) {
      MetaRange built = out.Finish();
      id = internal::MetaRangeIdOf(built.encoded());
      if (format == MetaRangeFormat::kTwoLevel && built.size() > options_.flat_max_ranges) {
        REFKV_RETURN_IF_ERROR(StoreTwoLevel(id, *base_ranges, &built, &stats));
      } else {
        REFKV_RETURN_IF_ERROR(ranges_.PutMetaRange(id, built.encoded()));
        stats.metarange_bytes_written += built.encoded().size();
      }
      auto shared = std::make_shared<const MetaRange>(std::move(built));
      metaranges_.Put(id, shared, shared->encoded().size());
    }
    if (options_.sync) REFKV_RETURN_IF_ERROR(ranges_.Sync());
    // Commits on a branch head keep the head's ranges cached instead of a growing tail of
    // replaced versions (at 1M entries the head's ranges alone take most of the cache).
    for (const std::string& old_id : replaced) {
      if (written.count(old_id) == 0) readers_.Demote(old_id);
    }
    if (stats_out != nullptr) *stats_out = stats;
    return id;
  }

  Result<std::string> Get(std::string_view metarange, std::string_view path) override {
    REFKV_ASSIGN_OR_RETURN(auto ranges, LoadMetaRange(metarange));
    const size_t pos = ranges->LowerBoundByMax(path);
    if (pos < ranges->size() && (*ranges)[pos].min_path <= path) {
      REFKV_ASSIGN_OR_RETURN(auto reader, LoadRange((*ranges)[pos].id));
      size_t i = reader->LowerBound(path);
      if (i < reader->size() && reader->key(i) == path) return std::string(reader->value(i));
    }
    return Status::NotFound("path " + kv::Printable(path) + " not in metarange " +
                            std::string(metarange));
  }

  Result<std::unique_ptr<EntryIterator>> NewIterator(std::string_view metarange,
                                                     std::string_view start,
                                                     std::string_view end) override;

  Status Diff(std::string_view left, std::string_view right,
              const std::function<Status(const DiffEntry&)>& fn) override;

  Result<MetaRangeInfo> Describe(std::string_view metarange) override {
    REFKV_ASSIGN_OR_RETURN(auto ranges, LoadMetaRange(metarange));
    MetaRangeInfo info;
    info.id = metarange;
    info.ranges.reserve(ranges->size());
    for (size_t i = 0; i < ranges->size(); ++i) {
      info.ranges.push_back((*ranges)[i].ToInfo());
      info.count += info.ranges.back().count;
      info.bytes += info.ranges.back().bytes;
    }
    return info;
  }

  Result<std::vector<std::string>> RangeIdsCovering(std::string_view metarange,
                                                    std::string_view start,
                                                    std::string_view end) override {
    REFKV_ASSIGN_OR_RETURN(auto ranges, LoadMetaRange(metarange));
    std::vector<std::string> ids;
    for (size_t i = ranges->LowerBoundByMax(start); i < ranges->size(); ++i) {
      const RangeRef range = (*ranges)[i];
      if (!end.empty() && range.min_path >= end) break;
      ids.emplace_back(range.id);
    }
    return ids;
  }

  Status Verify(std::string_view metarange) override;

  Result<std::vector<std::string>> ListRangeIds() override { return ranges_.ListRangeIds(); }
  Result<std::vector<std::string>> ListMetaRangeIds() override {
    REFKV_ASSIGN_OR_RETURN(std::vector<std::string> flat, ranges_.ListMetaRangeIds());
    REFKV_ASSIGN_OR_RETURN(std::vector<std::string> roots,
                           ranges_.ListMetaObjectIds(RangeStore::MetaObject::kRoot));
    std::vector<std::string> all;
    all.reserve(flat.size() + roots.size());
    std::merge(flat.begin(), flat.end(), roots.begin(), roots.end(), std::back_inserter(all));
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }
  Status DeleteRange(std::string_view id) override {
    readers_.Erase(id);
    return ranges_.DeleteRange(id);
  }
  Status DeleteMetaRange(std::string_view id) override {
    metaranges_.Erase(id);
    REFKV_RETURN_IF_ERROR(ranges_.DeleteMetaObject(RangeStore::MetaObject::kRoot, id));
    return ranges_.DeleteMetaRange(id);
  }

  Result<std::vector<std::string>> ListMetaRangeRootIds() override {
    return ranges_.ListMetaObjectIds(RangeStore::MetaObject::kRoot);
  }
  Result<std::vector<std::string>> MetaRangePartIds(std::string_view metarange) override {
    if (!internal::IsValidId(metarange)) {
      return Status::InvalidArgument("malformed metarange id " + kv::Printable(metarange));
    }
    Result<std::string> root = ranges_.GetMetaObject(RangeStore::MetaObject::kRoot, metarange);
    if (root.status().IsNotFound()) {
      // Flat only, or missing altogether.
      REFKV_RETURN_IF_ERROR(ranges_.GetMetaRange(metarange).status());
      return std::vector<std::string>{};
    }
    REFKV_RETURN_IF_ERROR(root.status());
    REFKV_ASSIGN_OR_RETURN(auto parts, internal::DecodeMetaRoot(metarange, *root));
    std::vector<std::string> ids;
    ids.reserve(parts.size());
    for (auto& p : parts) ids.push_back(std::move(p.id));
    return ids;
  }
  Result<std::vector<std::string>> ListMetaRangePartIds() override {
    return ranges_.ListMetaObjectIds(RangeStore::MetaObject::kPart);
  }
  Status DeleteMetaRangePart(std::string_view id) override {
    return ranges_.DeleteMetaObject(RangeStore::MetaObject::kPart, id);
  }
  Status WriteFlatMetaRange(std::string_view metarange) override {
    if (metarange == empty_id_) return Status::OK();
    REFKV_ASSIGN_OR_RETURN(auto tree, LoadMetaRange(metarange));
    return ranges_.PutMetaRange(metarange, tree->encoded());
  }
  Status DeleteMetaRangeRoot(std::string_view metarange) override {
    if (metarange == empty_id_) return Status::OK();
    Result<std::string> flat = ranges_.GetMetaRange(metarange);
    if (!flat.ok()) {
      if (!flat.status().IsNotFound()) return flat.status();
      return Status::NotFound("metarange " + std::string(metarange) +
                              " has no flat (v1) form: its v2 root is kept");
    }
    if (internal::MetaRangeIdOf(*flat) != metarange) {
      return Status::Corruption("metarange " + std::string(metarange) + ": flat form hashes to " +
                                internal::MetaRangeIdOf(*flat) + ": its v2 root is kept");
    }
    return ranges_.DeleteMetaObject(RangeStore::MetaObject::kRoot, metarange);
  }

  Result<TreeMergeResult> Merge(std::string_view base, std::string_view source,
                                std::string_view dest, const TreeMergeOptions& options,
                                ApplyStats* stats_out, MetaRangeFormat format) override {
    ApplyStats stats;
    TreeMergeResult result;
    REFKV_ASSIGN_OR_RETURN(auto base_tree, LoadMetaRange(base));
    REFKV_ASSIGN_OR_RETURN(auto source_tree, LoadMetaRange(source));
    REFKV_ASSIGN_OR_RETURN(auto dest_tree, LoadMetaRange(dest));
    // One side unchanged: the other is the result, nothing read or written.
    if (source == base || source == dest) {
      result.metarange = dest;
    } else if (dest == base) {
      result.metarange = source;
    }
    if (!result.metarange.empty()) {
      stats.ranges_reused = result.metarange == dest ? dest_tree->size() : source_tree->size();
      if (stats_out != nullptr) *stats_out = stats;
      return result;
    }
    MetaRangeBuilder out;
    Chunker chunker(
        sst_, ranges_, options_, &out, &stats, [this](std::unique_ptr<RangeReader> range) {
          std::string id = range->info().id;
          if (readers_.Get(id) != nullptr) return;
          const size_t charge = range->memory();
          readers_.Put(id, std::shared_ptr<const RangeReader>(std::move(range)), charge);
        });
    class Output final : public internal::MergeOutput {
     public:
      Output(Chunker& chunker, MetaRangeBuilder& out) : chunker_(chunker), out_(out) {}
      Status Add(std::string_view path, std::string_view value) override {
        return chunker_.Add(path, value);
      }
      bool AtRangeStart() const override { return chunker_.empty(); }
      void Keep(const MetaRange& tree, size_t i) override { out_.AddFrom(tree, i); }

     private:
      Chunker& chunker_;
      MetaRangeBuilder& out_;
    } output(chunker, out);
    REFKV_RETURN_IF_ERROR(internal::WalkMerge(
        *base_tree, *source_tree, *dest_tree, options,
        [this](std::string_view id) { return LoadRange(id); }, output, &result, &stats));
    if (result.conflicted) {
      if (stats_out != nullptr) *stats_out = stats;
      return result;
    }
    REFKV_RETURN_IF_ERROR(chunker.Emit());
    result.metarange = empty_id_;
    if (out.size() > 0) {
      MetaRange built = out.Finish();
      result.metarange = internal::MetaRangeIdOf(built.encoded());
      if (format == MetaRangeFormat::kTwoLevel && built.size() > options_.flat_max_ranges) {
        REFKV_RETURN_IF_ERROR(StoreTwoLevel(result.metarange, *dest_tree, &built, &stats));
      } else {
        REFKV_RETURN_IF_ERROR(ranges_.PutMetaRange(result.metarange, built.encoded()));
        stats.metarange_bytes_written += built.encoded().size();
      }
      auto shared = std::make_shared<const MetaRange>(std::move(built));
      metaranges_.Put(result.metarange, shared, shared->encoded().size());
    }
    if (options_.sync) REFKV_RETURN_IF_ERROR(ranges_.Sync());
    if (stats_out != nullptr) *stats_out = stats;
    return result;
  }

  // The parsed, hash-checked metarange `id` (cached).
  Result<std::shared_ptr<const MetaRange>> LoadMetaRange(std::string_view id) {
    if (id == empty_id_) return empty_list_;
    if (auto hit = metaranges_.Get(id)) return hit;
    std::vector<std::string> part_ids;
    REFKV_ASSIGN_OR_RETURN(std::string bytes, ReadMetaRangeBytes(id, &part_ids));
    REFKV_ASSIGN_OR_RETURN(MetaRange parsed, MetaRange::Parse(id, std::move(bytes)));
    parsed.set_part_ids(std::move(part_ids));
    auto shared = std::make_shared<const MetaRange>(std::move(parsed));
    metaranges_.Put(std::string(id), shared, shared->encoded().size());
    return shared;
  }

  // An opened, verified reader of range `id` (cached).
  Result<std::shared_ptr<const RangeReader>> LoadRange(std::string_view id) {
    if (auto hit = readers_.Get(id)) return hit;
    REFKV_ASSIGN_OR_RETURN(std::string bytes, ranges_.GetRange(id));
    REFKV_ASSIGN_OR_RETURN(auto reader, RangeReader::Open(sst_, id, bytes));
    const size_t charge = reader->memory();
    std::shared_ptr<const RangeReader> shared(std::move(reader));
    readers_.Put(std::string(id), shared, charge);
    return shared;
  }

 private:
  // Writes `built` (tree `id`) as a v2 root and the parts the base does not have.
  Status StoreTwoLevel(const std::string& id, const MetaRange& base, MetaRange* built,
                       ApplyStats* stats) {
    internal::PartRule rule;
    rule.boundary_bits = options_.part_boundary_bits;
    rule.min_ranges = options_.min_part_ranges;
    rule.max_ranges = options_.max_part_ranges;
    std::vector<internal::MetaPart> parts = internal::SplitMetaRange(*built, rule);
    const std::unordered_set<std::string_view> have(base.part_ids().begin(), base.part_ids().end());
    std::vector<std::string> ids;
    ids.reserve(parts.size());
    for (const internal::MetaPart& p : parts) {
      ids.push_back(p.id);
      if (have.count(p.id) != 0) {
        stats->parts_reused++;
        continue;
      }
      REFKV_RETURN_IF_ERROR(ranges_.PutMetaObject(RangeStore::MetaObject::kPart, p.id, p.bytes));
      stats->parts_written++;
      stats->metarange_bytes_written += p.bytes.size();
    }
    const std::string root = internal::EncodeMetaRoot(parts);
    REFKV_RETURN_IF_ERROR(ranges_.PutMetaObject(RangeStore::MetaObject::kRoot, id, root));
    stats->metarange_bytes_written += root.size();
    built->set_part_ids(std::move(ids));
    return Status::OK();
  }

  // The flat (v1) bytes of metarange `id`, checked against its hash: from its v2 root and
  // parts (each checked against its own hash; `part_ids` receives them) if it has one,
  // else from its flat form.
  Result<std::string> ReadMetaRangeBytes(std::string_view id,
                                         std::vector<std::string>* part_ids = nullptr) {
    if (!internal::IsValidId(id)) {
      return Status::InvalidArgument("malformed metarange id " + kv::Printable(id));
    }
    Result<std::string> root = ranges_.GetMetaObject(RangeStore::MetaObject::kRoot, id);
    if (root.ok()) {
      REFKV_ASSIGN_OR_RETURN(std::vector<internal::MetaPart> parts,
                             internal::DecodeMetaRoot(id, *root));
      for (internal::MetaPart& p : parts) {
        Result<std::string> bytes = ranges_.GetMetaObject(RangeStore::MetaObject::kPart, p.id);
        if (bytes.status().IsNotFound()) {
          return Status::NotFound("metarange " + std::string(id) + ": part " + p.id + " not found");
        }
        REFKV_RETURN_IF_ERROR(bytes.status());
        std::string actual = internal::MetaRangeIdOf(*bytes);
        if (actual != p.id) {
          return Status::Corruption("metarange " + std::string(id) + ": part " + p.id +
                                    ": content hashes to " + actual);
        }
        p.bytes = std::move(bytes).value();
        if (part_ids != nullptr) part_ids->push_back(p.id);
      }
      return internal::JoinMetaParts(id, parts);
    }
    if (!root.status().IsNotFound()) return root.status();
    REFKV_ASSIGN_OR_RETURN(std::string bytes, ranges_.GetMetaRange(id));
    std::string actual = internal::MetaRangeIdOf(bytes);
    if (actual != id) {
      return Status::Corruption("metarange " + std::string(id) + ": content hashes to " + actual);
    }
    return bytes;
  }
  Result<std::vector<RangeInfo>> ReadMetaRange(std::string_view id) {
    REFKV_ASSIGN_OR_RETURN(std::string bytes, ReadMetaRangeBytes(id));
    return internal::DecodeMetaRange(id, bytes);
  }

  RangeStore& ranges_;
  const Options options_;
  internal::SstContext sst_;
  const std::string empty_id_;
  const std::shared_ptr<const MetaRange> empty_list_;
  internal::LruCache<MetaRange> metaranges_;
  internal::LruCache<RangeReader> readers_;
};

// Walks the ranges of one tree, loading each range's reader only when needed.
class TreeIterator final : public EntryIterator {
 public:
  TreeIterator(ManagerImpl& manager, std::shared_ptr<const MetaRange> ranges, std::string start,
               std::string end)
      : manager_(manager),
        ranges_(std::move(ranges)),
        start_(std::move(start)),
        end_(std::move(end)) {}

  bool Valid() const override { return valid_; }

  void Seek(std::string_view path) override {
    std::string target(path < std::string_view(start_) ? start_ : path);
    Release();
    status_ = Status::OK();
    idx_ = ranges_->LowerBoundByMax(target);
    if (!LoadCurrent()) return;
    it_->Seek(target);
    Settle();
  }

  void Next() override {
    it_->Next();
    Settle();
  }

  std::string_view key() const override { return View(it_->key()); }
  std::string_view value() const override { return View(it_->value()); }
  Status status() const override { return status_; }

 private:
  void Release() {
    valid_ = false;
    it_.reset();  // before the reader it reads from
    reader_.reset();
  }

  // Opens range idx_ (unpositioned). False (and invalid) at the end, past `end_` or on error.
  bool LoadCurrent() {
    Release();
    if (idx_ >= ranges_->size()) return false;
    const RangeRef r = (*ranges_)[idx_];
    if (!end_.empty() && r.min_path >= std::string_view(end_)) return false;
    auto reader = manager_.LoadRange(r.id);
    if (!reader.ok()) {
      status_ = reader.status();
      return false;
    }
    reader_ = std::move(reader).value();
    it_ = reader_->NewIterator();
    return true;
  }

  // From the iterator's position, finds the next entry in bounds, crossing ranges.
  void Settle() {
    while (true) {
      if (it_->Valid()) {
        valid_ = end_.empty() || key() < std::string_view(end_);
        if (!valid_) Release();
        return;
      }
      if (!it_->status().ok()) {
        status_ = Status::Corruption("range " + std::string((*ranges_)[idx_].id) +
                                     ": read failed: " + it_->status().ToString());
        Release();
        return;
      }
      ++idx_;
      if (!LoadCurrent()) return;
      it_->SeekToFirst();
    }
  }

  ManagerImpl& manager_;
  const std::shared_ptr<const MetaRange> ranges_;
  const std::string start_;
  const std::string end_;
  size_t idx_ = 0;
  std::shared_ptr<const RangeReader> reader_;
  std::unique_ptr<rocksdb::Iterator> it_;  // declared after reader_: destroyed first
  bool valid_ = false;
  Status status_;
};

Result<std::unique_ptr<EntryIterator>> ManagerImpl::NewIterator(std::string_view metarange,
                                                                std::string_view start,
                                                                std::string_view end) {
  REFKV_ASSIGN_OR_RETURN(auto ranges, LoadMetaRange(metarange));
  auto it = std::make_unique<TreeIterator>(*this, std::move(ranges), std::string(start),
                                           std::string(end));
  it->Seek(start);
  return std::unique_ptr<EntryIterator>(std::move(it));
}

// One side of a Diff: a position (range index, entry) in one tree.
class DiffSide {
 public:
  DiffSide(ManagerImpl& manager, std::shared_ptr<const MetaRange> ranges)
      : manager_(manager), ranges_(std::move(ranges)) {}

  bool done() const { return idx_ >= ranges_->size(); }
  // True when positioned at the first entry of a range (loaded or not).
  bool at_range_start() const { return at_start_; }
  RangeRef range() const { return (*ranges_)[idx_]; }

  // Skips the current range. Precondition: at_range_start() and !done().
  void SkipRange() {
    Unload();
    ++idx_;
  }

  // Makes key()/value() usable. Precondition: !done().
  Status Load() {
    if (it_) return Status::OK();
    REFKV_ASSIGN_OR_RETURN(reader_, manager_.LoadRange(range().id));
    it_ = reader_->NewIterator();
    it_->SeekToFirst();
    if (!it_->Valid()) {
      return Status::Corruption("range " + std::string(range().id) + ": no entries");
    }
    return Status::OK();
  }
  std::string_view key() const { return View(it_->key()); }
  std::string_view value() const { return View(it_->value()); }

  // Precondition: Load() succeeded.
  Status Next() {
    it_->Next();
    at_start_ = false;
    if (it_->Valid()) return Status::OK();
    if (!it_->status().ok()) {
      return Status::Corruption("range " + std::string(range().id) +
                                ": read failed: " + it_->status().ToString());
    }
    Unload();
    ++idx_;
    return Status::OK();
  }

 private:
  void Unload() {
    it_.reset();
    reader_.reset();
    at_start_ = true;
  }

  ManagerImpl& manager_;
  const std::shared_ptr<const MetaRange> ranges_;
  size_t idx_ = 0;
  bool at_start_ = true;
  std::shared_ptr<const RangeReader> reader_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

Status ManagerImpl::Diff(std::string_view left, std::string_view right,
                         const std::function<Status(const DiffEntry&)>& fn) {
  REFKV_ASSIGN_OR_RETURN(auto left_ranges, LoadMetaRange(left));
  REFKV_ASSIGN_OR_RETURN(auto right_ranges, LoadMetaRange(right));
  DiffSide l(*this, std::move(left_ranges));
  DiffSide r(*this, std::move(right_ranges));
  while (!l.done() || !r.done()) {
    if (!l.done() && !r.done() && l.at_range_start() && r.at_range_start() &&
        l.range().id == r.range().id) {
      l.SkipRange();
      r.SkipRange();
      continue;
    }
    if (!l.done()) REFKV_RETURN_IF_ERROR(l.Load());
    if (!r.done()) REFKV_RETURN_IF_ERROR(r.Load());
    int cmp = l.done() ? 1 : r.done() ? -1 : l.key().compare(r.key());
    if (cmp < 0) {
      REFKV_RETURN_IF_ERROR(fn(DiffEntry{DiffEntry::Kind::kRemoved, l.key(), l.value(), {}}));
      REFKV_RETURN_IF_ERROR(l.Next());
    } else if (cmp > 0) {
      REFKV_RETURN_IF_ERROR(fn(DiffEntry{DiffEntry::Kind::kAdded, r.key(), {}, r.value()}));
      REFKV_RETURN_IF_ERROR(r.Next());
    } else {
      if (l.value() != r.value()) {
        REFKV_RETURN_IF_ERROR(
            fn(DiffEntry{DiffEntry::Kind::kChanged, l.key(), l.value(), r.value()}));
      }
      REFKV_RETURN_IF_ERROR(l.Next());
      REFKV_RETURN_IF_ERROR(r.Next());
    }
  }
  return Status::OK();
}

Status ManagerImpl::Verify(std::string_view metarange) {
  if (metarange == empty_id_) return Status::OK();
  REFKV_ASSIGN_OR_RETURN(std::vector<RangeInfo> ranges, ReadMetaRange(metarange));
  for (size_t i = 0; i < ranges.size(); ++i) {
    const RangeInfo& want = ranges[i];
    REFKV_ASSIGN_OR_RETURN(std::string bytes, ranges_.GetRange(want.id));
    REFKV_ASSIGN_OR_RETURN(auto reader, RangeReader::Open(sst_, want.id, bytes));
    const RangeInfo& got = reader->info();
    if (got.min_path != want.min_path || got.max_path != want.max_path || got.count != want.count ||
        got.bytes != want.bytes) {
      return Status::Corruption(
          "metarange " + std::string(metarange) + ": range #" + std::to_string(i) + " " + want.id +
          " does not match its record (count " + std::to_string(got.count) + " vs " +
          std::to_string(want.count) + ", min " + kv::Printable(got.min_path) + " vs " +
          kv::Printable(want.min_path) + ")");
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<CommittedManager>> CommittedManager::Create(RangeStore& ranges,
                                                                   Options options) {
  if (options.boundary_bits < 1 || options.boundary_bits > 30) {
    return Status::InvalidArgument("committed: boundary_bits must be in [1, 30], got " +
                                   std::to_string(options.boundary_bits));
  }
  if (options.part_boundary_bits < 1 || options.part_boundary_bits > 30) {
    return Status::InvalidArgument("committed: part_boundary_bits must be in [1, 30], got " +
                                   std::to_string(options.part_boundary_bits));
  }
  if (options.max_part_ranges == 0 || options.min_part_ranges > options.max_part_ranges) {
    return Status::InvalidArgument("committed: max_part_ranges must be > 0 and >= min_part_ranges");
  }
  if (options.min_range_entries > options.max_range_entries) {
    return Status::InvalidArgument("committed: min_range_entries > max_range_entries");
  }
  if (options.max_range_entries == 0 || options.max_range_bytes == 0) {
    return Status::InvalidArgument("committed: max_range_entries and max_range_bytes must be > 0");
  }
  return std::unique_ptr<CommittedManager>(new ManagerImpl(ranges, options));
}

}  // namespace refkv::refstore
