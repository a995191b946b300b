// The streaming dump writer.
#include "format/dump/writer.h"

#include <zstd.h>

#include "format/dump/encoding.h"

namespace refkv::format::internal {

DumpWriter::DumpWriter(std::unique_ptr<io::File> file, const WriterOptions& options)
    : file_(std::move(file)), options_(options) {
  cctx_ = ZSTD_createCCtx();
  file_hash_ = XXH64_createState();
  XXH64_reset(file_hash_, 0);
  part_hash_ = XXH64_createState();
}

DumpWriter::~DumpWriter() {
  StopWorkers();
  if (file_) (void)file_->Close();  // waits for writes in flight: their buffers are ours
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
  XXH64_freeState(file_hash_);
  XXH64_freeState(part_hash_);
}

Result<std::unique_ptr<DumpWriter>> DumpWriter::Create(std::unique_ptr<io::File> file,
                                                       const DumpHeader& header,
                                                       const WriterOptions& options) {
  if (options.block_size < 4096 || options.block_size > kMaxUncompressed) {
    return Status::InvalidArgument("dump: block size must be 4 KiB .. 64 MiB, got " +
                                   std::to_string(options.block_size));
  }
  if (options.zstd_level < -5 || options.zstd_level > 19) {
    return Status::InvalidArgument("dump: zstd level must be -5..19, got " +
                                   std::to_string(options.zstd_level));
  }
  if (header.refkv_version.size() > kMaxVersionLen || header.source_driver.size() > kMaxDriverLen ||
      header.store_id.size() > kMaxStoreIdLen || header.schema_version < 0 ||
      header.store_format_version < 0) {
    return Status::InvalidArgument("dump: header field out of bounds");
  }
  if (options.threads == 0 || options.threads > kMaxDumpThreads) {
    return Status::InvalidArgument("dump: threads must be 1.." + std::to_string(kMaxDumpThreads) +
                                   ", got " + std::to_string(options.threads));
  }
  std::unique_ptr<DumpWriter> w(new DumpWriter(std::move(file), options));
  if (!w->cctx_ || !w->file_hash_ || !w->part_hash_) return Status::Internal("dump: out of memory");
  if (ZSTD_isError(ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(w->cctx_),
                                          ZSTD_c_compressionLevel, options.zstd_level))) {
    return Status::InvalidArgument("dump: zstd refused level " +
                                   std::to_string(options.zstd_level));
  }
  if (options.threads > 1) {
    for (unsigned i = 0; i < options.threads; ++i) {
      w->workers_.emplace_back([raw = w.get()] { raw->WorkerLoop(); });
    }
  }
  w->info_.header = header;
  w->info_.header.format_version = kDumpFormatVersion;
  std::string body;
  PutFixed64(&body, static_cast<uint64_t>(header.store_format_version));
  PutFixed64(&body, static_cast<uint64_t>(header.schema_version));
  PutFixed64(&body, static_cast<uint64_t>(header.created_at));
  for (const std::string* s : {&header.refkv_version, &header.source_driver, &header.store_id}) {
    PutFixed16(&body, static_cast<uint16_t>(s->size()));
    body += *s;
  }
  std::string out(kMagic);
  PutFixed32(&out, kDumpFormatVersion);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out += body;
  PutFixed64(&out, XXH64(out.data(), out.size(), 0));
  REFKV_RETURN_IF_ERROR(w->Append(std::move(out)));
  return w;
}

Status DumpWriter::Add(std::string_view partition, std::string_view key, std::string_view value) {
  REFKV_RETURN_IF_ERROR(error_);
  // Only what a store may hold: then the record fits one block (kMaxRecordSize), and
  // any store can import the dump. Data an older refkv wrote beyond the limits is
  // refused here, naming it, rather than written into a dump nothing can import.
  REFKV_RETURN_IF_ERROR(kv::CheckWrite("dump", partition, key, value));
  size_t encoded = VarintLength(partition.size()) + partition.size() + VarintLength(key.size()) +
                   key.size() + VarintLength(value.size()) + value.size();
  if (!in_partition_ || partition != current_.name) {
    if (in_partition_ && !(current_.name < partition)) {
      return Status::InvalidArgument("dump: partition '" + kv::Printable(partition) +
                                     "' out of order");
    }
    ClosePartition();
    in_partition_ = true;
    // The partition starts in the block being built (or the next one if this is empty
    // and the record below flushes nothing first).
    current_ = DumpPartition{std::string(partition), 0, 0, 0, 0};
    XXH64_reset(part_hash_, 0);
  } else if (!(last_key_ < key)) {
    return Status::InvalidArgument("dump: key '" + kv::Printable(key) + "' of partition '" +
                                   kv::Printable(partition) + "' out of order");
  }
  if (!raw_.empty() && raw_.size() + encoded > options_.block_size) {
    REFKV_RETURN_IF_ERROR(FlushBlock());
  }
  if (current_.records == 0) current_.first_block = info_.blocks;
  size_t at = raw_.size();
  PutVarint64(&raw_, partition.size());
  raw_ += partition;
  PutVarint64(&raw_, key.size());
  raw_ += key;
  PutVarint64(&raw_, value.size());
  raw_ += value;
  ++raw_count_;
  XXH64_update(part_hash_, raw_.data() + at, encoded);
  ++current_.records;
  current_.record_bytes += encoded;
  last_key_.assign(key);
  ++records_;
  if (raw_.size() >= options_.block_size) REFKV_RETURN_IF_ERROR(FlushBlock());
  return Status::OK();
}

void DumpWriter::ClosePartition() {
  if (!in_partition_) return;
  current_.checksum = XXH64_digest(part_hash_);
  info_.partitions.push_back(std::move(current_));
  in_partition_ = false;
}

Status DumpWriter::CompressBlock(void* cctx, const std::string& raw, uint32_t count,
                                 std::string* out) {
  out->resize(kBlockHeaderSize + ZSTD_compressBound(raw.size()));
  size_t csize = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx), out->data() + kBlockHeaderSize,
                                out->size() - kBlockHeaderSize, raw.data(), raw.size());
  if (ZSTD_isError(csize)) {
    return Status::Internal(std::string("dump: zstd: ") + ZSTD_getErrorName(csize));
  }
  out->resize(kBlockHeaderSize + csize);
  std::string header(kBlockMagic);
  PutFixed32(&header, kCompressionZstd);
  PutFixed32(&header, static_cast<uint32_t>(csize));
  PutFixed32(&header, static_cast<uint32_t>(raw.size()));
  PutFixed32(&header, count);
  PutFixed32(&header, 0);
  XXH64_state_t* h = XXH64_createState();
  if (h == nullptr) return Status::Internal("dump: out of memory");
  XXH64_reset(h, 0);
  XXH64_update(h, header.data(), header.size());
  XXH64_update(h, out->data() + kBlockHeaderSize, csize);
  PutFixed64(&header, XXH64_digest(h));
  XXH64_freeState(h);
  out->replace(0, kBlockHeaderSize, header);
  return Status::OK();
}

Status DumpWriter::FlushBlock() {
  if (raw_.empty()) return Status::OK();
  info_.uncompressed_bytes += raw_.size();
  ++info_.blocks;
  if (workers_.empty()) {
    std::string out;
    Status s = CompressBlock(cctx_, raw_, raw_count_, &out);
    if (!s.ok()) return error_ = s;
    raw_.clear();
    raw_count_ = 0;
    return Append(std::move(out));
  }
  Job job;
  job.raw = std::move(raw_);
  job.count = raw_count_;
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  work_cv_.notify_one();
  raw_ = std::string();
  raw_.reserve(options_.block_size);
  raw_count_ = 0;
  return DrainJobs(2 * workers_.size());
}

void DumpWriter::WorkerLoop() {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  bool ok = cctx != nullptr && !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
                                                                    options_.zstd_level));
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || jobs_claimed_ < jobs_popped_ + jobs_.size(); });
    if (stop_) break;
    Job& job = jobs_[jobs_claimed_++ - jobs_popped_];
    lock.unlock();
    Status s = ok ? CompressBlock(cctx, job.raw, job.count, &job.out)
                  : Status::Internal("dump: cannot create a zstd context");
    std::string().swap(job.raw);
    lock.lock();
    job.status = std::move(s);
    job.done = true;
    done_cv_.notify_all();
  }
  lock.unlock();
  ZSTD_freeCCtx(cctx);
}

Status DumpWriter::DrainJobs(size_t keep) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      if (jobs_.empty() || (jobs_.size() <= keep && !jobs_.front().done)) return error_;
      done_cv_.wait(lock, [&] { return jobs_.front().done; });
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++jobs_popped_;
    }
    if (!job.status.ok() && error_.ok()) error_ = job.status;
    REFKV_RETURN_IF_ERROR(error_);
    REFKV_RETURN_IF_ERROR(Append(std::move(job.out)));
  }
}

void DumpWriter::StopWorkers() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

// Queues `bytes` at the end of the file; keeps at most queue_depth writes in flight.
Status DumpWriter::Append(std::string bytes) {
  REFKV_RETURN_IF_ERROR(error_);
  XXH64_update(file_hash_, bytes.data(), bytes.size());
  pending_.push_back(Pending{next_tag_++, std::move(bytes)});
  const Pending& p = pending_.back();
  io::WriteRequest req{offset_, std::span<const char>(p.bytes.data(), p.bytes.size()), p.tag};
  offset_ += p.bytes.size();
  Status s = file_->SubmitWrites(std::span<const io::WriteRequest>(&req, 1));
  if (!s.ok()) return error_ = s;
  return Reap(options_.io.queue_depth);
}

// Reaps completions until at most `keep` writes are pending; frees finished buffers.
Status DumpWriter::Reap(size_t keep) {
  while (!pending_.empty()) {
    while (!pending_.empty() && pending_.front().done) pending_.pop_front();
    if (pending_.size() <= keep) break;
    auto done = file_->Reap(1);
    if (!done.ok()) return error_ = done.status();
    for (auto& c : *done) {
      if (!c.status.ok() && error_.ok()) error_ = c.status;
      for (auto& p : pending_) {
        if (p.tag == c.tag) p.done = true;
      }
    }
    REFKV_RETURN_IF_ERROR(error_);
  }
  return Status::OK();
}

Result<DumpInfo> DumpWriter::Finish() {
  REFKV_RETURN_IF_ERROR(error_);
  REFKV_RETURN_IF_ERROR(FlushBlock());
  REFKV_RETURN_IF_ERROR(DrainJobs(0));
  StopWorkers();
  ClosePartition();
  uint64_t blocks_end = offset_;
  info_.records = records_;
  std::string footer(kFooterMagic);
  PutFixed32(&footer, static_cast<uint32_t>(info_.partitions.size()));
  for (const DumpPartition& p : info_.partitions) {
    PutFixed16(&footer, static_cast<uint16_t>(p.name.size()));
    footer += p.name;
    PutFixed64(&footer, p.records);
    PutFixed64(&footer, p.checksum);
    PutFixed64(&footer, p.first_block);
    PutFixed64(&footer, p.record_bytes);
  }
  PutFixed64(&footer, info_.records);
  PutFixed64(&footer, info_.blocks);
  PutFixed64(&footer, info_.uncompressed_bytes);
  PutFixed64(&footer, blocks_end);
  info_.file_checksum = XXH64_digest(file_hash_);
  PutFixed64(&footer, info_.file_checksum);
  PutFixed64(&footer, XXH64(footer.data(), footer.size(), 0));
  if (footer.size() > kMaxFooterLength) {
    return error_ = Status::InvalidArgument(
               "dump: footer index larger than 64 MiB (too many "
               "partitions or too long names)");
  }
  uint64_t footer_len = footer.size();
  PutFixed64(&footer, footer_len);
  footer += kEndMagic;
  REFKV_RETURN_IF_ERROR(Append(std::move(footer)));
  REFKV_RETURN_IF_ERROR(Reap(0));
  REFKV_RETURN_IF_ERROR(file_->Sync());
  REFKV_RETURN_IF_ERROR(file_->Close());
  info_.file_bytes = offset_;
  return info_;
}

}  // namespace refkv::format::internal
