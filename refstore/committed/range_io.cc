#include "refstore/committed/range_io.h"

#include <rocksdb/convenience.h>
#include <rocksdb/table.h>

#include <algorithm>

#include "engine/store.h"

namespace refkv::refstore::internal {

namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  return Status::IOError(std::string(what) + ": " + s.ToString());
}

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
  options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

SstContext::~SstContext() = default;

std::string SstContext::TempName(std::string_view tag) {
  return "/refkv-ranges/" + std::string(tag) + "-" + std::to_string(next_.fetch_add(1)) + ".sst";
}

RangeBuilder::~RangeBuilder() {
  writer_.reset();
  if (!file_.empty()) ctx_.env()->DeleteFile(file_).PermitUncheckedError();
}

Status RangeBuilder::Add(std::string_view path, std::string_view value) {
  if (!writer_) {
    file_ = ctx_.TempName("build");
    writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), ctx_.options());
    REFKV_RETURN_IF_ERROR(FromRocks(writer_->Open(file_), "range builder: open " + file_));
    hasher_ = std::make_unique<RangeHasher>();
    info_ = RangeInfo();
    info_.min_path = path;
  }
  rocksdb::Status s = writer_->Put(rocksdb::Slice(path.data(), path.size()),
                                   rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) {
    return Status::IOError("range builder: put " + kv::Printable(path) + ": " + s.ToString());
  }
  hasher_->Add(path, value);
  info_.max_path = path;
  info_.count++;
  info_.bytes += path.size() + value.size();
  return Status::OK();
}

Status RangeBuilder::Finish(RangeInfo* info, std::string* sst) {
  if (!writer_) return Status::Internal("range builder: Finish on an empty range");
  REFKV_RETURN_IF_ERROR(FromRocks(writer_->Finish(), "range builder: finish " + file_));
  writer_.reset();
  sst->clear();
  rocksdb::Status s = rocksdb::ReadFileToString(ctx_.env(), file_, sst);
  ctx_.env()->DeleteFile(file_).PermitUncheckedError();
  file_.clear();
  REFKV_RETURN_IF_ERROR(FromRocks(s, "range builder: read back"));
  info_.id = hasher_->Id();
  hasher_.reset();
  *info = std::move(info_);
  info_ = RangeInfo();
  return Status::OK();
}

Result<std::unique_ptr<RangeReader>> RangeReader::Open(SstContext& ctx, std::string_view id,
                                                       std::string_view sst, bool verify) {
  std::unique_ptr<RangeReader> r(new RangeReader(ctx, ctx.TempName("read")));
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption("range " + std::string(id) + ": " + std::string(what));
  };
  rocksdb::Status s = rocksdb::WriteStringToFile(ctx.env(), rocksdb::Slice(sst.data(), sst.size()),
                                                 r->file_, /*should_sync=*/false);
  if (!s.ok()) return Status::IOError("range " + std::string(id) + ": stage: " + s.ToString());
  r->reader_ = std::make_unique<rocksdb::SstFileReader>(ctx.options());
  s = r->reader_->Open(r->file_);
  if (!s.ok())
    return corrupt("not a readable SST (" + std::to_string(sst.size()) +
                   " bytes): " + s.ToString());
  if (!verify) return r;
  // One full pass: the content hash covers every path and value, so a flipped bit
  // anywhere (or a file stored under the wrong id) is caught here, once per open.
  RangeHasher hasher;
  auto it = r->NewIterator();
  std::string prev;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    std::string_view v(it->value().data(), it->value().size());
    if (r->info_.count == 0) {
      r->info_.min_path = k;
    } else if (k <= std::string_view(prev)) {
      return corrupt("paths out of order at " + kv::Printable(k));
    }
    prev.assign(k);
    hasher.Add(k, v);
    r->info_.count++;
    r->info_.bytes += k.size() + v.size();
  }
  if (!it->status().ok()) return corrupt("unreadable: " + it->status().ToString());
  if (r->info_.count == 0) return corrupt("empty range");
  r->info_.max_path = prev;
  r->info_.id = hasher.Id();
  if (r->info_.id != id) return corrupt("content hashes to " + r->info_.id);
  return r;
}

RangeReader::~RangeReader() {
  reader_.reset();
  ctx_.env()->DeleteFile(file_).PermitUncheckedError();
}

std::unique_ptr<rocksdb::Iterator> RangeReader::NewIterator() const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  return std::unique_ptr<rocksdb::Iterator>(reader_->NewIterator(ro));
}

}  // namespace refkv::refstore::internal
