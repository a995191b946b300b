// Internal to format/sst: the directory an SST export writes into (SST_FORMAT.md,
// "Where an export may write"). Include format/sst.h instead.
//
// An export goes only into a missing or empty directory, or, with overwrite, into one
// that holds a refkv SST export and nothing else; it never follows a symbolic link (the
// directory itself or any entry in it), creates every file with O_EXCL | O_NOFOLLOW,
// and names its data files "refkv-NNNNNN.sst", a name RocksDB never gives a file, so an
// export can never take the place of a store's table files.
#ifndef REFKV_FORMAT_SST_EXPORT_DIR_H_
#define REFKV_FORMAT_SST_EXPORT_DIR_H_

#include <rocksdb/env.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace refkv::format::sst_internal {

// "refkv-000000.sst" for n = 0: the n-th data file of an export.
std::string DataFileName(size_t n);

// A name a manifest may list: "refkv-" followed by 6..20 digits, or (exports written
// before refkv named them so) 1..20 digits, then ".sst". Either is a plain name: no
// '/', never "." or "..", never empty.
bool IsDataFileName(std::string_view name);

// What an export found in its directory, and what it must remove first (overwrite).
struct ExportDir {
  std::string dir;
  bool created = false;                // the export made the directory (removed again on failure)
  bool old_manifest = false;           // a manifest to remove first
  std::vector<std::string> old_files;  // the old export's other files (names)
};

// Checks (or creates) `dir` for an export; changes nothing but creating a missing
// directory. AlreadyExists, naming the directory and the first entry in the way, when:
// the path is a symbolic link or not a directory; the directory is not empty (without
// overwrite); it holds anything but an export's manifest and the files it lists, or
// (without a manifest: an export interrupted while it was written) anything but files
// named as data files or temporary manifests; an entry is a link or not a regular
// file; its manifest does not read. IOError on a failing system call.
Result<ExportDir> PrepareExportDir(const std::string& dir, bool overwrite);

// Removes the old export PrepareExportDir found: the manifest first and the directory
// synced, so a crash never leaves a manifest naming files of two exports; then the
// other files, and the directory synced again.
Status RemoveOldExport(const ExportDir& dir);

// Undoes a failed export: removes `created` (files this export created) and the
// directory if the export created it and it is empty. Errors are ignored.
void RemoveCreated(const ExportDir& dir, const std::vector<std::string>& created);

// A RocksDB Env whose NewWritableFile creates the file through io::File with O_EXCL |
// O_NOFOLLOW (AlreadyExists -> rocksdb IOError naming the path): SstFileWriter never
// truncates an existing file or writes through a link. Everything else is the default Env's.
std::unique_ptr<rocksdb::Env> NewCreateOnlyEnv();

}  // namespace refkv::format::sst_internal

#endif  // REFKV_FORMAT_SST_EXPORT_DIR_H_
