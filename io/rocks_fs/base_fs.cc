#include <rocksdb/env.h>

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "io/rocks_fs.h"

namespace refkv::io {
namespace {

struct Installed {
  std::mutex mu;
  std::shared_ptr<rocksdb::FileSystem> fs;  // nullptr: the default
  rocksdb::Env* env = nullptr;              // over fs; nullptr: Env::Default()
  // Every Env handed out stays alive: stores hold them as raw pointers and may outlive
  // a later SetRocksBaseFileSystem. Only tests install file systems, a handful each.
  std::vector<std::unique_ptr<rocksdb::Env>> envs;
};

Installed& State() {
  static Installed* installed = new Installed;  // never destroyed: used by static stores' closes
  return *installed;
}

}  // namespace

std::shared_ptr<rocksdb::FileSystem> RocksBaseFileSystem() {
  Installed& state = State();
  std::lock_guard lock(state.mu);
  return state.fs != nullptr ? state.fs : rocksdb::FileSystem::Default();
}

rocksdb::Env* RocksBaseEnv() {
  Installed& state = State();
  std::lock_guard lock(state.mu);
  return state.env != nullptr ? state.env : rocksdb::Env::Default();
}

void SetRocksBaseFileSystem(std::shared_ptr<rocksdb::FileSystem> fs) {
  Installed& state = State();
  std::lock_guard lock(state.mu);
  state.fs = std::move(fs);
  state.env = nullptr;
  if (state.fs != nullptr) {
    state.envs.push_back(rocksdb::NewCompositeEnv(state.fs));
    state.env = state.envs.back().get();
  }
}

}  // namespace refkv::io
