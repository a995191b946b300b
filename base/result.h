// Result<T>: a value or a non-OK Status (GCC 12 has no std::expected).
//
// Thread-safety: a value type; the usual rules for T apply.
#ifndef REFKV_BASE_RESULT_H_
#define REFKV_BASE_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>

#include "base/status.h"

namespace refkv {

template <typename T>
class [[nodiscard]] Result {
 public:
  // A value.
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An error; `status` must not be OK (an OK status becomes an Internal error).
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  // OK when a value is held.
  const Status& status() const { return status_; }

  // Preconditions: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when an error is held.
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace refkv

#define REFKV_CONCAT_INNER_(a, b) a##b
#define REFKV_CONCAT_(a, b) REFKV_CONCAT_INNER_(a, b)

// REFKV_ASSIGN_OR_RETURN(auto x, Foo()); declares/assigns x from a Result or returns
// its Status from the enclosing function.
#define REFKV_ASSIGN_OR_RETURN(lhs, expr) \
  REFKV_ASSIGN_OR_RETURN_IMPL_(REFKV_CONCAT_(_refkv_result_, __LINE__), lhs, expr)
#define REFKV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // REFKV_BASE_RESULT_H_
