// Small helpers shared by the two halves of `refkv quickstart` (the KV tour and the
// ref store tour).
#ifndef REFKV_CLI_QUICKSTART_UTIL_H_
#define REFKV_CLI_QUICKSTART_UTIL_H_

#include <chrono>
#include <string>

#include "base/status.h"

namespace refkv::cli::quickstart {

using Clock = std::chrono::steady_clock;

inline double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A failed expectation of the tour: Internal, because it means refkv misbehaved.
inline Status Expect(bool ok, const std::string& what) {
  return ok ? Status::OK() : Status::Internal("quickstart: " + what);
}

}  // namespace refkv::cli::quickstart

#endif  // REFKV_CLI_QUICKSTART_UTIL_H_
