// Committed data of the ref store: immutable, sorted, content-addressed trees of entries.
//
// The committed entries of a commit are a sorted map path (bytes) -> value (bytes). A tree
// is stored as "ranges" (RocksDB SST files, keys = paths) plus a "metarange" listing the
// ranges in key order, each with its id, min and max path, entry count and content bytes.
// A tree is named by its metarange id; the empty tree has a well-known id
// (EmptyMetaRangeId()) that is never stored.
//
// Range boundaries are chosen by content: a range ends after a path whose xxh64 has its
// low `boundary_bits` bits zero once it holds `min_range_entries`, or when it reaches
// `max_range_entries` / `max_range_bytes`. Boundaries depend only on the content (never on
// history), so the same content always gives the same ranges and the same metarange id,
// and a small change rewrites only the ranges it touches: a typical 1-entry change
// rewrites one range; one that moves a boundary (deleting or inserting a boundary path, or
// shifting a boundary path across min_range_entries) merges or splits ranges and rewrites
// 2, rarely 3-4 (measured: deleting a boundary path of a 200k tree wrote 1 range 39%,
// 2 51%, 3-4 9% of the time).
//
// Ids: range id = 32 lowercase hex digits of XXH3-128 over "refkv.range.v1" and every entry
// as varint(len path) path varint(len value) value. Metarange id = XXH3-128 hex over its
// flat (v1) encoding (refstore/committed/encoding.h), whether it is stored flat or as a
// two-level root plus parts (v2, refstore/committed/two_level.h; Apply's `format`). Every read
// verifies the hash: a range whose content does not hash to its id, or a metarange whose bytes do
// not, is Corruption naming the id.
//
// Paths are non-empty byte strings (any byte), ordered bytewise (memcmp, shorter first);
// values may be empty.
//
// NOTE for the refstore engineer (API summary):
//   auto rs = OpenDirRangeStore(dir) or OpenKvRangeStore(store, "partition");
//   auto cm = CommittedManager::Create(**rs, CommittedManager::Options{});
//   std::string id = cm->EmptyMetaRangeId();
//   id = *cm->Apply(id, {{"a", "1"}, {"b", std::nullopt}});  // sorted, unique paths
//   cm->Get(id, "a") -> "1" or NotFound; cm->NewIterator(id, start, end) -> EntryIterator;
//   cm->Diff(left, right, fn); cm->Describe(id); cm->Verify(id); List*/Delete* for the cleaner.
//   Apply returns the new metarange id; it is durable (ranges and metarange written and
//   synced) when OK, so a commit record may point at it right away (with Options::sync;
//   without, see there).
//   Changed since the first merge (a9ab60a/8b88760): Options::range_cache_entries and
//   metarange_cache_entries became range_cache_bytes / metarange_cache_bytes;
//   min_range_entries was added and the chunking defaults changed (ids differ from trees
//   written by the first version); compress defaults to false. Methods are unchanged.
//
// Thread-safety: CommittedManager is thread-safe; any number of threads may call any
// method concurrently. Iterators are not thread-safe and must not outlive their manager.
#ifndef REFKV_REFSTORE_COMMITTED_COMMITTED_H_
#define REFKV_REFSTORE_COMMITTED_COMMITTED_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "refstore/committed/range_store.h"

namespace refkv::refstore {

// One change to a tree: put `value` at `path`, or delete `path` when value is nullopt.
struct Change {
  std::string path;
  std::optional<std::string> value;  // nullopt = delete
};

// A source of changes in strictly increasing path order, for the streaming Apply.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  // Fills `*change` with the next change and returns true, or returns false at the end
  // (check status() then).
  virtual bool Next(Change* change) = 0;
  // OK unless the source failed; Apply returns this status if it is not OK.
  virtual Status status() const = 0;
};

// One difference between two trees, valid only during the callback.
struct DiffEntry {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind;
  std::string_view path;
  std::string_view left_value;   // the old value: kRemoved, kChanged (else empty)
  std::string_view right_value;  // the new value: kAdded, kChanged (else empty)
};

// A range as listed in a metarange.
struct RangeInfo {
  std::string id;
  std::string min_path;
  std::string max_path;
  uint64_t count = 0;  // entries
  uint64_t bytes = 0;  // sum of path and value sizes (content bytes, not file size)
};

struct MetaRangeInfo {
  std::string id;
  std::vector<RangeInfo> ranges;  // in path order
  uint64_t count = 0;             // entries in the tree
  uint64_t bytes = 0;             // content bytes in the tree
};

// How Apply stores the metarange it builds (refstore/committed/FORMAT.md). Readers read
// both; the id of a tree is the same in both (the hash of its flat v1 encoding).
//   kFlat      v1: one object listing every range (~100 bytes per range).
//   kTwoLevel  v2: a root listing parts of ~48 ranges; only parts that are new are
//              written (a 1-range change writes the root and one or two parts). Trees of
//              at most Options::flat_max_ranges (128) ranges are written flat anyway. Code of
//              schema < 4 cannot read it: the ref store asks for it only at schema >= 4
//              (refstore/schema.h).
enum class MetaRangeFormat { kFlat, kTwoLevel };

// What one Apply did.
struct ApplyStats {
  uint64_t ranges_reused = 0;            // base ranges kept by id, not read
  uint64_t ranges_read = 0;              // base ranges read and merged with changes
  uint64_t ranges_written = 0;           // new ranges built (stored unless the id existed)
  uint64_t entries_read = 0;             // entries read from base ranges
  uint64_t entries_written = 0;          // entries written into new ranges
  uint64_t changes = 0;                  // changes consumed
  uint64_t parts_written = 0;            // two-level parts stored (new ids)
  uint64_t parts_reused = 0;             // two-level parts kept from the base by id
  uint64_t metarange_bytes_written = 0;  // flat metarange, or root + parts written
};

// ---- Three-way merge of trees (CommittedManager::Merge) ----------------------------------
// A path whose value differs on all three sides of a merge (nullopt: absent on that side).
struct TreeConflict {
  std::string path;
  std::optional<std::string> base, source, dest;
};
// How a merge settles a conflict: the winning side, or a resolver's value.
struct TreeResolution {
  bool resolved = false;             // false: it stays a conflict
  std::optional<std::string> value;  // the merged value; nullopt: the path is absent
};
struct TreeMergeOptions {
  // Consulted for every conflict; nullptr: every conflict stays one.
  std::function<TreeResolution(const TreeConflict&)> resolve;
  // Conflicts are listed from the first path > conflicts_after, at most conflicts_limit
  // (>= 1) of them; more_conflicts tells whether more follow.
  std::string conflicts_after;
  size_t conflicts_limit = 1000;
};
struct TreeMergeResult {
  std::string metarange;                // the merged tree; empty when there are conflicts
  std::vector<TreeConflict> conflicts;  // unresolved ones, in path order (see options)
  bool more_conflicts = false;          // conflicts past the listed ones exist
  bool conflicted = false;              // an unresolved conflict exists (listed or not)
};

// A cursor over the entries of one tree in path order, within [start, end).
class EntryIterator {
 public:
  EntryIterator() = default;
  EntryIterator(const EntryIterator&) = delete;
  EntryIterator& operator=(const EntryIterator&) = delete;
  virtual ~EntryIterator() = default;

  // True while positioned at an entry; false at the end or after an error.
  virtual bool Valid() const = 0;
  // Positions at the first path >= max(path, start), forwards or backwards.
  virtual void Seek(std::string_view path) = 0;
  // Precondition: Valid().
  virtual void Next() = 0;
  // Precondition: Valid(). Views valid until the next Seek/Next.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // OK unless iteration stopped on an error (NotFound/Corruption of a range, IOError).
  virtual Status status() const = 0;
};

class CommittedManager {
 public:
  struct Options {
    // A range ends after a path whose xxh64 has this many low bits zero, once it holds
    // min_range_entries. Defaults (9, 512): ranges of 512-8192 entries, ~1000 on average,
    // so a 1M-entry tree has ~1000 ranges and a ~100 KiB metarange. The minimum narrows the
    // spread of range sizes: a change lands in a range of ~1200 entries on average instead
    // of ~2x the mean without it. These four options are part of the format: every writer
    // of one RangeStore must use the same values or reuse (not correctness) suffers.
    int boundary_bits = 9;
    uint64_t min_range_entries = 512;
    // Hard limits per range (a range ends when either is reached).
    uint64_t max_range_entries = 8192;
    uint64_t max_range_bytes = uint64_t{64} << 20;
    // LRU capacity in bytes: parsed metaranges kept in memory, each charged its encoded
    // size (~100 bytes per range: a 1M-entry tree's metarange is ~100 KiB).
    size_t metarange_cache_bytes = size_t{32} << 20;
    // LRU capacity in bytes: verified ranges kept in memory, decoded (a flat array of
    // their entries), each charged its memory (content bytes + 24 bytes per entry). A miss
    // costs a read of the range and one pass to decode it and check its hash (~0.1-0.3 ms
    // for 1000 entries).
    size_t range_cache_bytes = size_t{64} << 20;
    // Two-level metaranges (MetaRangeFormat::kTwoLevel; refstore/committed/two_level.h):
    // trees of at most flat_max_ranges ranges are written flat; a part ends after a range
    // whose id's xxh64 has part_boundary_bits low bits zero once it holds min_part_ranges,
    // or at max_part_ranges (16 + ~32 = ~48 ranges, ~5 KB, per part by default). Like the range
    // options these decide what is written (and so what is reused), never an id.
    size_t flat_max_ranges = 128;
    int part_boundary_bits = 5;
    size_t min_part_ranges = 16;
    size_t max_part_ranges = 256;
    // Compress range blocks with LZ4 (if the RocksDB build supports it), else none.
    bool compress = false;
    // Apply ends with RangeStore::Sync(), so its result is durable when OK. false: Apply
    // leaves its objects unsynced. Sound only when they live in the caller's own kv::Store
    // (RangeStore::kv_store()) and that store loses at most a suffix of its writes in a
    // crash (RocksDB: one WAL; PostgreSQL and mem trivially): then whatever the caller
    // writes after Apply (a commit record, a branch head) cannot survive without the
    // objects it names. RefStore::Open sets it so for a KV range store in its store.
    bool sync = true;
  };

  virtual ~CommittedManager() = default;

  // `ranges` is borrowed and must outlive the manager. InvalidArgument on bad options
  // (boundary_bits or part_boundary_bits outside [1, 30], a zero max, min > max).
  static Result<std::unique_ptr<CommittedManager>> Create(RangeStore& ranges, Options options);

  // The id of the empty tree (always readable, never stored).
  virtual std::string EmptyMetaRangeId() const = 0;

  // Applies `sorted_changes` (strictly increasing paths, non-empty) to tree `base` and
  // returns the id of the resulting tree; durable when OK (with Options::sync). Deleting an absent
  // path is a no-op. Writes only the ranges the changes touch (re-chunked by the content rule,
  // merged with the next range when a boundary path is deleted) and one metarange; keeps
  // every other range by id. Cost: O(touched ranges x range size + ranges in base).
  // InvalidArgument: unsorted/duplicate/empty paths. NotFound/Corruption: base or one of
  // its touched ranges missing/corrupt. IOError: the range store failed.
  // `format`: how the new metarange is stored (see MetaRangeFormat); the id does not
  // depend on it.
  virtual Result<std::string> Apply(std::string_view base,
                                    const std::vector<Change>& sorted_changes, ApplyStats* stats,
                                    MetaRangeFormat format) = 0;
  // The same for a streaming source of changes (memory bounded by one range).
  virtual Result<std::string> Apply(std::string_view base, ChangeSource& changes, ApplyStats* stats,
                                    MetaRangeFormat format) = 0;
  // Apply into a flat metarange (no default arguments on the virtuals above).
  Result<std::string> Apply(std::string_view base, const std::vector<Change>& sorted_changes,
                            ApplyStats* stats = nullptr) {
    return Apply(base, sorted_changes, stats, MetaRangeFormat::kFlat);
  }
  Result<std::string> Apply(std::string_view base, ChangeSource& changes,
                            ApplyStats* stats = nullptr) {
    return Apply(base, changes, stats, MetaRangeFormat::kFlat);
  }

  // The value at `path` in tree `metarange`. NotFound if absent (or if the metarange does
  // not exist: check with Describe if you need to tell them apart). Cost: one cached
  // metarange lookup, one range read when its reader is not cached.
  virtual Result<std::string> Get(std::string_view metarange, std::string_view path) = 0;

  // A cursor over paths in [start, end) of tree `metarange` (empty end = no bound),
  // positioned at the first one. Ranges are read lazily. NotFound/Corruption: metarange.
  virtual Result<std::unique_ptr<EntryIterator>> NewIterator(std::string_view metarange,
                                                             std::string_view start,
                                                             std::string_view end) = 0;
  // To the end of the tree.
  Result<std::unique_ptr<EntryIterator>> NewIterator(std::string_view metarange,
                                                     std::string_view start) {
    return NewIterator(metarange, start, {});
  }

  // Calls `fn` for every path that differs between `left` and `right`, in path order:
  // kAdded (only in right), kRemoved (only in left), kChanged (values differ). Ranges
  // with equal ids on both sides at the same position are skipped without being read.
  // Stops and returns the first non-OK status of `fn`.
  virtual Status Diff(std::string_view left, std::string_view right,
                      const std::function<Status(const DiffEntry&)>& fn) = 0;

  // The ranges of tree `metarange`. NotFound/Corruption.
  virtual Result<MetaRangeInfo> Describe(std::string_view metarange) = 0;

  // The ids of the ranges of tree `metarange` that may hold paths in [start, end) (empty
  // end = no bound), in path order; a single path p is [p, p + '\0'). Equal lists for two
  // trees mean equal content there, so a caller reads ranges only where they differ
  // (the ref store's log by path). Cost: one cached metarange lookup, no range read.
  // NotFound/Corruption: metarange.
  virtual Result<std::vector<std::string>> RangeIdsCovering(std::string_view metarange,
                                                            std::string_view start,
                                                            std::string_view end) = 0;

  // Reads the metarange and every range (bypassing caches), checks every hash and that
  // each range matches its metarange record (min, max, count, bytes) and the order.
  // Corruption naming the id on any mismatch; NotFound if something is missing.
  virtual Status Verify(std::string_view metarange) = 0;

  // For the cleaner: every stored id; removal (idempotent). Deleting drops the object
  // from the caches too. Deleting something reachable breaks trees: the caller decides.
  // ListMetaRangeIds lists every tree stored in either format; DeleteMetaRange removes
  // both forms of the tree (not its parts: see below).
  virtual Result<std::vector<std::string>> ListRangeIds() = 0;
  virtual Result<std::vector<std::string>> ListMetaRangeIds() = 0;
  virtual Status DeleteRange(std::string_view id) = 0;
  virtual Status DeleteMetaRange(std::string_view id) = 0;

  // Two-level metaranges (format v2), for the cleaner and the schema 3<->4 migration.
  // Trees stored as a v2 root (sorted); the parts root `metarange` lists (empty when
  // it is stored flat only; NotFound if stored in neither form; Corruption: a bad root);
  // every stored part id (sorted); removal of one part (idempotent; a part may be shared
  // by many roots: the caller decides).
  virtual Result<std::vector<std::string>> ListMetaRangeRootIds() = 0;
  virtual Result<std::vector<std::string>> MetaRangePartIds(std::string_view metarange) = 0;
  virtual Result<std::vector<std::string>> ListMetaRangePartIds() = 0;
  virtual Status DeleteMetaRangePart(std::string_view id) = 0;
  // Writes tree `metarange` in the flat v1 format beside its v2 root (OK without writing
  // if the flat form exists). Reads and verifies the tree (cached). Durable after the
  // range store's next Sync.
  virtual Status WriteFlatMetaRange(std::string_view metarange) = 0;
  // Removes the v2 root of `metarange` only (idempotent). NotFound (nothing removed)
  // unless its flat form exists, so the tree stays readable.
  virtual Status DeleteMetaRangeRoot(std::string_view metarange) = 0;

  // Three-way merge: the tree holding, at every path, the value of `source` where only
  // source changed it from `base`, that of `dest` where only dest did, either where both
  // made the same change, and a conflict where they differ (settled by options.resolve,
  // else listed). No tree is stored when a conflict stays unresolved; ranges written
  // before the first one are unreferenced (the cleaner removes them).
  // Cost: the three range lists are walked together. Where two sides have the same
  // range (equal id) the third side's range is kept whole by id, unread, whenever the
  // output is at a range start (boundaries are content-defined, so the merged tree is
  // exactly the one Apply or a from-scratch build of its content gives); otherwise only
  // the winning side's entries are read there. Entries of all three are read only in
  // ranges changed on both sides (and to re-align at the seam after such a region or at
  // the end of a side: typically 1-3 ranges). A merge into a destination equal to the
  // base (or with source equal to base) reads and writes nothing. `stats` (optional):
  // ranges_reused = ranges kept whole, ranges_read, ranges_written, entries_read.
  // Errors: as Apply for the three trees.
  virtual Result<TreeMergeResult> Merge(std::string_view base, std::string_view source,
                                        std::string_view dest, const TreeMergeOptions& options,
                                        ApplyStats* stats, MetaRangeFormat format) = 0;
};

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_COMMITTED_COMMITTED_H_
