// The refkv command-line tool. Everything lives in cli/app.cc.
#include <unistd.h>

#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return refkv::cli::RunCli(argc, argv, std::cout, std::cerr, isatty(STDOUT_FILENO) == 1,
                            refkv::cli::ProcessEnv());
}
