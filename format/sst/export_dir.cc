// The directory an SST export writes into (format/sst/export_dir.h).
#include "format/sst/export_dir.h"

#include <rocksdb/file_system.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "format/sst.h"
#include "io/file.h"
#include "io/fs.h"

namespace refkv::format::sst_internal {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDataPrefix = "refkv-";
// io::File::CreateTemp's names for the manifest's temporary.
const std::string kTempManifestPrefix = std::string(kSstManifestName) + ".tmp-";

bool AllDigits(std::string_view s, size_t min, size_t max) {
  return s.size() >= min && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Join(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

Status Refuse(const std::string& dir, const std::string& why) {
  return Status::AlreadyExists("sst export: '" + dir + "' " + why + "; nothing was written");
}

// rocksdb::IOStatus from a refkv Status (the message kept whole).
rocksdb::IOStatus ToIo(const Status& s) {
  if (s.ok()) return rocksdb::IOStatus::OK();
  return rocksdb::IOStatus::IOError(s.message());
}

// An SST file being written, through an io::File created O_EXCL | O_NOFOLLOW.
class CreateOnlyFile final : public rocksdb::FSWritableFile {
 public:
  explicit CreateOnlyFile(std::unique_ptr<io::File> file) : file_(std::move(file)) {}
  ~CreateOnlyFile() override { (void)file_->Close(); }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&,
                           rocksdb::IODebugContext*) override {
    Status s = file_->WriteAt(size_, std::string_view(data.data(), data.size()));
    if (!s.ok()) return ToIo(s);
    size_ += data.size();
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ToIo(file_->Close());
  }
  // Appends go straight to the file: nothing is buffered here.
  rocksdb::IOStatus Flush(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return ToIo(file_->Sync());
  }
  uint64_t GetFileSize(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return size_;
  }

 private:
  std::unique_ptr<io::File> file_;
  uint64_t size_ = 0;
};

class CreateOnlyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  CreateOnlyFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "RefkvCreateOnlyFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext*) override {
    // Sequential appends: the synchronous back end is all they need.
    auto file = io::File::OpenForWrite(path, io::WriteMode::kCreateNew, {io::Backend::kPosix, 1});
    if (!file.ok()) return ToIo(file.status());
    *result = std::make_unique<CreateOnlyFile>(std::move(file).value());
    return rocksdb::IOStatus::OK();
  }
};

}  // namespace

std::string DataFileName(size_t n) {
  char name[40];
  std::snprintf(name, sizeof name, "refkv-%06zu.sst", n);
  return name;
}

bool IsDataFileName(std::string_view name) {
  if (name.size() < 5 || !name.ends_with(".sst")) return false;
  std::string_view stem = name.substr(0, name.size() - 4);
  if (stem.starts_with(kDataPrefix)) return AllDigits(stem.substr(kDataPrefix.size()), 6, 20);
  return AllDigits(stem, 1, 20);
}

Result<ExportDir> PrepareExportDir(const std::string& path, bool overwrite) {
  // "link/" would make lstat follow the link: the name is checked without the slashes.
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  ExportDir out;
  out.dir = dir;
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Status::IOError("sst export: '" + dir + "': " + std::strerror(errno));
    }
    std::error_code ec;
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) return Status::IOError("sst export: mkdir '" + parent.string() + "': " + ec.message());
    if (::mkdir(dir.c_str(), 0777) != 0) {
      // Someone made it meanwhile: it is theirs, and the checks below apply.
      if (errno != EEXIST) {
        return Status::IOError("sst export: mkdir '" + dir + "': " + std::strerror(errno));
      }
      return PrepareExportDir(dir, overwrite);
    }
    out.created = true;
    return out;
  }
  if (S_ISLNK(st.st_mode)) {
    return Refuse(dir,
                  "is a symbolic link (an export never follows links: give the directory "
                  "itself)");
  }
  if (!S_ISDIR(st.st_mode)) return Refuse(dir, "exists and is not a directory");

  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) return Status::IOError("sst export: cannot list '" + dir + "': " + ec.message());
  if (names.empty()) return out;
  std::sort(names.begin(), names.end());
  const bool has_manifest = std::find(names.begin(), names.end(), kSstManifestName) != names.end();
  if (!overwrite) {
    if (has_manifest) return Refuse(dir, "already holds an SST export (--overwrite replaces it)");
    return Refuse(dir, "is not empty (it holds '" + names.front() +
                           "'); an SST export goes into a missing or empty directory");
  }
  // With overwrite: the export there and nothing else.
  std::set<std::string> listed;
  if (has_manifest) {
    auto manifest = ReadSstManifest(dir);
    if (!manifest.ok()) {
      return Refuse(dir, "holds a manifest that does not read (" + manifest.status().ToString() +
                             "), so what belongs to the export there is unknown; refusing to "
                             "overwrite it");
    }
    listed.insert(std::string(kSstManifestName));
    for (const auto& p : manifest->partitions) listed.insert(p.file);
  }
  for (const auto& name : names) {
    // Without a manifest the directory can only be an export interrupted while it was
    // written: its data files and its manifest's temporary.
    const bool ours = has_manifest ? listed.count(name) > 0
                                   : (name.starts_with(kDataPrefix) && IsDataFileName(name)) ||
                                         name.starts_with(kTempManifestPrefix);
    if (!ours) {
      return Refuse(dir, "holds '" + name + "', which is not part of " +
                             (has_manifest ? "the SST export there" : "an SST export") +
                             "; refusing to overwrite (remove it, or choose another directory)");
    }
    if (::lstat(Join(dir, name).c_str(), &st) != 0) {
      return Status::IOError("sst export: '" + Join(dir, name) + "': " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      return Refuse(dir, "holds '" + name +
                             "', a symbolic link (an export never follows links); refusing to "
                             "overwrite");
    }
    if (!S_ISREG(st.st_mode)) {
      return Refuse(dir,
                    "holds '" + name + "', which is not a regular file; refusing to overwrite");
    }
    if (name == kSstManifestName) {
      out.old_manifest = true;
    } else {
      out.old_files.push_back(name);
    }
  }
  return out;
}

Status RemoveOldExport(const ExportDir& dir) {
  auto remove = [&](const std::string& name) -> Status {
    const std::string path = Join(dir.dir, name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("sst export: cannot remove '" + path +
                             "' of the export replaced: " + std::strerror(errno));
    }
    return Status::OK();
  };
  if (dir.old_manifest) {
    REFKV_RETURN_IF_ERROR(remove(std::string(kSstManifestName)));
    REFKV_RETURN_IF_ERROR(io::SyncDir(dir.dir).WithContext("sst export"));
  }
  if (dir.old_files.empty()) return Status::OK();
  for (const auto& name : dir.old_files) REFKV_RETURN_IF_ERROR(remove(name));
  return io::SyncDir(dir.dir).WithContext("sst export");
}

void RemoveCreated(const ExportDir& dir, const std::vector<std::string>& created) {
  for (const auto& path : created) ::unlink(path.c_str());
  if (dir.created) ::rmdir(dir.dir.c_str());  // only if empty: never what others put there
}

std::unique_ptr<rocksdb::Env> NewCreateOnlyEnv() {
  return rocksdb::NewCompositeEnv(std::make_shared<CreateOnlyFileSystem>());
}

}  // namespace refkv::format::sst_internal
