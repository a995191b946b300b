// Opening a RocksDB store: URI parameters, path checks, RocksDB options, the opening
// lock, the LOCK and the pid file, the mapping record, and the partitions found at open.
#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>

#include "engine/rocks/rocks_store.h"
#include "engine/rocks/rocks_store_impl.h"
#include "engine/rocks/store_fs.h"
#include "io/rocks_fs.h"

namespace refkv::kv {
namespace rocks {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPidFile = "refkv.pid";

// Paths (canonical) of the stores open in this process. RocksDB's LOCK is an fcntl
// lock, which does not exclude a second open from the same process reliably across
// its versions; this does, and gives a clearer message.
struct OpenPaths {
  std::mutex mu;
  std::set<std::string> paths;
};

OpenPaths& Claims() {
  static OpenPaths* claims = new OpenPaths();  // never destroyed: used until exit
  return *claims;
}

bool Claim(const std::string& path) {
  OpenPaths& c = Claims();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.paths.insert(path).second;
}

void Unclaim(const std::string& path) {
  OpenPaths& c = Claims();
  std::lock_guard<std::mutex> lock(c.mu);
  c.paths.erase(path);
}

std::string ReadPid(const std::string& dir) {
  std::ifstream in(dir + "/" + std::string(kPidFile));
  std::string pid;
  if (!(in >> pid)) return "unknown";
  if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return "unknown";
  }
  return pid;
}

// Serialises the opening of one store directory across processes: an exclusive
// flock(2) on the directory, taken before RocksDB touches any file and released when
// the open is over (or the process dies). RocksDB's DB::Open rotates and trims the info
// LOG files, and ListColumnFamilies reads CURRENT and the MANIFEST that an opener
// replaces, all before RocksDB takes its LOCK: processes opening one store at once
// raced on those files, and one failed with an IOError ("while unlink() file:
// .../LOG.old.N: No such file or directory") instead of opening or getting Busy.
// Opens are short, so a second opener simply waits. Where the file system has no
// flock, opens go unserialised, as before.
class OpeningLock {
 public:
  explicit OpeningLock(const std::string& dir)
      : fd_(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) return;
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      close(fd_);
      fd_ = -1;
      return;
    }
  }
  ~OpeningLock() {
    if (fd_ >= 0) close(fd_);  // releases the flock
  }
  OpeningLock(const OpeningLock&) = delete;
  OpeningLock& operator=(const OpeningLock&) = delete;

 private:
  int fd_;
};

// The pid of another process that holds RocksDB's LOCK on the store in `dir` (an fcntl
// write lock), or nullopt. Stable only under the OpeningLock: nobody else can take the
// LOCK meanwhile. Precondition: this process does not hold that LOCK (the claim makes
// sure), since closing any descriptor of the file would drop this process's own lock.
std::optional<pid_t> LockHolder(const std::string& dir) {
  int fd = open((dir + "/LOCK").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no LOCK file: a fresh store, nobody holds it
  struct flock probe = {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  int r = fcntl(fd, F_GETLK, &probe);
  close(fd);
  if (r != 0 || probe.l_type == F_UNLCK) return std::nullopt;
  return probe.l_pid;  // 0 if the holder is in another pid namespace
}

// What a store creation that failed before RocksDB wrote CURRENT (an I/O error, a full
// disk, a kill) leaves in the directory: RocksDB's LOCK, info logs, IDENTITY, the first
// MANIFEST, OPTIONS and WAL files and their temporaries, and this driver's pid file. A
// directory holding nothing else is an unborn store: the next open creates it afresh
// (after RemoveCreationDebris) instead of refusing it as foreign.
bool IsCreationDebris(const std::string& name) {
  auto starts = [&](std::string_view p) { return name.rfind(p, 0) == 0; };
  auto ends = [&](std::string_view p) {
    return name.size() >= p.size() && name.compare(name.size() - p.size(), p.size(), p) == 0;
  };
  return name == "LOCK" || name == "LOG" || name == "IDENTITY" || name == kPidFile ||
         starts("LOG.old.") || starts("MANIFEST-") || starts("OPTIONS-") || ends(".dbtmp") ||
         (ends(".log") && name.size() > 4 &&
          std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; }));
}

bool OnlyCreationDebris(const std::string& dir) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec) || !IsCreationDebris(entry.path().filename().string())) {
      return false;
    }
  }
  return !ec;
}

Status RemoveCreationDebris(const std::string& dir) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (!IsCreationDebris(entry.path().filename().string())) continue;
    if (!fs::remove(entry.path(), ec) && ec) break;
  }
  if (!ec) return Status::OK();
  return Status::IOError("cannot clear the failed creation in '" + dir + "': " + ec.message());
}

bool IsLockError(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  std::string msg = s.ToString();
  return msg.find("lock") != std::string::npos || msg.find("LOCK") != std::string::npos ||
         msg.find("Resource temporarily unavailable") != std::string::npos;
}

Result<size_t> SizeParam(const Uri& uri, std::string_view name, size_t fallback, size_t max) {
  std::string text = uri.Param(name);
  if (text.empty()) return fallback;
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > max) {
    return Status::InvalidArgument("URI '" + uri.raw + "': parameter '" + std::string(name) +
                                   "' must be an integer in [1, " + std::to_string(max) +
                                   "], got '" + text + "'");
  }
  return value;
}

// Option choices, and why (RocksDB 7.8.3 on 2 cores; measurements in DESIGN.md):
//  - One LRU block cache shared by every column family (block_cache_mb, default 64 MiB):
//    memory for reads does not grow with the number of partitions.
//  - max_open_files = 1024: every SST kept open costs a descriptor, and thousands of
//    families with a few files each hit the 20,000-descriptor limit; 1024 table readers
//    cover a metadata store's working set, a miss costs one open and a footer read.
//  - No shared WriteBufferManager: with writes spread over 1,000 families a 64 MiB one
//    caused a flush storm (~19k tiny SSTs, 15-18k writes/s instead of ~390k/s). Instead
//    max_total_wal_size = 256 MiB bounds unflushed data across families: when the WAL
//    grows past it RocksDB flushes the families holding its oldest entries only.
//  - Per family: arena_block_size = 64 KiB, so a family that received one write
//    reserves 64 KiB of memtable arena, not ~1 MiB; write_buffer_size stays RocksDB's
//    64 MiB (a cap, not a reservation) so one hot partition flushes as rarely as a plain
//    RocksDB; max_write_buffer_number = 2.
//  - Bloom filters (10 bits/key): SetIf(absent) and Get of missing keys skip SST reads.
//  - max_background_jobs = 2: the machine has 2 cores.
//  - avoid_flush_during_recovery: Close does not flush memtables, so the next open
//    replays the WAL; flushing it there made the first open after a Close 8x slower
//    (1,000 families: 8.5 s vs 1.1 s; shared mapping with 10,000 partitions: 1.42 s vs
//    59 ms). The replayed data stays in the memtables and the WAL until a normal flush.
struct Tuning {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::TableFactory> table;
};

Tuning MakeTuning(size_t block_cache_mb) {
  Tuning t;
  t.cache = rocksdb::NewLRUCache(block_cache_mb << 20);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = t.cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.table.reset(rocksdb::NewBlockBasedTableFactory(table));
  return t;
}

rocksdb::DBOptions MakeDbOptions() {
  rocksdb::DBOptions o;
  o.max_open_files = 1024;
  o.max_background_jobs = 2;
  o.max_total_wal_size = 256ull << 20;
  o.avoid_flush_during_recovery = true;
  o.keep_log_file_num = 3;
  o.max_log_file_size = 8ull << 20;
  // No automatic resume after a background write error (an I/O error, a full disk): the
  // store answers the error until it is reopened. Debian's librocksdb keeps its asserts,
  // and its resume path can abort the process (DBImpl::ResumeImpl, "file_deletion_disabled",
  // seen once in 1,000 injected-error trials of scripts/stress).
  o.max_bgerror_resume_count = 0;
  return o;
}

rocksdb::ColumnFamilyOptions MakeCfOptions(const Tuning& t) {
  rocksdb::ColumnFamilyOptions o;
  o.table_factory = t.table;
  o.arena_block_size = 64 << 10;
  o.max_write_buffer_number = 2;
  o.level_compaction_dynamic_level_bytes = true;
  return o;
}

}  // namespace
}  // namespace rocks

Result<std::unique_ptr<Store>> OpenRocksStore(const Uri& uri, const OpenOptions& options) {
  using namespace rocks;  // NOLINT: this file is the driver's own
  static const std::set<std::string> kKnown{"partitions", "sync",         "block_cache_mb",
                                            "io_uring",   "direct_reads", "write_buffer_mb"};
  for (const auto& [name, value] : uri.params) {
    if (!kKnown.count(name)) {
      return Status::InvalidArgument(
          "URI '" + uri.raw + "': unknown parameter '" + name +
          "' for rocks:// (known: block_cache_mb, direct_reads, io_uring, "
          "partitions, sync, write_buffer_mb)");
    }
  }
  std::optional<Mapping> requested;
  std::string mapping_param = uri.Param("partitions");
  if (mapping_param == "cf") {
    requested = Mapping::kColumnFamily;
  } else if (mapping_param == "shared") {
    requested = Mapping::kShared;
  } else if (!mapping_param.empty()) {
    return Status::InvalidArgument("URI '" + uri.raw + "': parameter 'partitions' must be 'cf' " +
                                   "or 'shared', got '" + mapping_param + "'");
  }
  REFKV_ASSIGN_OR_RETURN(bool sync, uri.BoolParam("sync", false));
  REFKV_ASSIGN_OR_RETURN(size_t cache_mb, SizeParam(uri, "block_cache_mb", 64, 1 << 20));
  REFKV_ASSIGN_OR_RETURN(size_t write_buffer_mb, SizeParam(uri, "write_buffer_mb", 64, 4096));
  REFKV_ASSIGN_OR_RETURN(bool io_uring, uri.BoolParam("io_uring", true));
  REFKV_ASSIGN_OR_RETURN(bool direct_reads, uri.BoolParam("direct_reads", false));

  const std::string& path = uri.location;
  if (path.empty()) {
    return Status::InvalidArgument("URI '" + uri.raw +
                                   "': rocks:// needs a directory path, e.g. rocks://./refkv-data");
  }
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  bool fresh = false;
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot inspect '" + path + "': " + ec.message());
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::InvalidArgument("'" + path + "' is a file, not a refkv store directory");
    }
    if (!fs::exists(fs::path(path) / "CURRENT", ec)) {
      if (!fs::is_empty(path, ec) && !OnlyCreationDebris(path)) {
        return Status::InvalidArgument(
            "'" + path +
            "' is a non-empty directory that is not a refkv store (no RocksDB CURRENT file)");
      }
      fresh = true;
    }
  } else {
    fresh = true;
  }
  if (fresh && (!options.create_if_missing || options.read_only)) {
    return Status::NotFound("no refkv store at '" + path + "' (not creating it: " +
                            (options.read_only ? "read-only open)" : "create_if_missing is off)"));
  }
  if (fresh && !fs::exists(st) && !fs::create_directories(path, ec) && ec) {
    return Status::IOError("cannot create store directory '" + path + "': " + ec.message());
  }
  std::string canonical = fs::canonical(path, ec).string();
  if (ec) return Status::IOError("cannot resolve '" + path + "': " + ec.message());
  if (!Claim(canonical)) {
    return Status::Busy("rocks store '" + canonical + "' is already open in this process (pid " +
                        std::to_string(getpid()) + ")");
  }
  bool claimed = true;
  struct Unclaimer {
    const std::string& path;
    bool& claimed;
    ~Unclaimer() {
      if (claimed) Unclaim(path);
    }
  } unclaimer{canonical, claimed};

  // From here to the end of the open no other process opens this store; a writer that
  // finds the store held answers Busy without touching any of its files.
  OpeningLock opening(canonical);
  auto busy = [&](std::string holder) {
    return Status::Busy("rocks store '" + canonical + "' is in use by another process (pid " +
                        holder + ")");
  };
  if (!options.read_only) {
    if (std::optional<pid_t> holder = LockHolder(canonical)) {
      return busy(*holder > 0 ? std::to_string(*holder) : ReadPid(canonical));
    }
  }
  // Another process may have created the store while this one waited.
  if (fresh && fs::exists(fs::path(canonical) / "CURRENT", ec)) fresh = false;
  if (fresh) REFKV_RETURN_IF_ERROR(RemoveCreationDebris(canonical));

  Tuning tuning = MakeTuning(cache_mb);
  rocksdb::DBOptions db_options = MakeDbOptions();
  // MultiRead through io_uring (io/rocks_fs.h); without it (probe failed, io_uring=false,
  // REFKV_IO_URING=0) the base file system (the default, or the one a test installed:
  // io::RocksBaseFileSystem). Either way under the full-disk guards of store_fs.h. The
  // Env must outlive the DB: declared before it here, handed to the store with it.
  std::shared_ptr<rocksdb::FileSystem> base_fs = io::RocksBaseFileSystem();
  if (io_uring && io::RocksUringUsable()) base_fs = io::NewUringFileSystem(std::move(base_fs));
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(NewStoreFileSystem(base_fs));
  db_options.env = env.get();
  db_options.use_direct_reads = direct_reads;
  db_options.create_if_missing = fresh;
  rocksdb::ColumnFamilyOptions cf_options = MakeCfOptions(tuning);
  cf_options.write_buffer_size = write_buffer_mb << 20;

  std::vector<std::string> cf_names{std::string(rocksdb::kDefaultColumnFamilyName)};
  if (!fresh) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, canonical, &cf_names);
    if (!s.ok()) return FromRocks(s, "rocks open of '" + canonical + "': listing column families");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : cf_names) descriptors.emplace_back(name, cf_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, canonical, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, canonical, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (IsLockError(s)) return busy(ReadPid(canonical));
    // RocksDB retries a failed open of CURRENT or the MANIFEST without direct reads and,
    // when the retry works, blames direct I/O even with direct reads off
    // (db_impl_open.cc): what failed was a read, once.
    if (!direct_reads && s.IsInvalidArgument() &&
        s.ToString().find("Direct I/O is not supported") != std::string::npos) {
      return Status::IOError(
          "rocks open of '" + canonical +
              "': reading CURRENT or the MANIFEST failed once (RocksDB: " + s.ToString() + ")",
          /*retryable=*/true);
    }
    return FromRocks(s, "rocks open of '" + canonical + "'");
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  // From here every exit destroys the handles we do not hand over.
  auto destroy_all = [&] {
    for (auto*& h : handles) {
      if (h != nullptr) (void)db->DestroyColumnFamilyHandle(h);
      h = nullptr;
    }
  };
  auto fail = [&](Status status) -> Result<std::unique_ptr<Store>> {
    destroy_all();
    (void)db->Close();
    return status;
  };

  if (!options.read_only) {
    // Staged ingest files left by a crash (rocks_ingest.cc): ours alone now that the
    // RocksDB lock is held; never part of the database (ingestion hard-links them).
    const fs::path staging = fs::path(canonical) / std::string(kIngestStagingDir);
    std::error_code rm_ec;
    fs::remove_all(staging, rm_ec);
    if (rm_ec) {
      return fail(Status::IOError("rocks open of '" + canonical +
                                  "': cannot remove staged ingest files in '" + staging.string() +
                                  "': " + rm_ec.message()));
    }
  }

  rocksdb::ColumnFamilyHandle* default_cf = db->DefaultColumnFamily();
  rocksdb::ReadOptions ro;
  std::string marker, recorded;
  s = db->Get(ro, default_cf, kMarkerKey, &marker);
  if (!s.ok() && !s.IsNotFound()) return fail(FromRocks(s, "rocks open: reading the marker"));
  Mapping mapping;
  if (s.ok()) {
    if (marker != kMarkerValue) {
      return fail(Status::VersionMismatch("'" + canonical + "': unknown refkv rocks marker '" +
                                          Printable(marker) + "' (this code writes '" +
                                          std::string(kMarkerValue) + "')"));
    }
    s = db->Get(ro, default_cf, kMappingKey, &recorded);
    if (!s.ok()) {
      return fail(Status::Corruption("'" + canonical + "': the partition mapping record '" +
                                     std::string(kMappingKey) +
                                     "' is unreadable: " + s.ToString()));
    }
    if (recorded == "cf") {
      mapping = Mapping::kColumnFamily;
    } else if (recorded == "shared") {
      mapping = Mapping::kShared;
    } else {
      return fail(Status::Corruption("'" + canonical + "': unknown partition mapping '" +
                                     Printable(recorded) + "'"));
    }
    if (requested && *requested != mapping) {
      return fail(Status::InvalidArgument(
          "'" + canonical + "' was created with partitions=" + recorded +
          "; it cannot be opened with partitions=" + std::string(MappingName(*requested)) +
          " (omit the parameter to use the recorded mapping)"));
    }
  } else {
    // No marker: a store whose creation was interrupted (nothing but the default and
    // "shared" families, the default one empty) is finished now; anything else is not
    // ours.
    bool unfinished = std::all_of(cf_names.begin(), cf_names.end(), [](const std::string& n) {
      return n == rocksdb::kDefaultColumnFamilyName || n == kSharedCf;
    });
    if (unfinished) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, default_cf));
      it->SeekToFirst();
      unfinished = !it->Valid() && it->status().ok();
    }
    if (!unfinished) {
      return fail(Status::InvalidArgument("'" + canonical +
                                          "' holds a RocksDB database that is not a refkv store "
                                          "(no refkv marker)"));
    }
    if (options.read_only) {
      return fail(Status::NotFound("'" + canonical + "' is not an initialised refkv store"));
    }
    mapping = requested.value_or(Mapping::kColumnFamily);
    if (mapping == Mapping::kShared &&
        std::find(cf_names.begin(), cf_names.end(), kSharedCf) == cf_names.end()) {
      rocksdb::ColumnFamilyHandle* h = nullptr;
      s = db->CreateColumnFamily(cf_options, std::string(kSharedCf), &h);
      if (!s.ok()) return fail(FromRocks(s, "rocks open: creating the shared column family"));
      cf_names.emplace_back(kSharedCf);
      handles.push_back(h);
    }
    rocksdb::WriteBatch wb;
    (void)wb.Put(default_cf, kMappingKey, MappingName(mapping));
    (void)wb.Put(default_cf, kMarkerKey, kMarkerValue);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    s = db->Write(synced, &wb);
    if (!s.ok()) return fail(FromRocks(s, "rocks open: writing the store marker"));
  }

  RocksParts parts;
  parts.path = canonical;
  parts.mapping = mapping;
  parts.sync = sync;
  parts.read_only = options.read_only;
  parts.default_cf = default_cf;
  parts.partition_cf_options = cf_options;
  for (size_t i = 0; i < cf_names.size(); ++i) {
    std::string partition;
    if (mapping == Mapping::kShared && cf_names[i] == kSharedCf) {
      parts.shared_cf = handles[i];
      handles[i] = nullptr;
    } else if (mapping == Mapping::kColumnFamily && PartitionOfCf(cf_names[i], &partition)) {
      parts.partitions.emplace_back(std::move(partition), handles[i]);
      handles[i] = nullptr;
    }
  }
  if (mapping == Mapping::kShared) {
    if (parts.shared_cf == nullptr) {
      return fail(Status::Corruption("'" + canonical + "': the 'shared' column family is missing"));
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, default_cf));
    for (it->Seek(kRegistryPrefix); it->Valid() && it->key().starts_with(kRegistryPrefix);
         it->Next()) {
      parts.partitions.emplace_back(it->key().ToString().substr(kRegistryPrefix.size()), nullptr);
    }
    if (!it->status().ok()) {
      rocksdb::Status is = it->status();
      it.reset();
      (void)db->DestroyColumnFamilyHandle(parts.shared_cf);
      return fail(FromRocks(is, "rocks open: reading the partition registry"));
    }
  }
  destroy_all();  // the default family's extra handle and families of no partition

  if (!options.read_only) {
    parts.pid_file = canonical + "/" + std::string(kPidFile);
    std::ofstream out(parts.pid_file, std::ios::trunc);
    out << getpid() << "\n";
  }
  parts.db = std::move(db);
  parts.env = std::move(env);
  claimed = false;  // the store releases its claim in Close
  parts.release_claim = [canonical] { Unclaim(canonical); };
  return std::unique_ptr<Store>(std::make_unique<RocksStore>(std::move(parts)));
}

}  // namespace refkv::kv

// Linking refkv_rocks registers the driver: its CMake target passes
// -Wl,--undefined=refkv_rocks_driver to every link, which keeps this object file (and so
// this initialiser) in a static link that names no other symbol of it.
extern "C" {
extern const bool refkv_rocks_driver;
const bool refkv_rocks_driver = [] {
  (void)refkv::kv::RegisterDriver("rocks", refkv::kv::OpenRocksStore);
  (void)refkv::kv::RegisterDriver("rocksdb", refkv::kv::OpenRocksStore);
  return true;
}();
}
