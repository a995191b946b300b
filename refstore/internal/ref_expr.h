// Ref expressions (refstore/refstore.h, "Refs"): a base name followed by navigation steps.
//
//   expr  := base step*
//   step  := '~' digits?   the N-th first-parent ancestor (no digits: 1; ~0: the commit)
//          | '^' digits?   the N-th parent, N >= 1 (no digits: 1)
//   base  := a branch, a tag, a full commit id or a commit-id prefix of >= 6 hex digits
//
// Branch and tag names cannot contain '~' or '^' (keys.h), so the base is everything up
// to the first of them. Positions in errors are 0-based byte offsets into the expression.
//
// Thread-safety: pure functions; FindCommitsByPrefix reads the store only.
#ifndef REFKV_REFSTORE_INTERNAL_REF_EXPR_H_
#define REFKV_REFSTORE_INTERNAL_REF_EXPR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"

namespace refkv::refstore::internal {

// Commit ids are 32 lowercase hex digits (codec.h); a prefix needs at least this many.
inline constexpr size_t kCommitIdHexDigits = 32;
inline constexpr size_t kMinCommitIdPrefix = 6;

struct RefStep {
  enum class Kind { kAncestor, kParent };  // '~N', '^N'
  Kind kind = Kind::kAncestor;
  int64_t n = 1;
  size_t position = 0;  // of the '~' or '^' in the expression
};

struct RefExpr {
  std::string_view base;
  std::vector<RefStep> steps;
};

// True if `ref` holds '~' or '^' (so it is an expression, not a plain name).
bool IsRefExpression(std::string_view ref);

// Splits `expr`. InvalidArgument naming the expression and the position of the fault:
// an empty base, a step followed by something other than digits or the next step, '^0',
// a number above 1,000,000.
Result<RefExpr> ParseRefExpr(std::string_view expr);

// True if `text` may be a commit-id prefix: kMinCommitIdPrefix to kCommitIdHexDigits - 1
// hex digits (either case; ids are lowercase).
bool IsCommitIdPrefix(std::string_view text);

// The ids of the commits of `refs` whose id starts with `prefix` (lowercased): one
// bounded prefix scan of the commit records ("c/<prefix>"). It stops after
// `max_results` ids, so a unique prefix reads at most 2 keys with max_results = 2.
// `keys_read` (optional) receives how many keys the scan yielded.
Result<std::vector<std::string>> FindCommitsByPrefix(kv::Store& store, const std::string& refs,
                                                     std::string_view prefix, size_t max_results,
                                                     size_t* keys_read = nullptr);

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_INTERNAL_REF_EXPR_H_
