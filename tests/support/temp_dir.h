// A temporary directory removed (recursively) when the object is destroyed.
#ifndef REFKV_TESTS_SUPPORT_TEMP_DIR_H_
#define REFKV_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace refkv::testing {

class TempDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp) named refkv-<tag>-XXXXXX.
  explicit TempDir(const std::string& tag = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_TEMP_DIR_H_
