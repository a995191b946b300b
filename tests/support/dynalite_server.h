// A throwaway dynalite (a DynamoDB-compatible server on Node.js) for the DynamoDB
// driver's tests and benchmark.
//
// dynalite is installed from tests/support/dynalite/package-lock.json into
// BUILD/dynalite by scripts/install-dynalite; $REFKV_DYNALITE_DIR overrides that folder.
// DynaliteServer::Create starts `node .../dynalite/cli.js` on a free port of 127.0.0.1,
// tables ACTIVE at once (--createTableMs 0), in memory or on LevelDB files in a fresh
// directory (`persistent`: the data survives Stop/Start, for restart tests). The server is
// this process's child, killed with it (PR_SET_PDEATHSIG); Stop kills it by pid.
// dynalite does not check signatures and does not implement transactions
// (TransactWriteItems): the driver's multi-key Write is Unsupported there.
//
// SharedDynamoEndpoint() gives the one endpoint a test binary shares: the endpoint of the
// URI in $REFKV_TEST_DYNAMODB (dynamodb://TABLE?endpoint=...) when set, else a throwaway
// in-memory server started on first use. DynamoTableUri makes a URI for a fresh table.
// Tests set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY to dummies when unset.
//
// Thread-safety: a DynaliteServer is used from one thread; the Shared* functions are
// thread-safe.
#ifndef REFKV_TESTS_SUPPORT_DYNALITE_SERVER_H_
#define REFKV_TESTS_SUPPORT_DYNALITE_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"

namespace refkv::testing {

class DynaliteServer {
 public:
  // NotFound (the message says how to install it) if node or dynalite is missing.
  static Result<std::unique_ptr<DynaliteServer>> Create(bool persistent = false);
  ~DynaliteServer();
  DynaliteServer(const DynaliteServer&) = delete;
  DynaliteServer& operator=(const DynaliteServer&) = delete;

  // Starts the stopped server on the same port and waits until it accepts connections.
  Status Start();
  // SIGKILL by pid, then waits for the exit (a crash: nothing flushed beyond LevelDB's log).
  void Stop();
  bool running() const { return pid_ > 0; }

  // "http://127.0.0.1:PORT"
  std::string Endpoint() const;
  int port() const { return port_; }

 private:
  DynaliteServer() = default;
  std::string dir_;  // LevelDB files when persistent, else ""
  int port_ = 0;
  pid_t pid_ = -1;
};

// The endpoint this process's tests use (see above), or why there is none.
Result<std::string> SharedDynamoEndpoint();
// Stops the shared throwaway server, if one was started.
void StopSharedDynalite();

// dynamodb://<a fresh table name>?endpoint=ENDPOINT&region=us-east-1[&extra]
std::string DynamoTableUri(std::string_view endpoint, std::string_view extra = {});

// Sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to test values unless set.
void SetTestCredentials();

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_DYNALITE_SERVER_H_
