// refkv_test_pg_server URI_FILE: one throwaway PostgreSQL server (tests/support/pg_server.h)
// for a whole test run. scripts/test starts it before ctest and points every test process
// at it through REFKV_TEST_POSTGRES, instead of each process starting (and checkpointing
// on shutdown) a server of its own; the tests already work on fresh tables and schemas.
//
// Writes the server's URI to URI_FILE (renamed into place, so a reader never sees half of
// it) once the server accepts connections, then waits for SIGTERM or SIGINT and stops the
// server (its destructor removes the directory). Exit 0, or 1 with a one-line error.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/pg_server.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: refkv_test_pg_server URI_FILE\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  // Blocked before the server starts, so a stop request is never lost; sigwait takes it.
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  refkv::testing::PgServerOptions options;
  // Every test process of a parallel ctest run connects here (pools of up to 16).
  options.max_connections = 300;
  auto server = refkv::testing::PgServer::Create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "refkv_test_pg_server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string file = argv[1], staging = file + ".tmp";
  {
    std::ofstream out(staging, std::ios::trunc);
    out << (*server)->Uri() << "\n";
    if (!out.flush() || std::rename(staging.c_str(), file.c_str()) != 0) {
      std::fprintf(stderr, "refkv_test_pg_server: cannot write %s\n", file.c_str());
      return 1;
    }
  }
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  return 0;
}
