// Seeded randomness, written once: fresh seeds and a per-thread generator for ids, tokens
// and temporary names, and the seed of a randomized test, taken from an environment
// variable (or a fixed default) and printed so that a failure can be rerun exactly.
//
// Thread-safety: ThreadRng is per thread; the rest are free functions.
#ifndef REFKV_BASE_RANDOM_H_
#define REFKV_BASE_RANDOM_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace refkv {

// A fresh 64-bit seed: two words of the OS entropy source mixed with the steady clock,
// the thread and the process id.
uint64_t RandomSeed();

// This thread's generator, seeded with RandomSeed() on first use (and again in a child
// process after fork, so parent and child do not draw the same numbers).
std::mt19937_64& ThreadRng();

// The seed of a randomized test or benchmark: the decimal value of the environment variable
// `env_var` if it is set, else `fixed` (a deterministic default) if given, else RandomSeed().
// Prints "<what>: <env_var>=<seed>" to stderr, so a failing run can be repeated with it.
uint64_t SeedFromEnv(const char* env_var, std::optional<uint64_t> fixed = std::nullopt,
                     std::string_view what = "seed");

}  // namespace refkv

#endif  // REFKV_BASE_RANDOM_H_
