#include "refstore/committed/range_io.h"

#include <rocksdb/convenience.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>

#include <algorithm>

#include "engine/store.h"

namespace refkv::refstore::internal {

namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  return Status::IOError(std::string(what) + ": " + s.ToString());
}

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

// An iterator over a RangeReader's flat entries.
class FlatIterator final : public rocksdb::Iterator {
 public:
  explicit FlatIterator(const RangeReader& range) : range_(range), pos_(range.size()) {}

  bool Valid() const override { return pos_ < range_.size(); }
  void SeekToFirst() override { pos_ = 0; }
  void SeekToLast() override { pos_ = range_.size() == 0 ? 0 : range_.size() - 1; }
  void Seek(const rocksdb::Slice& target) override { pos_ = range_.LowerBound(View(target)); }
  void SeekForPrev(const rocksdb::Slice& target) override {
    size_t i = range_.LowerBound(View(target));
    if (i < range_.size() && range_.key(i) == View(target)) {
      pos_ = i;
    } else {
      pos_ = i == 0 ? range_.size() : i - 1;
    }
  }
  void Next() override { ++pos_; }
  void Prev() override { pos_ = pos_ == 0 ? range_.size() : pos_ - 1; }
  rocksdb::Slice key() const override { return ToSlice(range_.key(pos_)); }
  rocksdb::Slice value() const override { return ToSlice(range_.value(pos_)); }
  rocksdb::Status status() const override { return rocksdb::Status::OK(); }

 private:
  const RangeReader& range_;
  size_t pos_;
};

}  // namespace

SstContext::SstContext(bool compress) : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {
  options_.env = env_.get();
  options_.compression = rocksdb::kNoCompression;
  if (compress) {
    auto supported = rocksdb::GetSupportedCompressions();
    if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) !=
        supported.end()) {
      options_.compression = rocksdb::kLZ4Compression;
    }
  }
  rocksdb::BlockBasedTableOptions table;
  // The bytes already live in memory (the mem env); a block cache would only copy them.
  table.no_block_cache = true;
  // A range is read whole, once, when it is decoded: no filter, and fewer, larger blocks
  // (fewer index entries and block trailers to build and check).
  table.block_size = 32 << 10;
  options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

SstContext::~SstContext() = default;

std::string SstContext::TempName(std::string_view tag) {
  return "/refkv-ranges/" + std::string(tag) + "-" + std::to_string(next_.fetch_add(1)) + ".sst";
}

// ---- RangeReader -----------------------------------------------------------------------

void RangeReader::Append(std::string_view path, std::string_view value) {
  slots_.push_back({data_.size(), path.size(), value.size()});
  data_.append(path);
  data_.append(value);
}

size_t RangeReader::LowerBound(std::string_view path) const {
  size_t lo = 0, hi = slots_.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (key(mid) < path) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::unique_ptr<rocksdb::Iterator> RangeReader::NewIterator() const {
  return std::make_unique<FlatIterator>(*this);
}

Result<std::unique_ptr<RangeReader>> RangeReader::Open(SstContext& ctx, std::string_view id,
                                                       std::string_view sst) {
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption("range " + std::string(id) + ": " + std::string(what));
  };
  const std::string file = ctx.TempName("read");
  rocksdb::Status s =
      rocksdb::WriteStringToFile(ctx.env(), ToSlice(sst), file, /*should_sync=*/false);
  if (!s.ok()) return Status::IOError("range " + std::string(id) + ": stage: " + s.ToString());
  struct Cleanup {
    SstContext& ctx;
    const std::string& file;
    ~Cleanup() { ctx.env()->DeleteFile(file).PermitUncheckedError(); }
  } cleanup{ctx, file};

  rocksdb::SstFileReader sst_reader(ctx.options());
  s = sst_reader.Open(file);
  if (!s.ok()) {
    return corrupt("not a readable SST (" + std::to_string(sst.size()) +
                   " bytes): " + s.ToString());
  }
  std::unique_ptr<RangeReader> r(new RangeReader());
  // Exactly what the entries need (the properties count internal keys: 8 bytes more
  // each), so the reader's memory - its cache charge - is not doubled by growth.
  if (auto props = sst_reader.GetTableProperties()) {
    const uint64_t n = props->num_entries;
    const uint64_t content = props->raw_key_size + props->raw_value_size;
    if (n < (uint64_t{1} << 32) && content >= 8 * n && content - 8 * n <= (sst.size() << 4)) {
      r->data_.reserve(content - 8 * n);
      r->slots_.reserve(n);
    }
  }
  // One pass: decode, check the order and hash the content, so a flipped bit anywhere
  // (or a file stored under the wrong id) is caught here, once per open.
  RangeHasher hasher;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(sst_reader.NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view k = View(it->key());
    std::string_view v = View(it->value());
    if (!r->slots_.empty() && k <= r->key(r->slots_.size() - 1)) {
      return corrupt("paths out of order at " + kv::Printable(k));
    }
    r->Append(k, v);
    hasher.Add(k, v);
    r->info_.bytes += k.size() + v.size();
  }
  if (!it->status().ok()) return corrupt("unreadable: " + it->status().ToString());
  it.reset();
  if (r->slots_.empty()) return corrupt("empty range");
  r->info_.count = r->slots_.size();
  r->info_.min_path = r->key(0);
  r->info_.max_path = r->key(r->slots_.size() - 1);
  r->info_.id = hasher.Id();
  if (r->info_.id != id) return corrupt("content hashes to " + r->info_.id);
  return r;
}

// ---- RangeBuilder ----------------------------------------------------------------------

void RangeBuilder::Add(std::string_view path, std::string_view value) {
  if (pending_ == nullptr) pending_.reset(new RangeReader());
  pending_->Append(path, value);
  bytes_ += path.size() + value.size();
}

Status RangeBuilder::Finish(std::string* sst, std::unique_ptr<RangeReader>* reader) {
  if (empty()) return Status::Internal("range builder: Finish on an empty range");
  std::unique_ptr<RangeReader> range = std::move(pending_);
  bytes_ = 0;
  const std::string file = ctx_.TempName("build");
  struct Cleanup {
    SstContext& ctx;
    const std::string& file;
    ~Cleanup() { ctx.env()->DeleteFile(file).PermitUncheckedError(); }
  } cleanup{ctx_, file};
  {
    // No page cache to drop (the file lives in memory), no filters to build.
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), ctx_.options(), /*column_family=*/nullptr,
                                  /*invalidate_page_cache=*/false, rocksdb::Env::IO_TOTAL,
                                  /*skip_filters=*/true);
    REFKV_RETURN_IF_ERROR(FromRocks(writer.Open(file), "range builder: open " + file));
    RangeHasher hasher;
    for (size_t i = 0; i < range->size(); ++i) {
      std::string_view k = range->key(i), v = range->value(i);
      rocksdb::Status s = writer.Put(ToSlice(k), ToSlice(v));
      if (!s.ok()) {
        return Status::IOError("range builder: put " + kv::Printable(k) + ": " + s.ToString());
      }
      hasher.Add(k, v);
      range->info_.bytes += k.size() + v.size();
    }
    REFKV_RETURN_IF_ERROR(FromRocks(writer.Finish(), "range builder: finish " + file));
    range->info_.id = hasher.Id();
  }
  sst->clear();
  REFKV_RETURN_IF_ERROR(
      FromRocks(rocksdb::ReadFileToString(ctx_.env(), file, sst), "range builder: read back"));
  // A built range grew by doubling: give back the slack before it is cached.
  if (range->data_.capacity() > range->data_.size() + range->data_.size() / 4) {
    range->data_.shrink_to_fit();
  }
  if (range->slots_.capacity() > range->slots_.size() + range->slots_.size() / 4) {
    range->slots_.shrink_to_fit();
  }
  range->info_.count = range->size();
  range->info_.min_path = range->key(0);
  range->info_.max_path = range->key(range->size() - 1);
  *reader = std::move(range);
  return Status::OK();
}

}  // namespace refkv::refstore::internal
