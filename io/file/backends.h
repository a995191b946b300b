// Internal: the two back ends of io::File. Include io/file.h instead.
#ifndef REFKV_IO_FILE_BACKENDS_H_
#define REFKV_IO_FILE_BACKENDS_H_

#include <memory>
#include <string>

#include "io/file.h"

namespace refkv::io::internal {

// Takes `fd` (closed by Close if `owned`). Never fails.
std::unique_ptr<File> NewPosixFile(int fd, bool owned, std::string path);

// Creates a ring of `queue_depth` entries for `fd`. On failure returns the negative
// errno of io_uring_queue_init; `fd` is then untouched (not closed).
Result<std::unique_ptr<File>> NewUringFile(int fd, bool owned, std::string path,
                                           unsigned queue_depth, int* setup_errno);

// "io: read of 'path' at offset N (length L): <strerror(err)>"
Status IoErrorAt(std::string_view verb, const std::string& path, uint64_t offset, size_t length,
                 int err);

}  // namespace refkv::io::internal

#endif  // REFKV_IO_FILE_BACKENDS_H_
