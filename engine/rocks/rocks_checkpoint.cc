// RocksStore::Checkpoint: the backup the migration runner takes before migrating.
// A RocksDB checkpoint hard-links the SST files and copies the small rest (MANIFEST,
// OPTIONS, the live WAL), so it is near instant on the same file system and costs no
// space until the store's files change. The copy holds every column family, the
// driver's marker and mapping included, so `rocks://DIR` opens it as a store.
#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>
#include <memory>

#include "engine/rocks/rocks_store_impl.h"

namespace refkv::kv::rocks {

Status RocksStore::Checkpoint(std::string_view dir) {
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::string target(dir);
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    return Status::AlreadyExists("checkpoint of rocks store '" + path_ + "': '" + target +
                                 "' already exists");
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) {
    // log_size_for_flush 0: flush the memtables first, so the copy needs no WAL replay.
    s = checkpoint->CreateCheckpoint(target, /*log_size_for_flush=*/0);
  }
  if (!s.ok()) {
    return Noted(FromRocks(s, "checkpoint of rocks store '" + path_ + "' into '" + target + "'"));
  }
  return Status::OK();
}

}  // namespace refkv::kv::rocks
