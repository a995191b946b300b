#include "base/status.h"

namespace refkv {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kPredicateFailed:
      return "predicate_failed";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kVersionMismatch:
      return "version_mismatch";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kUnknownOutcome:
      return "unknown_outcome";
    case StatusCode::kTimeout:
      return "timeout";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kNoSpace:
      return "no_space";
  }
  return "unknown_code";
}

Status::Status(StatusCode code, std::string message, bool retryable) {
  if (code != StatusCode::kOk) rep_.reset(new Rep{code, retryable, std::move(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status out(*this);  // keeps the code, the retryable bit and the reason
  out.rep_->message = std::string(context) + ": " + rep_->message;
  return out;
}

Status Status::WithReason(StatusReason reason) const {
  if (ok()) return *this;
  Status out(*this);
  out.rep_->reason = reason;
  return out;
}

}  // namespace refkv
