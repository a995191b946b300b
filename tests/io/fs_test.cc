// io/fs.h (Rename, SyncDir) and the file-creation rules of io::File it pairs with:
// OpenForWrite never writes through a link, CreateTemp never takes an existing name.
#include "io/fs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "io/file.h"
#include "tests/support/temp_dir.h"

namespace refkv::io {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(FsTest, OpenForWriteNeverWritesThroughALink) {
  testing::TempDir dir("io-fs");
  Write(dir.Sub("victim"), "precious");
  fs::create_symlink(dir.Sub("victim"), dir.Sub("link"));
  for (WriteMode mode :
       {WriteMode::kCreateOrTruncate, WriteMode::kCreateNew, WriteMode::kExisting}) {
    auto file = File::OpenForWrite(dir.Sub("link"), mode, {Backend::kPosix, 1});
    EXPECT_FALSE(file.ok()) << static_cast<int>(mode);
    EXPECT_NE(file.status().message().find("link"), std::string::npos) << file.status().ToString();
  }
  EXPECT_EQ(Read(dir.Sub("victim")), "precious");
}

TEST(FsTest, CreateTempMakesANewFileWithAUniqueName) {
  testing::TempDir dir("io-fs");
  Write(dir.Sub("out.tmp"), "mine");
  std::set<std::string> names;
  for (int i = 0; i < 20; ++i) {
    std::string tmp;
    auto file = File::CreateTemp(dir.Sub("out"), &tmp, {Backend::kPosix, 1});
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ(tmp.rfind(dir.Sub("out.tmp-"), 0), 0u) << tmp;
    EXPECT_EQ(tmp.size(), dir.Sub("out.tmp-").size() + 16) << tmp;
    EXPECT_EQ((*file)->Size().value(), 0u);
    names.insert(tmp);
  }
  EXPECT_EQ(names.size(), 20u);
  EXPECT_EQ(Read(dir.Sub("out.tmp")), "mine");
}

TEST(FsTest, RenameWithoutReplaceLeavesAnExistingFileOrLink) {
  testing::TempDir dir("io-fs");
  Write(dir.Sub("a"), "new");
  Write(dir.Sub("b"), "old");
  Status s = Rename(dir.Sub("a"), dir.Sub("b"), RenameMode::kNoReplace);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_EQ(Read(dir.Sub("a")), "new");
  EXPECT_EQ(Read(dir.Sub("b")), "old");
  // A dangling link at the target counts as taken too.
  fs::create_symlink(dir.Sub("nowhere"), dir.Sub("dangling"));
  EXPECT_TRUE(Rename(dir.Sub("a"), dir.Sub("dangling"), RenameMode::kNoReplace).IsAlreadyExists());
  EXPECT_FALSE(fs::exists(dir.Sub("nowhere")));
  // A free name: moved.
  ASSERT_TRUE(Rename(dir.Sub("a"), dir.Sub("c"), RenameMode::kNoReplace).ok());
  EXPECT_EQ(Read(dir.Sub("c")), "new");
  EXPECT_FALSE(fs::exists(dir.Sub("a")));
  // kReplace replaces (a link: the link itself, not its target).
  ASSERT_TRUE(Rename(dir.Sub("c"), dir.Sub("b"), RenameMode::kReplace).ok());
  EXPECT_EQ(Read(dir.Sub("b")), "new");
  Write(dir.Sub("victim"), "precious");
  fs::create_symlink(dir.Sub("victim"), dir.Sub("link"));
  ASSERT_TRUE(Rename(dir.Sub("b"), dir.Sub("link"), RenameMode::kReplace).ok());
  EXPECT_FALSE(fs::is_symlink(dir.Sub("link")));
  EXPECT_EQ(Read(dir.Sub("victim")), "precious");
  EXPECT_TRUE(Rename(dir.Sub("missing"), dir.Sub("x"), RenameMode::kNoReplace).IsNotFound());
}

TEST(FsTest, SyncDir) {
  testing::TempDir dir("io-fs");
  EXPECT_TRUE(SyncDir(dir.path()).ok());
  EXPECT_TRUE(SyncParentDir(dir.Sub("anything")).ok());
  EXPECT_TRUE(SyncParentDir("relative-name").ok());  // the working directory
  Status missing = SyncDir(dir.Sub("missing"));
  EXPECT_TRUE(missing.IsIOError());
  EXPECT_NE(missing.message().find("missing"), std::string::npos) << missing.ToString();
}

}  // namespace
}  // namespace refkv::io
