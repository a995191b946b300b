#include "base/random.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace refkv {

uint64_t RandomSeed() {
  std::random_device rd;
  uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  seed ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1;
  seed ^= static_cast<uint64_t>(::getpid()) << 40;
  return seed;
}

std::mt19937_64& ThreadRng() {
  thread_local pid_t seeded_in = 0;
  thread_local std::mt19937_64 rng;
  if (seeded_in != ::getpid()) {
    seeded_in = ::getpid();
    rng.seed(RandomSeed());
  }
  return rng;
}

uint64_t SeedFromEnv(const char* env_var, std::optional<uint64_t> fixed, std::string_view what) {
  uint64_t seed = 0;
  const char* env = std::getenv(env_var);
  if (env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 10);
  } else if (fixed.has_value()) {
    seed = *fixed;
  } else {
    seed = RandomSeed();
  }
  std::fprintf(stderr, "%.*s: %s=%llu\n", static_cast<int>(what.size()), what.data(), env_var,
               static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace refkv
