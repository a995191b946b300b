// The dump reader: every length is checked against its bound and against the bytes
// that remain before it is used (DUMP_FORMAT.md, "What a reader checks").
#include "format/dump/reader.h"

#include <zstd.h>

#include "format/dump/encoding.h"

namespace refkv::format::internal {
namespace {

// Fuzzing builds (scripts/fuzz) accept wrong checksums so the fuzzer reaches the
// decompressor and the record parser; every other check stays.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kCheckChecksums = false;
#else
constexpr bool kCheckChecksums = true;
#endif

}  // namespace

DumpReader::DumpReader(std::unique_ptr<Source> source) : source_(std::move(source)) {
  file_hash_ = XXH64_createState();
  XXH64_reset(file_hash_, 0);
  part_hash_ = XXH64_createState();
  dctx_ = ZSTD_createDCtx();
}

DumpReader::~DumpReader() {
  StopWorkers();
  XXH64_freeState(file_hash_);
  XXH64_freeState(part_hash_);
  ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_));
}

Result<std::unique_ptr<DumpReader>> DumpReader::Open(std::unique_ptr<Source> source,
                                                     unsigned threads) {
  if (threads == 0 || threads > kMaxDumpThreads) {
    return Status::InvalidArgument("dump reader: threads must be 1.." +
                                   std::to_string(kMaxDumpThreads) + ", got " +
                                   std::to_string(threads));
  }
  std::unique_ptr<DumpReader> reader(new DumpReader(std::move(source)));
  if (reader->file_hash_ == nullptr || reader->part_hash_ == nullptr || reader->dctx_ == nullptr) {
    return Status::Internal("dump reader: out of memory");
  }
  reader->info_.file_bytes = reader->source_->size();
  REFKV_RETURN_IF_ERROR(reader->ReadHeader());
  REFKV_RETURN_IF_ERROR(reader->ReadFooter());
  reader->offset_ = reader->header_end_;
  reader->fetch_offset_ = reader->header_end_;
  if (threads > 1) {
    for (unsigned i = 0; i < threads; ++i) {
      reader->workers_.emplace_back([r = reader.get()] { r->WorkerLoop(); });
    }
  }
  return reader;
}

namespace {

Status RegionError(const std::string& name, std::string_view region, uint64_t offset,
                   const std::string& what) {
  return Status::Corruption("dump '" + name + "': " + std::string(region) + " at offset " +
                            std::to_string(offset) + ": " + what);
}

bool ReadString(Cursor& c, size_t max, std::string* out) {
  uint16_t len;
  std::string_view bytes;
  if (!c.U16(&len) || len > max || !c.Bytes(len, &bytes)) return false;
  out->assign(bytes);
  return true;
}

}  // namespace

Status DumpReader::ReadHeader() {
  const std::string& name = source_->name();
  const uint64_t size = source_->size();
  if (size < kHeaderPrefix + kMinHeaderBody + 8 + kTrailerSize) {
    return RegionError(name, "header", 0,
                       "file too short for a dump (" + std::to_string(size) + " bytes)");
  }
  std::string prefix;
  REFKV_RETURN_IF_ERROR(source_->Read(0, kHeaderPrefix, &prefix));
  if (std::string_view(prefix).substr(0, 8) != kMagic) {
    return RegionError(name, "header", 0, "bad magic (not a refkv dump)");
  }
  Cursor c(std::string_view(prefix).substr(8));
  uint32_t version = 0, body_len = 0;
  (void)c.U32(&version);
  (void)c.U32(&body_len);
  // The framing (magic, version, body_length <= kMaxHeaderBody, body, checksum) is the
  // same in every format version, so the checksum is verified before the version is
  // believed: a flipped bit in the version field is corruption, not a newer format.
  if (body_len > kMaxHeaderBody || kHeaderPrefix + body_len + 8 > size) {
    return RegionError(name, "header", 12,
                       "header length " + std::to_string(body_len) + " out of bounds");
  }
  std::string rest;
  REFKV_RETURN_IF_ERROR(source_->Read(kHeaderPrefix, body_len + 8, &rest));
  XXH64_state_t* h = XXH64_createState();
  XXH64_reset(h, 0);
  XXH64_update(h, prefix.data(), prefix.size());
  XXH64_update(h, rest.data(), body_len);
  uint64_t want = XXH64_digest(h);
  XXH64_freeState(h);
  if (kCheckChecksums && DecodeFixed64(rest.data() + body_len) != want) {
    return RegionError(name, "header", kHeaderPrefix + body_len, "header checksum mismatch");
  }
  if (version != kDumpFormatVersion) {
    if (version > kDumpFormatVersion) {
      return Status::VersionMismatch("dump '" + name + "': format version " +
                                     std::to_string(version) + " is newer than this code's " +
                                     std::to_string(kDumpFormatVersion));
    }
    return RegionError(name, "header", 8, "unknown format version " + std::to_string(version));
  }
  // Version 1's own bounds.
  if (body_len < kMinHeaderBody ||
      kHeaderPrefix + body_len + 8 + kTrailerSize + kMinFooterLength > size) {
    return RegionError(name, "header", 12,
                       "header length " + std::to_string(body_len) + " out of bounds");
  }
  XXH64_update(file_hash_, prefix.data(), prefix.size());
  XXH64_update(file_hash_, rest.data(), body_len + 8);
  Cursor b(std::string_view(rest).substr(0, body_len));
  DumpHeader& hd = info_.header;
  hd.format_version = version;
  if (!b.I64(&hd.store_format_version) || !b.I64(&hd.schema_version) || !b.I64(&hd.created_at) ||
      !ReadString(b, kMaxVersionLen, &hd.refkv_version) ||
      !ReadString(b, kMaxDriverLen, &hd.source_driver) ||
      !ReadString(b, kMaxStoreIdLen, &hd.store_id) || b.left() != 0 ||
      hd.store_format_version < 0 || hd.schema_version < 0) {
    return RegionError(name, "header", kHeaderPrefix + b.pos(), "malformed header body");
  }
  header_end_ = kHeaderPrefix + body_len + 8;
  return Status::OK();
}

Status DumpReader::ReadFooter() {
  const std::string& name = source_->name();
  const uint64_t size = source_->size();
  std::string trailer;
  REFKV_RETURN_IF_ERROR(source_->Read(size - kTrailerSize, kTrailerSize, &trailer));
  if (std::string_view(trailer).substr(8) != kEndMagic) {
    return RegionError(name, "trailer", size - 8, "bad end magic (truncated file?)");
  }
  uint64_t footer_len = DecodeFixed64(trailer.data());
  if (footer_len < kMinFooterLength || footer_len > kMaxFooterLength ||
      footer_len > size - kTrailerSize - header_end_) {
    return RegionError(name, "trailer", size - kTrailerSize,
                       "footer length " + std::to_string(footer_len) + " out of bounds");
  }
  blocks_end_ = size - kTrailerSize - footer_len;
  std::string footer;
  REFKV_RETURN_IF_ERROR(source_->Read(blocks_end_, footer_len, &footer));
  if (kCheckChecksums &&
      XXH64(footer.data(), footer_len - 8, 0) != DecodeFixed64(footer.data() + footer_len - 8)) {
    return RegionError(name, "footer", blocks_end_, "footer checksum mismatch");
  }
  Cursor c(footer);
  std::string_view magic;
  uint32_t count = 0;
  (void)c.Bytes(4, &magic);
  if (magic != kFooterMagic) return RegionError(name, "footer", blocks_end_, "bad footer magic");
  (void)c.U32(&count);
  if (count > (footer_len - kFooterFixed) / kMinPartitionEntry) {
    return RegionError(name, "footer", blocks_end_ + 4,
                       "partition count " + std::to_string(count) + " out of bounds");
  }
  info_.partitions.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    DumpPartition p;
    uint64_t at = blocks_end_ + c.pos();
    if (!ReadString(c, kMaxPartitionLen, &p.name) || p.name.empty() || !c.U64(&p.records) ||
        !c.U64(&p.checksum) || !c.U64(&p.first_block) || !c.U64(&p.record_bytes) ||
        p.records == 0) {
      return RegionError(name, "footer", at, "malformed partition entry " + std::to_string(i));
    }
    if (!info_.partitions.empty() && !(info_.partitions.back().name < p.name)) {
      return RegionError(name, "footer", at, "partition entries out of order");
    }
    info_.partitions.push_back(std::move(p));
  }
  uint64_t blocks_end_field = 0;
  if (!c.U64(&info_.records) || !c.U64(&info_.blocks) || !c.U64(&footer_uncompressed_) ||
      !c.U64(&blocks_end_field) || !c.U64(&footer_file_checksum_) || c.left() != 8) {
    return RegionError(name, "footer", blocks_end_ + c.pos(), "malformed footer totals");
  }
  if (blocks_end_field != blocks_end_) {
    return RegionError(name, "footer", blocks_end_ + c.pos() - 16,
                       "footer says blocks end at " + std::to_string(blocks_end_field) +
                           ", trailer says " + std::to_string(blocks_end_));
  }
  info_.uncompressed_bytes = footer_uncompressed_;
  info_.file_checksum = footer_file_checksum_;
  return Status::OK();
}

Status DumpReader::BlockError(uint64_t offset, const std::string& what) const {
  return RegionError(source_->name(), "block " + std::to_string(block_number_), offset, what);
}

namespace {

// Upper bound of the bytes read ahead (compressed + decompressed) beyond one block.
constexpr uint64_t kMaxAheadBytes = 64 << 20;

Status FetchedError(const std::string& name, uint64_t number, uint64_t offset,
                    const std::string& what) {
  return RegionError(name, "block " + std::to_string(number), offset, what);
}

}  // namespace

void DumpReader::Fetch(Fetched* f) {
  f->number = fetch_number_++;
  f->start = fetch_offset_;
  auto fail = [&](Status s) {
    f->status = std::move(s);
    fetch_failed_ = true;
  };
  auto error = [&](const std::string& what) {
    fail(FetchedError(source_->name(), f->number, f->start, what));
  };
  if (blocks_end_ - fetch_offset_ < kBlockHeaderSize) {
    return error("block header runs past the end of the blocks");
  }
  Status s = source_->Read(fetch_offset_, kBlockHeaderSize, &f->header);
  if (!s.ok()) return fail(s);
  Cursor c(f->header);
  std::string_view magic;
  uint32_t compression = 0, csize = 0, usize = 0, count = 0, reserved = 0;
  (void)c.Bytes(4, &magic);
  (void)c.U32(&compression);
  (void)c.U32(&csize);
  (void)c.U32(&usize);
  (void)c.U32(&count);
  (void)c.U32(&reserved);
  if (magic != kBlockMagic) return error("bad block magic");
  if (compression != kCompressionZstd) {
    return error("unknown compression " + std::to_string(compression));
  }
  if (csize == 0 || csize > kMaxCompressed ||
      csize > blocks_end_ - fetch_offset_ - kBlockHeaderSize) {
    return error("compressed size " + std::to_string(csize) + " out of bounds");
  }
  if (usize < kMinRecordSize || usize > kMaxUncompressed) {
    return error("uncompressed size " + std::to_string(usize) + " out of bounds");
  }
  if (count == 0 || count > usize / kMinRecordSize || reserved != 0) {
    return error("record count " + std::to_string(count) + " out of bounds");
  }
  s = source_->Read(fetch_offset_ + kBlockHeaderSize, csize, &f->compressed);
  if (!s.ok()) return fail(s);
  f->usize = usize;
  fetch_offset_ += kBlockHeaderSize + csize;
  f->end = fetch_offset_;
}

void DumpReader::Decode(const std::string& name, void* dctx, Fetched* f) {
  if (!f->status.ok()) return;
  XXH64_state_t* h = XXH64_createState();
  if (h == nullptr) {
    f->status = Status::Internal("dump reader: out of memory");
    return;
  }
  XXH64_reset(h, 0);
  XXH64_update(h, f->header.data(), 24);
  XXH64_update(h, f->compressed.data(), f->compressed.size());
  uint64_t want = XXH64_digest(h);
  XXH64_freeState(h);
  if (kCheckChecksums && want != DecodeFixed64(f->header.data() + 24)) {
    f->status = FetchedError(name, f->number, f->start, "block checksum mismatch");
    return;
  }
  f->block.resize(f->usize);
  size_t got = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx), f->block.data(), f->block.size(),
                                   f->compressed.data(), f->compressed.size());
  if (ZSTD_isError(got)) {
    f->status =
        FetchedError(name, f->number, f->start, std::string("zstd: ") + ZSTD_getErrorName(got));
  } else if (got != f->usize) {
    f->status = FetchedError(name, f->number, f->start,
                             "decompressed to " + std::to_string(got) + " bytes, header says " +
                                 std::to_string(f->usize));
  }
}

void DumpReader::WorkerLoop() {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  const std::string& name = source_->name();
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || claimed_ < popped_ + ahead_.size(); });
    if (stop_) break;
    Fetched& f = ahead_[claimed_++ - popped_];
    lock.unlock();
    if (dctx == nullptr) {
      if (f.status.ok()) f.status = Status::Internal("dump reader: out of memory");
    } else {
      Decode(name, dctx, &f);
    }
    lock.lock();
    f.done = true;
    done_cv_.notify_all();
  }
  lock.unlock();
  ZSTD_freeDCtx(dctx);
}

void DumpReader::StopWorkers() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

Result<bool> DumpReader::NextBlock(std::vector<Record>* records) {
  records->clear();
  if (offset_ == blocks_end_) return false;
  Fetched f;
  if (workers_.empty()) {
    Fetch(&f);
    Decode(source_->name(), dctx_, &f);
  } else {
    // Read ahead (always the next block, then up to 2 * workers blocks or
    // kMaxAheadBytes), then take the oldest once its worker is done.
    for (;;) {
      size_t queued;
      {
        std::lock_guard lock(mu_);
        queued = ahead_.size();
      }
      if (fetch_failed_ || fetch_offset_ == blocks_end_ || queued >= 2 * workers_.size() ||
          (queued > 0 && ahead_bytes_ >= kMaxAheadBytes)) {
        break;
      }
      Fetched next;
      Fetch(&next);
      ahead_bytes_ += next.compressed.size() + next.usize;
      {
        std::lock_guard lock(mu_);
        ahead_.push_back(std::move(next));
      }
      work_cv_.notify_one();
    }
    std::unique_lock lock(mu_);
    if (ahead_.empty()) return Status::Internal("dump reader: NextBlock after an error");
    done_cv_.wait(lock, [&] { return ahead_.front().done; });
    f = std::move(ahead_.front());
    ahead_.pop_front();
    ++popped_;
    lock.unlock();
    ahead_bytes_ -= f.compressed.size() + f.usize;
  }
  REFKV_RETURN_IF_ERROR(f.status);
  const uint64_t start = f.start;
  XXH64_update(file_hash_, f.header.data(), f.header.size());
  XXH64_update(file_hash_, f.compressed.data(), f.compressed.size());
  offset_ = f.end;
  block_.swap(f.block);
  const uint32_t count = DecodeFixed32(f.header.data() + 16);
  const uint32_t usize = f.usize;
  Cursor r(block_);
  records->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = r.pos();
    Record rec;
    if (!DecodeRecord(r, &rec.partition, &rec.key, &rec.value)) {
      return BlockError(start, "record " + std::to_string(i) + " malformed (at byte " +
                                   std::to_string(at) + " of the block's records)");
    }
    Status s = OnRecord(rec, std::string_view(block_).substr(at, r.pos() - at));
    if (!s.ok()) {
      return BlockError(start, "record " + std::to_string(i) + ": " + s.message());
    }
    records->push_back(rec);
  }
  if (r.left() != 0) {
    return BlockError(start, std::to_string(r.left()) + " bytes after the last record");
  }
  records_read_ += count;
  uncompressed_read_ += usize;
  ++block_number_;
  return true;
}

Status DumpReader::OnRecord(const Record& rec, std::string_view encoding) {
  if (!in_partition_ || rec.partition != current_.name) {
    if (in_partition_ && !(current_.name < rec.partition)) {
      return Status::Corruption("partition '" + kv::Printable(rec.partition) +
                                "' out of order after '" + kv::Printable(current_.name) + "'");
    }
    ClosePartition();
    in_partition_ = true;
    current_ = DumpPartition{std::string(rec.partition), 0, 0, block_number_, 0};
    XXH64_reset(part_hash_, 0);
  } else if (!(last_key_ < rec.key)) {
    return Status::Corruption("key '" + kv::Printable(rec.key) + "' of partition '" +
                              kv::Printable(rec.partition) + "' not after '" +
                              kv::Printable(last_key_) + "'");
  }
  last_key_.assign(rec.key);
  ++current_.records;
  current_.record_bytes += encoding.size();
  XXH64_update(part_hash_, encoding.data(), encoding.size());
  return Status::OK();
}

void DumpReader::ClosePartition() {
  if (!in_partition_) return;
  current_.checksum = XXH64_digest(part_hash_);
  seen_.push_back(std::move(current_));
  in_partition_ = false;
}

Status DumpReader::Finish() {
  const std::string& name = source_->name();
  if (offset_ != blocks_end_) {
    return RegionError(name, "block " + std::to_string(block_number_), offset_,
                       "Finish before the last block");
  }
  ClosePartition();
  auto mismatch = [&](const std::string& what) {
    return RegionError(name, "footer", blocks_end_, what);
  };
  if (seen_.size() != info_.partitions.size()) {
    return mismatch("footer lists " + std::to_string(info_.partitions.size()) +
                    " partitions, blocks hold " + std::to_string(seen_.size()));
  }
  for (size_t i = 0; i < seen_.size(); ++i) {
    const DumpPartition& a = seen_[i];
    const DumpPartition& f = info_.partitions[i];
    if (a.name != f.name || a.records != f.records ||
        (kCheckChecksums && a.checksum != f.checksum) || a.first_block != f.first_block ||
        a.record_bytes != f.record_bytes) {
      return mismatch("partition '" + kv::Printable(f.name) +
                      "' does not match its blocks (records " + std::to_string(f.records) + " vs " +
                      std::to_string(a.records) + ", or checksum)");
    }
  }
  if (records_read_ != info_.records || block_number_ != info_.blocks ||
      uncompressed_read_ != footer_uncompressed_) {
    return mismatch("totals do not match the blocks");
  }
  if (kCheckChecksums && XXH64_digest(file_hash_) != footer_file_checksum_) {
    return mismatch("whole-file checksum mismatch");
  }
  return Status::OK();
}

}  // namespace refkv::format::internal
