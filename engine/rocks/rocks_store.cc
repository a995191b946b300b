// The verbs of the RocksDB driver. Opening (paths, options, locks) is in rocks_open.cc.
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/coding.h"
#include "base/hex.h"
#include "engine/rocks/rocks_store_impl.h"

namespace refkv::kv::rocks {
namespace {

// A scan over one partition. Holds its Partition so a concurrent DropPartition cannot
// destroy the column family handle under it; RocksDB's iterator pins an implicit
// snapshot, which gives the consistent view of the Iterator contract.
class RocksIterator final : public Iterator {
 public:
  RocksIterator(std::shared_ptr<Partition> partition, const ScanOptions& options)
      : partition_(std::move(partition)), start_(options.start) {
    const std::string& prefix = partition_->prefix;
    rocksdb::ReadOptions ro;
    if (prefix.empty()) {
      upper_ = options.end;
    } else {
      lower_ = prefix;
      upper_ = options.end.empty() ? PrefixUpperBound(prefix) : prefix + options.end;
      lower_slice_ = lower_;
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = upper_;
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(partition_->db->NewIterator(ro, partition_->cf));
  }

  bool Valid() const override { return it_->Valid(); }

  void Seek(std::string_view key) override {
    std::string_view target = key < std::string_view(start_) ? std::string_view(start_) : key;
    if (partition_->prefix.empty()) {
      it_->Seek(rocksdb::Slice(target.data(), target.size()));
    } else {
      seek_buf_.assign(partition_->prefix);
      seek_buf_.append(target);
      it_->Seek(seek_buf_);
    }
  }

  void Next() override { it_->Next(); }

  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    size_t skip = partition_->prefix.size();
    return std::string_view(k.data() + skip, k.size() - skip);
  }

  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return std::string_view(v.data(), v.size());
  }

  Status status() const override {
    rocksdb::Status s = it_->status();
    if (s.ok()) return Status::OK();
    return FromRocks(s, "scan of partition '" + Printable(partition_->name) + "'");
  }

 private:
  std::shared_ptr<Partition> partition_;  // outlives it_ (declared first)
  std::string start_, lower_, upper_, seek_buf_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class EmptyIterator final : public Iterator {
 public:
  bool Valid() const override { return false; }
  void Seek(std::string_view) override {}
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return Status::OK(); }
};

}  // namespace

std::string_view MappingName(Mapping mapping) {
  return mapping == Mapping::kShared ? "shared" : "cf";
}

std::string CfNameFor(std::string_view partition) {
  return std::string(kCfPrefix) + HexEncode(partition);
}

bool PartitionOfCf(std::string_view cf_name, std::string* partition) {
  if (cf_name.substr(0, kCfPrefix.size()) != kCfPrefix) return false;
  std::string_view hex = cf_name.substr(kCfPrefix.size());
  return !hex.empty() && HexDecode(hex, partition, HexCase::kLower);
}

std::string SharedPrefix(std::string_view partition) {
  std::string out;
  PutLengthPrefixed(&out, partition);
  return out;
}

bool DecodeSharedKey(std::string_view rocks_key, std::string_view* partition,
                     std::string_view* key) {
  std::string_view rest = rocks_key;
  uint64_t n = 0;
  if (!GetVarint64(&rest, &n) || n == 0 || n >= rest.size()) return false;
  *partition = rest.substr(0, n);
  *key = rest.substr(n);
  return true;
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  // Some paths wrap the file system's status into a new one and keep only its text
  // (e.g. "Unable to persist Options file"): strerror(ENOSPC) is all that is left then.
  if (s.IsNoSpace() || s.ToString().find("No space left on device") != std::string::npos) {
    return Status::NoSpace(std::string(what) + ": no space left on device (" + s.ToString() + ")");
  }
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(msg));
  if (s.IsNotSupported()) return Status::Unsupported(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain()) return Status::Busy(std::move(msg));
  if (s.IsTimedOut()) return Status::Timeout(std::move(msg));
  return Status::IOError(std::move(msg), s.IsIncomplete());
}

RocksStore::RocksStore(RocksParts parts)
    : path_(std::move(parts.path)),
      mapping_(parts.mapping),
      sync_(parts.sync),
      read_only_(parts.read_only),
      env_(std::move(parts.env)),
      db_(std::move(parts.db)),
      default_cf_(parts.default_cf),
      shared_cf_(parts.shared_cf),
      partition_cf_options_(std::move(parts.partition_cf_options)),
      pid_file_(std::move(parts.pid_file)),
      release_claim_(std::move(parts.release_claim)) {
  write_options_.sync = sync_;
  // MultiGet reads the data blocks a batch needs from one SST file with one MultiRead
  // (io/rocks_fs.h submits them together). async_io additionally reads several files
  // in parallel where RocksDB was built with coroutines (Debian's 7.8.3 is not: no
  // effect there, and no harm).
  multiget_options_.async_io = true;
  std::lock_guard<std::mutex> lock(ddl_mu_);
  for (auto& [name, cf] : parts.partitions) table_.Insert(MakePartition(name, cf));
}

RocksStore::~RocksStore() { (void)Close(); }

std::shared_ptr<Partition> RocksStore::MakePartition(std::string name,
                                                     rocksdb::ColumnFamilyHandle* cf) {
  uint64_t id = next_partition_id_++;
  if (mapping_ == Mapping::kShared) {
    std::string prefix = SharedPrefix(name);
    return std::make_shared<Partition>(std::move(name), id, db_.get(), shared_cf_, false,
                                       std::move(prefix));
  }
  return std::make_shared<Partition>(std::move(name), id, db_.get(), cf, true, std::string());
}

rocksdb::Slice RocksStore::RocksKey(const Partition& p, std::string_view key, std::string& buf) {
  if (p.prefix.empty()) return rocksdb::Slice(key.data(), key.size());
  buf.assign(p.prefix);
  buf.append(key);
  return rocksdb::Slice(buf);
}

Status RocksStore::CheckOpen() const {
  if (closed_.load(std::memory_order_acquire)) {
    return Status::IOError("rocks store '" + path_ + "' is closed");
  }
  return Status::OK();
}

Status RocksStore::Error(const rocksdb::Status& s, std::string_view verb,
                         std::string_view partition, std::string_view key) const {
  std::string what = "rocks " + std::string(verb);
  if (!key.empty()) what += " of key '" + Printable(key) + "'";
  what += " in partition '" + Printable(partition) + "' (store '" + path_ + "')";
  return Noted(FromRocks(s, what));
}

Status RocksStore::Noted(Status status) const {
  if (status.IsNoSpace()) no_space_.store(true);
  return status;
}

Result<std::shared_ptr<Partition>> RocksStore::Lookup(std::string_view partition, bool create) {
  std::shared_ptr<Partition> p = table_.Find(partition);
  if (p || !create) return p;
  if (read_only_) {
    return Status::Unsupported("rocks store '" + path_ + "' is open read-only: cannot create " +
                               "partition '" + Printable(partition) + "'");
  }
  std::lock_guard<std::mutex> lock(ddl_mu_);
  p = table_.Find(partition);
  if (p) return p;
  if (mapping_ == Mapping::kShared) {
    std::string reg(kRegistryPrefix);
    reg.append(partition);
    rocksdb::Status s = db_->Put(write_options_, default_cf_, reg, rocksdb::Slice());
    if (!s.ok()) return Error(s, "create", partition);
    p = MakePartition(std::string(partition), nullptr);
  } else {
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    rocksdb::Status s = db_->CreateColumnFamily(partition_cf_options_, CfNameFor(partition), &cf);
    if (!s.ok()) return Error(s, "create", partition);
    p = MakePartition(std::string(partition), cf);
  }
  table_.Insert(p);
  return p;
}

Result<std::string> RocksStore::Get(std::string_view partition, std::string_view key) {
  REFKV_RETURN_IF_ERROR(CheckPartitionAndKey("get", partition, key));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::shared_ptr<Partition> p = table_.Find(partition);
  if (!p) return KeyNotFound(partition, key);
  thread_local std::string buf;
  std::string value;
  rocksdb::Status s = db_->Get(read_options_, p->cf, RocksKey(*p, key, buf), &value);
  if (s.IsNotFound()) return KeyNotFound(partition, key);
  if (!s.ok()) return Error(s, "get", partition, key);
  return value;
}

Result<std::vector<Result<std::string>>> RocksStore::MultiGet(
    std::string_view partition, const std::vector<std::string>& keys) {
  REFKV_RETURN_IF_ERROR(CheckPartition("multiget", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::shared_ptr<Partition> p = table_.Find(partition);
  // Gather the well-formed keys of an existing partition into one batched call.
  std::vector<size_t> index;
  std::vector<std::string> composite;
  std::vector<rocksdb::Slice> slices;
  if (p) {
    index.reserve(keys.size());
    slices.reserve(keys.size());
    if (!p->prefix.empty()) composite.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].empty()) continue;
      index.push_back(i);
      if (p->prefix.empty()) {
        slices.emplace_back(keys[i]);
      } else {
        composite.push_back(p->prefix + keys[i]);
        slices.emplace_back(composite.back());
      }
    }
  }
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  if (!slices.empty()) {
    db_->MultiGet(multiget_options_, p->cf, slices.size(), slices.data(), values.data(),
                  statuses.data());
  }
  std::vector<Result<std::string>> out;
  out.reserve(keys.size());
  size_t next = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (next < index.size() && index[next] == i) {
      const rocksdb::Status& s = statuses[next];
      if (s.ok()) {
        out.emplace_back(values[next].ToString());
      } else if (s.IsNotFound()) {
        out.emplace_back(KeyNotFound(partition, keys[i]));
      } else {
        out.emplace_back(Error(s, "multiget", partition, keys[i]));
      }
      ++next;
    } else if (keys[i].empty()) {
      out.emplace_back(CheckPartitionAndKey("multiget", partition, keys[i]));
    } else {
      out.emplace_back(KeyNotFound(partition, keys[i]));
    }
  }
  return out;
}

Status RocksStore::WriteOne(std::string_view verb, std::string_view partition, std::string_view key,
                            const std::string_view* value, const Predicate* predicate) {
  REFKV_RETURN_IF_ERROR(value != nullptr ? CheckWrite(verb, partition, key, *value)
                                         : CheckPartitionAndKey(verb, partition, key));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  // Only a write that may store a value creates the partition; in a partition that
  // does not exist every key is absent.
  const bool create =
      value != nullptr && (predicate == nullptr || predicate->kind() == Predicate::Kind::kAbsent);
  thread_local std::string key_buf;
  for (;;) {
    REFKV_ASSIGN_OR_RETURN(std::shared_ptr<Partition> p, Lookup(partition, create));
    if (!p) {
      if (predicate != nullptr) {
        REFKV_RETURN_IF_ERROR(EvaluatePredicate(partition, key, *predicate, false, {}));
      }
      return Status::OK();  // a delete of a key that cannot exist
    }
    KeyStripes::Stripe& stripe = stripes_.at(KeyStripes::IndexOf(p->hash, key));
    std::lock_guard<std::mutex> lock(stripe.mu);
    // DropPartition marks under every stripe: past this check, the partition stays
    // live until we release ours.
    if (p->dropped.load(std::memory_order_acquire)) continue;
    rocksdb::Slice rkey = RocksKey(*p, key, key_buf);
    bool present = true;
    if (predicate != nullptr) {
      std::string_view current;
      rocksdb::PinnableSlice pinned;
      const KeyStripes::Slot* slot = stripe.Find(p->id, key);
      if (slot != nullptr) {
        present = slot->present;
        current = slot->value;
      } else {
        rocksdb::Status s = db_->Get(read_options_, p->cf, rkey, &pinned);
        if (s.ok()) {
          current = std::string_view(pinned.data(), pinned.size());
        } else if (s.IsNotFound()) {
          present = false;
        } else {
          return Error(s, verb, partition, key);
        }
      }
      Status held = EvaluatePredicate(partition, key, *predicate, present, current);
      if (!held.ok()) {
        if (slot == nullptr) stripe.Remember(p->id, key, present ? &current : nullptr);
        return held;
      }
      if (value == nullptr && !present) return Status::OK();  // DeleteIf(absent)
    }
    rocksdb::Status s;
    if (value != nullptr) {
      s = db_->Put(write_options_, p->cf, rkey, rocksdb::Slice(value->data(), value->size()));
    } else {
      s = db_->Delete(write_options_, p->cf, rkey);
    }
    if (!s.ok()) {
      stripe.Forget(p->id, key);
      return Error(s, verb, partition, key);
    }
    // Plain writes refresh only keys already cached: copying every Set's value into
    // the cache cost ~5% of Set throughput, and a key no SetIf reads needs no entry.
    if (predicate != nullptr || stripe.Find(p->id, key) != nullptr) {
      stripe.Remember(p->id, key, value);
    }
    return Status::OK();
  }
}

Status RocksStore::Set(std::string_view partition, std::string_view key, std::string_view value) {
  return WriteOne("set", partition, key, &value, nullptr);
}

Status RocksStore::SetIf(std::string_view partition, std::string_view key, std::string_view value,
                         const Predicate& predicate) {
  return WriteOne("setif", partition, key, &value, &predicate);
}

Status RocksStore::Delete(std::string_view partition, std::string_view key) {
  return WriteOne("delete", partition, key, nullptr, nullptr);
}

Status RocksStore::DeleteIf(std::string_view partition, std::string_view key,
                            const Predicate& predicate) {
  return WriteOne("deleteif", partition, key, nullptr, &predicate);
}

Status RocksStore::Write(std::string_view partition, const WriteBatch& batch) {
  REFKV_RETURN_IF_ERROR(CheckBatch("write", partition, batch));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  if (batch.empty()) return Status::OK();
  std::vector<size_t> order;
  std::vector<size_t> index(batch.size());
  std::string key_buf;
  for (;;) {
    REFKV_ASSIGN_OR_RETURN(std::shared_ptr<Partition> p, Lookup(partition, true));
    order.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      index[i] = KeyStripes::IndexOf(p->hash, batch.ops()[i].key);
      order.push_back(index[i]);
    }
    // Ascending stripe order, each once: the same order as every other multi-stripe
    // locker, so no deadlock.
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    for (size_t i : order) stripes_.at(i).mu.lock();
    auto unlock = [&] {
      for (auto i = order.rbegin(); i != order.rend(); ++i) stripes_.at(*i).mu.unlock();
    };
    if (p->dropped.load(std::memory_order_acquire)) {
      unlock();
      continue;
    }
    rocksdb::WriteBatch wb;
    rocksdb::Status s;
    for (const auto& op : batch.ops()) {
      rocksdb::Slice rkey = RocksKey(*p, op.key, key_buf);
      s = op.kind == WriteBatch::Op::Kind::kPut ? wb.Put(p->cf, rkey, op.value)
                                                : wb.Delete(p->cf, rkey);
      if (!s.ok()) break;
    }
    if (s.ok()) s = db_->Write(write_options_, &wb);
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& op = batch.ops()[i];
      KeyStripes::Stripe& stripe = stripes_.at(index[i]);
      if (!s.ok()) {
        stripe.Forget(p->id, op.key);
      } else if (op.kind == WriteBatch::Op::Kind::kPut) {
        std::string_view v = op.value;
        stripe.Remember(p->id, op.key, &v);
      } else {
        stripe.Remember(p->id, op.key, nullptr);
      }
    }
    unlock();
    if (!s.ok()) return Error(s, "write", partition);
    return Status::OK();
  }
}

Status RocksStore::DeleteRange(std::string_view partition, std::string_view from,
                               std::string_view to) {
  REFKV_RETURN_IF_ERROR(CheckPartition("deleterange", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  if (!to.empty() && to <= from) return Status::OK();
  if (!table_.Find(partition)) return Status::OK();
  // Every stripe: no write of any key can interleave with the range tombstone, so a
  // SetIf never compares against a value the range delete removed.
  AllStripesLock all(stripes_);
  std::shared_ptr<Partition> p = table_.Find(partition);  // drops also hold every stripe
  if (!p) return Status::OK();
  std::string begin, end;
  if (mapping_ == Mapping::kShared) {
    begin = p->prefix + std::string(from);
    end = to.empty() ? PrefixUpperBound(p->prefix) : p->prefix + std::string(to);
  } else {
    begin = std::string(from);
    if (!to.empty()) {
      end = std::string(to);
    } else {
      // Keys have no upper bound in a column family of their own: end just past the
      // last key, found while no writer can add one (we hold every stripe).
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_, p->cf));
      it->SeekToLast();
      if (!it->status().ok()) return Error(it->status(), "deleterange", partition);
      if (!it->Valid() || it->key().ToStringView() < from) return Status::OK();
      end = it->key().ToString();
      end.push_back('\0');
    }
  }
  rocksdb::Status s = db_->DeleteRange(write_options_, p->cf, begin, end);
  stripes_.ForgetPartitionLocked(p->id);
  if (!s.ok()) return Error(s, "deleterange", partition, from);
  return Status::OK();
}

Status RocksStore::DropPartition(std::string_view partition) {
  REFKV_RETURN_IF_ERROR(CheckPartition("droppartition", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::lock_guard<std::mutex> ddl(ddl_mu_);
  std::shared_ptr<Partition> p = table_.Find(partition);
  if (!p) return Status::OK();
  {
    AllStripesLock all(stripes_);
    if (mapping_ == Mapping::kShared) {
      rocksdb::WriteBatch wb;
      std::string reg(kRegistryPrefix);
      reg.append(partition);
      rocksdb::Status s = wb.DeleteRange(p->cf, p->prefix, PrefixUpperBound(p->prefix));
      if (s.ok()) s = wb.Delete(default_cf_, reg);
      if (s.ok()) s = db_->Write(write_options_, &wb);
      if (!s.ok()) return Error(s, "droppartition", partition);
    }
    p->dropped.store(true, std::memory_order_release);
    table_.Erase(partition);
  }
  if (mapping_ == Mapping::kColumnFamily) {
    // Outside the stripes: dropping a column family costs O(families) (DESIGN.md).
    // Writers that found the partition dropped wait on ddl_mu_ to re-create it.
    rocksdb::Status s = db_->DropColumnFamily(p->cf);
    if (!s.ok()) {
      p->dropped.store(false, std::memory_order_release);
      table_.Insert(p);
      return Error(s, "droppartition", partition);
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<Iterator>> RocksStore::Scan(std::string_view partition,
                                                   const ScanOptions& options) {
  REFKV_RETURN_IF_ERROR(CheckPartition("scan", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::shared_ptr<Partition> p = table_.Find(partition);
  if (!p) return std::unique_ptr<Iterator>(std::make_unique<EmptyIterator>());
  auto it = std::make_unique<RocksIterator>(std::move(p), options);
  it->Seek(options.start);
  return std::unique_ptr<Iterator>(std::move(it));
}

Result<std::vector<std::string>> RocksStore::ListPartitions() {
  REFKV_RETURN_IF_ERROR(CheckOpen());
  return table_.Names();
}

Status RocksStore::PreparePartitions(const std::vector<std::string>& partitions) {
  for (const auto& name : partitions) {
    REFKV_RETURN_IF_ERROR(CheckWritePartition("prepare", name));
  }
  REFKV_RETURN_IF_ERROR(CheckOpen());
  if (read_only_) return Status::Unsupported("rocks store '" + path_ + "' is open read-only");
  std::lock_guard<std::mutex> ddl(ddl_mu_);
  std::set<std::string> missing;
  for (const auto& name : partitions) {
    if (!table_.Find(name)) missing.insert(name);
  }
  if (missing.empty()) return Status::OK();
  if (mapping_ == Mapping::kShared) {
    rocksdb::WriteBatch wb;
    for (const auto& name : missing) {
      rocksdb::Status s =
          wb.Put(default_cf_, std::string(kRegistryPrefix) + name, rocksdb::Slice());
      if (!s.ok()) return Error(s, "prepare", name);
    }
    rocksdb::Status s = db_->Write(write_options_, &wb);
    if (!s.ok()) return Error(s, "prepare", *missing.begin());
    for (const auto& name : missing) table_.Insert(MakePartition(name, nullptr));
    return Status::OK();
  }
  std::vector<std::string> names(missing.begin(), missing.end());
  std::vector<std::string> cf_names;
  cf_names.reserve(names.size());
  for (const auto& name : names) cf_names.push_back(CfNameFor(name));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = db_->CreateColumnFamilies(partition_cf_options_, cf_names, &handles);
  // On failure RocksDB returns the handles of the families it did create, in order.
  for (size_t i = 0; i < handles.size() && i < names.size(); ++i) {
    table_.Insert(MakePartition(names[i], handles[i]));
  }
  if (!s.ok()) return Error(s, "prepare", names[std::min(handles.size(), names.size() - 1)]);
  return Status::OK();
}

std::vector<StoreProperty> RocksStore::Properties() {
  std::vector<StoreProperty> out{{"path", path_},
                                 {"mapping", std::string(MappingName(mapping_))},
                                 {"sync", sync_ ? "true" : "false"},
                                 {"partitions", std::to_string(table_.size())}};
  if (closed_.load()) return out;
  uint64_t keys = 0, sst = 0, mem = 0, v = 0;
  auto add = [&](rocksdb::ColumnFamilyHandle* cf) {
    if (db_->GetIntProperty(cf, "rocksdb.estimate-num-keys", &v)) keys += v;
    if (db_->GetIntProperty(cf, "rocksdb.total-sst-files-size", &v)) sst += v;
    if (db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) mem += v;
  };
  if (mapping_ == Mapping::kShared) {
    add(shared_cf_);
  } else {
    for (const auto& p : table_.All()) add(p->cf);
  }
  out.push_back({"estimated_keys", std::to_string(keys)});
  out.push_back({"sst_bytes", std::to_string(sst)});
  // Unflushed data (a checkpoint flushes it first): the migrate pre-flight counts it.
  out.push_back({"memtable_bytes", std::to_string(mem)});
  return out;
}

// Memtables: the entries of the range, counted. Table files: the approximate bytes of the
// range, and the entries of the tables that overlap it scaled by the share of their data
// the range covers. A key both in a memtable and in a table file counts twice.
Result<SizeEstimate> RocksStore::EstimateRange(std::string_view partition, std::string_view start,
                                               std::string_view end) {
  REFKV_RETURN_IF_ERROR(CheckPartition("estimate", partition));
  REFKV_RETURN_IF_ERROR(CheckOpen());
  std::shared_ptr<Partition> p = table_.Find(partition);
  if (!p) return SizeEstimate{};
  std::string begin_key = p->prefix + std::string(start);
  std::string end_key;
  if (!end.empty()) {
    end_key = p->prefix + std::string(end);
  } else if (!p->prefix.empty()) {
    end_key = PrefixUpperBound(p->prefix);
  } else {
    // Keys have no upper bound in a family of their own: just past the last one.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_, p->cf));
    it->SeekToLast();
    if (!it->status().ok()) return Error(it->status(), "estimate", partition);
    if (!it->Valid()) return SizeEstimate{};
    end_key = it->key().ToString();
    end_key.push_back('\0');
  }
  if (end_key <= begin_key) return SizeEstimate{};
  rocksdb::Range range(begin_key, end_key);
  SizeEstimate out;
  // RocksDB's memtable statistics are a sample of the skip list (off by 2x and more
  // here): the memtables are counted instead, a bounded walk in memory.
  uint64_t mem_count = 0, mem_bytes = 0;
  {
    rocksdb::ReadOptions memtables;
    memtables.read_tier = rocksdb::kMemtableTier;
    rocksdb::Slice upper(end_key);
    memtables.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(memtables, p->cf));
    for (it->Seek(begin_key); it->Valid(); it->Next()) {
      ++mem_count;
      mem_bytes += it->key().size() + it->value().size();
    }
    if (!it->status().ok() && !it->status().IsIncomplete()) {
      return Error(it->status(), "estimate", partition, start);
    }
  }
  rocksdb::SizeApproximationOptions files_only;
  files_only.include_memtables = false;
  files_only.include_files = true;
  uint64_t file_bytes = 0;
  rocksdb::Status s = db_->GetApproximateSizes(files_only, p->cf, &range, 1, &file_bytes);
  if (!s.ok()) return Error(s, "estimate", partition, start);
  uint64_t file_keys = 0;
  if (file_bytes > 0) {
    rocksdb::TablePropertiesCollection tables;
    s = db_->GetPropertiesOfTablesInRange(p->cf, &range, 1, &tables);
    if (!s.ok()) return Error(s, "estimate", partition, start);
    uint64_t entries = 0, data = 0;
    for (const auto& [file, props] : tables) {
      entries += props->num_entries;
      data += props->data_size;
    }
    if (data > 0) {
      const double share = std::min(1.0, static_cast<double>(file_bytes) / data);
      file_keys = static_cast<uint64_t>(static_cast<double>(entries) * share + 0.5);
    }
  }
  out.keys = mem_count + file_keys;
  out.bytes = mem_bytes + file_bytes;
  return out;
}

// One fsync of the WAL (every live WAL file), skipped when nothing was written since the
// last Sync. Why the skip is sound: RocksDB publishes a write's sequence number
// (GetLatestSequenceNumber) only after the write is appended to the WAL, and a write is
// acknowledged only after that. So every write acknowledged before this call has a sequence
// number <= `seq`; if an earlier Sync already read a `seq` at least as high before its
// fsync, those writes were in the WAL that fsync made durable.
// The fsync is an empty batch written with sync=true, which fsyncs every live WAL file as
// SyncWAL does, but through the write path: SyncWAL syncs the WAL writer without looking
// at RocksDB's background error, and once a write failed (ENOSPC) that writer is in an
// error state whose next use asserts in Debian's librocksdb (SIGABRT). The write path
// returns the background error instead, and runs in RocksDB's write queue, so no write
// can fail between that check and the fsync. An empty batch takes no sequence number.
// With sync=true every write fsynced the WAL before it was acknowledged: nothing to do.
Status RocksStore::Sync() {
  REFKV_RETURN_IF_ERROR(CheckOpen());
  if (read_only_ || sync_) return Status::OK();
  const uint64_t seq = db_->GetLatestSequenceNumber();
  if (seq <= synced_seq_.load(std::memory_order_acquire)) return Status::OK();
  // Concurrent Syncs coalesce: one fsyncs at a time, and it covers every write
  // acknowledged before it took the lock, so a caller that waited for it usually finds
  // its own writes covered and skips its fsync. (A synced write holds RocksDB's write
  // queue while it fsyncs, so every fsync saved frees the other writers too.)
  std::lock_guard<std::mutex> lock(sync_mu_);
  if (seq <= synced_seq_.load(std::memory_order_acquire)) return Status::OK();
  const uint64_t covered = db_->GetLatestSequenceNumber();  // >= seq; monotonic under the lock
  rocksdb::WriteOptions synced;
  synced.sync = true;
  rocksdb::WriteBatch empty;
  rocksdb::Status s = db_->Write(synced, &empty);
  if (!s.ok()) return Noted(FromRocks(s, "rocks sync of the WAL of store '" + path_ + "'"));
  synced_seq_.store(covered, std::memory_order_release);
  return Status::OK();
}

Status RocksStore::Close() {
  if (closed_.exchange(true)) return Status::OK();
  table_.Clear();  // destroys the column family handles (no iterator may be alive)
  if (shared_cf_ != nullptr) {
    (void)db_->DestroyColumnFamilyHandle(shared_cf_);
    shared_cf_ = nullptr;
  }
  // The pid file goes before the LOCK: once RocksDB releases the LOCK another process
  // may open the store and write its own pid file.
  if (!pid_file_.empty()) {
    std::error_code ec;
    std::filesystem::remove(pid_file_, ec);
  }
  rocksdb::Status s = db_->Close();
  db_.reset();
  if (release_claim_) release_claim_();
  if (!s.ok()) {
    Status closed = FromRocks(s, "rocks close of store '" + path_ + "'");
    // After a full file system RocksDB reports the WAL it could not finish ("Seen error");
    // every write acknowledged before was appended in full, so reopening finds it.
    if (no_space_.load() && !closed.IsNoSpace()) {
      return Status::NoSpace(closed.message() +
                             " (after a write failed for lack of space; the writes "
                             "acknowledged before it are in the WAL)");
    }
    return closed;
  }
  return Status::OK();
}

}  // namespace refkv::kv::rocks
