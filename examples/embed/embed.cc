// Embedding refkv: open a rocks:// store in a fresh temporary directory, create a
// repository, stage two entries, commit, and read them back at the commit. Prints
// "embed: ok <commit id> ..." and exits 0 on success; prints the error and exits 1
// otherwise.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/open.h"
#include "engine/store.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"

namespace {

int Fail(const char* what, const refkv::Status& status) {
  std::fprintf(stderr, "embed: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

int Run(const std::string& dir) {
  // Every driver linked in registers itself; this program links refkv::rocks.
  refkv::kv::OpenOptions open_options;
  open_options.code_schema_version = refkv::refstore::kCodeSchema;
  auto store = refkv::kv::Open("rocks://" + dir + "/store", open_options);
  if (!store.ok()) return Fail("open", store.status());

  auto opened = refkv::refstore::OpenForStore(**store);
  if (!opened.ok()) return Fail("open ref store", opened.status());
  refkv::refstore::RefStore& refs = *opened->refs;

  auto repo = refs.CreateRepository("example");
  if (!repo.ok()) return Fail("create repository", repo.status());
  for (const auto& [path, value] : {std::pair{"config/a", "1"}, std::pair{"config/b", "two"}}) {
    refkv::Status put = refs.PutEntry("example", "main", path, value);
    if (!put.ok()) return Fail("put", put);
  }
  refkv::refstore::CommitRequest request;
  request.committer = "embed";
  request.message = "two entries";
  auto commit = refs.Commit("example", "main", request);
  if (!commit.ok()) return Fail("commit", commit.status());
  if (commit->outcome != refkv::refstore::CommitResult::Outcome::kCommitted) {
    std::fprintf(stderr, "embed: the commit made no commit\n");
    return 1;
  }

  const std::string& id = commit->commit.id;
  auto a = refs.GetEntry("example", id, "config/a");
  if (!a.ok()) return Fail("get config/a", a.status());
  auto b = refs.GetEntry("example", id, "config/b");
  if (!b.ok()) return Fail("get config/b", b.status());
  if (*a != "1" || *b != "two") {
    std::fprintf(stderr, "embed: read back '%s' and '%s', wrote '1' and 'two'\n", a->c_str(),
                 b->c_str());
    return 1;
  }
  std::printf("embed: ok %s config/a=%s config/b=%s\n", id.c_str(), a->c_str(), b->c_str());
  return 0;
}

}  // namespace

int main() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "refkv-embed-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("embed: mkdtemp");
    return 1;
  }
  int rc = Run(tmpl);
  std::error_code ignored;
  std::filesystem::remove_all(tmpl, ignored);
  return rc;
}
