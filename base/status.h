// Status: the outcome of an operation that returns no value.
//
// Errors are values in refkv: no exception crosses a module boundary. A Status is
// cheap to return when OK (no allocation) and carries a code, a message that names
// what failed and where (partition, printable key, file, offset), and a retryable bit
// for transient failures (a lost connection, a busy store).
//
// Thread-safety: a Status is an immutable value; distinct objects may be used from
// distinct threads freely.
#ifndef REFKV_BASE_STATUS_H_
#define REFKV_BASE_STATUS_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace refkv {

// The codes are stable: the CLI maps them to exit codes and callers branch on them.
// Never branch on a message string.
enum class StatusCode : int {
  kOk = 0,
  kNotFound = 1,         // the key, partition, file or object does not exist
  kPredicateFailed = 2,  // SetIf/DeleteIf: the predicate did not hold; nothing written
  kInvalidArgument = 3,  // the caller passed something malformed
  kCorruption = 4,       // stored or imported data failed a check
  kIOError = 5,          // the file system or the network failed
  kBusy = 6,             // the store is in use (another process, a lock held)
  kVersionMismatch = 7,  // format or schema version the code cannot work with
  kUnsupported = 8,      // the driver or build lacks the feature
  kAlreadyExists = 9,    // creating something that exists
  kConflict = 10,        // optimistic concurrency lost after every retry
  kUnknownOutcome = 11,  // a write may or may not have happened (connection lost mid-call)
  kTimeout = 12,         // a deadline passed
  kInternal = 13,        // a bug: an invariant of refkv itself did not hold
  kNoSpace = 14,         // a write failed because the file system is full (ENOSPC, a
                         // PostgreSQL disk_full); writes acknowledged before it are kept
};

// Returns the stable lower_snake name of `code` ("not_found", ...).
std::string_view StatusCodeName(StatusCode code);

// Why an operation refused before it changed anything, where the code alone does not tell
// a caller what to do next (as RocksDB's Status::SubCode): the CLI maps each to its own
// exit code. kNone on every other Status. Stable, like the codes.
enum class StatusReason : int {
  kNone = 0,
  kFreeSpace = 1,     // migrate: fewer free bytes than the plan needs (with the reserve)
  kBackupFailed = 2,  // migrate: the backup before the first step could not be taken
  kNodesRunning = 3,  // migrate: a live node of another code schema writes the store
  kBadBackup = 4,     // restore: the backup is missing, not a backup, unreadable or corrupt
  kStoreInUse = 5,    // restore: the store is open in another process or its lease is held
};

class [[nodiscard]] Status {
 public:
  // OK.
  Status() noexcept = default;
  Status(StatusCode code, std::string message, bool retryable = false);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status PredicateFailed(std::string msg) {
    return {StatusCode::kPredicateFailed, std::move(msg)};
  }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg, bool retryable = false) {
    return {StatusCode::kIOError, std::move(msg), retryable};
  }
  static Status Busy(std::string msg) { return {StatusCode::kBusy, std::move(msg), true}; }
  static Status VersionMismatch(std::string msg) {
    return {StatusCode::kVersionMismatch, std::move(msg)};
  }
  static Status Unsupported(std::string msg) { return {StatusCode::kUnsupported, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg), true}; }
  static Status UnknownOutcome(std::string msg) {
    return {StatusCode::kUnknownOutcome, std::move(msg)};
  }
  static Status Timeout(std::string msg) { return {StatusCode::kTimeout, std::move(msg), true}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  // Not retryable: the same call fails until space is freed (and, for a RocksDB store,
  // until the store is reopened: RocksDB stops writing after such an error).
  static Status NoSpace(std::string msg) { return {StatusCode::kNoSpace, std::move(msg)}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code name; empty when OK.
  const std::string& message() const;
  // True when the same call may succeed if simply repeated later.
  bool retryable() const { return rep_ && rep_->retryable; }
  // Why the operation refused (StatusReason); kNone when OK or not given.
  StatusReason reason() const { return rep_ ? rep_->reason : StatusReason::kNone; }

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsPredicateFailed() const { return code() == StatusCode::kPredicateFailed; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }
  bool IsBusy() const { return code() == StatusCode::kBusy; }
  bool IsVersionMismatch() const { return code() == StatusCode::kVersionMismatch; }
  bool IsUnsupported() const { return code() == StatusCode::kUnsupported; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code() == StatusCode::kConflict; }
  bool IsUnknownOutcome() const { return code() == StatusCode::kUnknownOutcome; }
  bool IsNoSpace() const { return code() == StatusCode::kNoSpace; }

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK. Keeps the reason.
  Status WithContext(std::string_view context) const;
  // Returns a copy carrying `reason`; OK stays OK.
  Status WithReason(StatusReason reason) const;

 private:
  struct Rep {
    StatusCode code;
    bool retryable;
    std::string message;
    StatusReason reason = StatusReason::kNone;
  };
  std::unique_ptr<Rep> rep_;
};

}  // namespace refkv

// Returns early from the enclosing function with the Status of `expr` if it is not OK.
#define REFKV_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::refkv::Status _refkv_status = (expr);        \
    if (!_refkv_status.ok()) return _refkv_status; \
  } while (0)

#endif  // REFKV_BASE_STATUS_H_
