// refkv_bench's main: Google Benchmark's, plus an orderly end. After the last case it
// runs the AtBenchEnd functions (closing the stores the cases keep between runs) and
// removes the scratch directories, all before returning from main, so no store is
// closed during static destruction (RocksDB's logger and Env are gone by then: a close
// there crashed the process after every commit_latency case). SIGINT, SIGTERM and SIGHUP
// are taken by a thread of their own, which removes the scratch directories and exits
// with 128 + the signal number.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "bench/bench_util.h"

namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocks the signals in this thread (every thread started later inherits the mask) and
// waits for them on a detached thread.
void TakeSignals() {
  static const sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([] {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    std::fprintf(stderr, "refkv_bench: signal %d: removing scratch directories\n", sig);
    refkv::bench::RemoveScratchDirs();
    _exit(128 + sig);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  TakeSignals();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  refkv::bench::RunBenchEnd();
  benchmark::Shutdown();
  return 0;
}
