// The directory RangeStore: one file per object, written atomically (temp, fsync, rename).
#include <rocksdb/env.h>

#include <algorithm>
#include <random>

#include "base/hex.h"
#include "base/random.h"
#include "io/rocks_fs.h"
#include "refstore/committed/encoding.h"
#include "refstore/committed/range_store.h"

namespace refkv::refstore {

RangeStore::~RangeStore() = default;

namespace {

constexpr std::string_view kRangeSuffix = ".sst";
constexpr std::string_view kMetaSuffix = ".meta";
constexpr std::string_view kRootSuffix = ".root";
constexpr std::string_view kPartSuffix = ".part";

bool IsMissing(const rocksdb::Status& s) { return s.IsNotFound() || s.IsPathNotFound(); }

std::string RandomToken() { return HexUint64(ThreadRng()(), 16); }

class DirRangeStore final : public RangeStore {
 public:
  DirRangeStore(std::string dir, rocksdb::Env* env, std::unique_ptr<rocksdb::Directory> d)
      : dir_(std::move(dir)), env_(env), dir_handle_(std::move(d)) {}

  std::string_view kind() const override { return "dir"; }

  Status PutRange(std::string_view id, std::string_view bytes) override {
    return Put(id, kRangeSuffix, bytes);
  }
  Result<std::string> GetRange(std::string_view id) override { return Get(id, kRangeSuffix); }
  Result<bool> HasRange(std::string_view id) override {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    rocksdb::Status s = env_->FileExists(PathOf(id, kRangeSuffix));
    if (s.ok()) return true;
    if (s.IsNotFound()) return false;
    return Status::IOError("range store " + dir_ + ": stat range " + std::string(id) + ": " +
                           s.ToString());
  }
  Status PutMetaRange(std::string_view id, std::string_view bytes) override {
    return Put(id, kMetaSuffix, bytes);
  }
  Result<std::string> GetMetaRange(std::string_view id) override { return Get(id, kMetaSuffix); }
  Status PutMetaObject(MetaObject kind, std::string_view id, std::string_view bytes) override {
    return Put(id, SuffixOf(kind), bytes);
  }
  Result<std::string> GetMetaObject(MetaObject kind, std::string_view id) override {
    return Get(id, SuffixOf(kind));
  }
  Result<std::vector<std::string>> ListMetaObjectIds(MetaObject kind) override {
    return List(SuffixOf(kind));
  }
  Status DeleteMetaObject(MetaObject kind, std::string_view id) override {
    return Delete(id, SuffixOf(kind));
  }
  Result<std::vector<std::string>> ListRangeIds() override { return List(kRangeSuffix); }
  Result<std::vector<std::string>> ListMetaRangeIds() override { return List(kMetaSuffix); }
  Status DeleteRange(std::string_view id) override { return Delete(id, kRangeSuffix); }
  Status DeleteMetaRange(std::string_view id) override { return Delete(id, kMetaSuffix); }

  Status Sync() override {
    rocksdb::Status s = dir_handle_->Fsync();
    if (!s.ok()) return Status::IOError("range store " + dir_ + ": fsync dir: " + s.ToString());
    return Status::OK();
  }

 private:
  static Status CheckId(std::string_view id) {
    if (!internal::IsValidId(id)) {
      return Status::InvalidArgument("range store: malformed id " + kv::Printable(id));
    }
    return Status::OK();
  }
  std::string PathOf(std::string_view id, std::string_view suffix) const {
    return dir_ + "/" + std::string(id) + std::string(suffix);
  }
  static std::string_view SuffixOf(MetaObject kind) {
    return kind == MetaObject::kRoot ? kRootSuffix : kPartSuffix;
  }
  std::string_view What(std::string_view suffix) const {
    if (suffix == kRangeSuffix) return "range";
    if (suffix == kRootSuffix) return "metarange root";
    if (suffix == kPartSuffix) return "metarange part";
    return "metarange";
  }

  Status Put(std::string_view id, std::string_view suffix, std::string_view bytes) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    std::string final_path = PathOf(id, suffix);
    if (env_->FileExists(final_path).ok()) return Status::OK();  // content-addressed
    std::string tmp = dir_ + "/.tmp-" + std::string(id) + "-" + RandomToken();
    rocksdb::Status s = rocksdb::WriteStringToFile(env_, rocksdb::Slice(bytes.data(), bytes.size()),
                                                   tmp, /*should_sync=*/true);
    if (s.ok()) s = env_->RenameFile(tmp, final_path);
    if (!s.ok()) {
      env_->DeleteFile(tmp).PermitUncheckedError();
      return Status::IOError("range store: write " + std::string(What(suffix)) + " " + final_path +
                             ": " + s.ToString());
    }
    return Status::OK();
  }

  Result<std::string> Get(std::string_view id, std::string_view suffix) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    std::string path = PathOf(id, suffix);
    std::string data;
    rocksdb::Status s = rocksdb::ReadFileToString(env_, path, &data);
    if (IsMissing(s)) {
      return Status::NotFound(std::string(What(suffix)) + " " + std::string(id) +
                              " not found in range store " + dir_);
    }
    if (!s.ok()) return Status::IOError("range store: read " + path + ": " + s.ToString());
    return data;
  }

  Result<std::vector<std::string>> List(std::string_view suffix) {
    std::vector<std::string> children;
    rocksdb::Status s = env_->GetChildren(dir_, &children);
    if (!s.ok()) return Status::IOError("range store: list " + dir_ + ": " + s.ToString());
    std::vector<std::string> ids;
    for (const std::string& name : children) {
      if (name.size() <= suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string id = name.substr(0, name.size() - suffix.size());
      if (internal::IsValidId(id)) ids.push_back(std::move(id));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Status Delete(std::string_view id, std::string_view suffix) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    std::string path = PathOf(id, suffix);
    rocksdb::Status s = env_->DeleteFile(path);
    if (!s.ok() && !IsMissing(s)) {
      return Status::IOError("range store: delete " + path + ": " + s.ToString());
    }
    return Status::OK();
  }

  const std::string dir_;
  rocksdb::Env* const env_;
  const std::unique_ptr<rocksdb::Directory> dir_handle_;
};

// Temp files of writes that died (a crash between write and rename). Only old ones: a
// young one may belong to a writer that is still running.
void RemoveStaleTempFiles(rocksdb::Env* env, const std::string& dir) {
  constexpr uint64_t kStaleSeconds = 3600;
  std::vector<std::string> children;
  if (!env->GetChildren(dir, &children).ok()) return;
  int64_t now = 0;
  if (!env->GetCurrentTime(&now).ok()) return;
  for (const std::string& name : children) {
    if (name.rfind(".tmp-", 0) != 0) continue;
    uint64_t mtime = 0;
    std::string path = dir + "/" + name;
    if (env->GetFileModificationTime(path, &mtime).ok() &&
        mtime + kStaleSeconds < static_cast<uint64_t>(now)) {
      env->DeleteFile(path).PermitUncheckedError();
    }
  }
}

}  // namespace

Result<std::unique_ptr<RangeStore>> OpenDirRangeStore(std::string dir) {
  if (dir.empty()) return Status::InvalidArgument("range store: empty directory name");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  rocksdb::Env* env = io::RocksBaseEnv();  // the default, or a test's (io/rocks_fs.h)
  rocksdb::Status s = env->CreateDirIfMissing(dir);
  if (!s.ok()) return Status::IOError("range store: create " + dir + ": " + s.ToString());
  bool is_dir = false;
  s = env->IsDirectory(dir, &is_dir);
  if (!s.ok() || !is_dir) return Status::IOError("range store: " + dir + " is not a directory");
  std::unique_ptr<rocksdb::Directory> handle;
  s = env->NewDirectory(dir, &handle);
  if (!s.ok()) return Status::IOError("range store: open " + dir + ": " + s.ToString());
  RemoveStaleTempFiles(env, dir);
  return std::unique_ptr<RangeStore>(new DirRangeStore(std::move(dir), env, std::move(handle)));
}

}  // namespace refkv::refstore
