#include "cli/input_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/uri.h"

namespace refkv::cli {

namespace fs = std::filesystem;

Result<InputKind> CheckInputFile(const std::string& path, bool allow_directory,
                                 std::string_view expected) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return InputKind::kMissing;
    return Status::IOError("cannot inspect '" + path + "': " + std::strerror(errno));
  }
  if (S_ISREG(st.st_mode)) return InputKind::kFile;
  if (S_ISDIR(st.st_mode) && allow_directory) return InputKind::kDirectory;
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  return Status::InvalidArgument("'" + path + "' is " + kind + ", not " + std::string(expected) +
                                 " (nothing was read or written)");
}

StoreCreation StoreCreation::Before(const std::string& uri) {
  StoreCreation out;
  auto parsed = kv::Uri::Parse(uri);
  if (!parsed.ok() || parsed->scheme != "rocks" || parsed->location.empty()) return out;
  std::error_code ec;
  fs::path path = fs::absolute(parsed->location, ec).lexically_normal();
  if (ec) return out;
  if (!path.has_filename() && path.has_parent_path()) path = path.parent_path();  // "dir/"
  auto st = fs::status(path, ec);
  if (fs::is_directory(st)) {
    if (fs::is_empty(path, ec) && !ec) out.empty_directory_ = path.string();
    return out;
  }
  if (st.type() != fs::file_type::not_found) return out;
  // The open creates every missing directory on the way (create_directories).
  fs::path top = path;
  while (top.has_parent_path() && top.parent_path() != top &&
         fs::status(top.parent_path(), ec).type() == fs::file_type::not_found) {
    top = top.parent_path();
  }
  out.remove_tree_ = top.string();
  return out;
}

void StoreCreation::Undo() const {
  std::error_code ec;
  if (!remove_tree_.empty()) fs::remove_all(remove_tree_, ec);
  if (!empty_directory_.empty()) {
    for (const auto& entry : fs::directory_iterator(empty_directory_, ec)) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

}  // namespace refkv::cli
