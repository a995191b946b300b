#include "refstore/internal/ref_expr.h"

#include <cctype>

#include "refstore/internal/keys.h"

namespace refkv::refstore::internal {

namespace {

// Far beyond any real history; keeps the arithmetic and the walk bounded.
constexpr int64_t kMaxStep = 1'000'000;

Status Malformed(std::string_view expr, size_t position, std::string_view why) {
  return Status::InvalidArgument("ref expression '" + kv::Printable(expr) + "' at position " +
                                 std::to_string(position) + ": " + std::string(why));
}

}  // namespace

bool IsRefExpression(std::string_view ref) { return ref.find_first_of("~^") != ref.npos; }

Result<RefExpr> ParseRefExpr(std::string_view expr) {
  RefExpr out;
  const size_t first = expr.find_first_of("~^");
  out.base = expr.substr(0, first);
  if (out.base.empty()) return Malformed(expr, 0, "expected a branch, tag or commit id");
  size_t pos = first;
  while (pos < expr.size()) {
    RefStep step;
    step.position = pos;
    step.kind = expr[pos] == '~' ? RefStep::Kind::kAncestor : RefStep::Kind::kParent;
    if (expr[pos] != '~' && expr[pos] != '^') {
      return Malformed(expr, pos, "expected '~' or '^'");
    }
    ++pos;
    if (pos < expr.size() && std::isdigit(static_cast<unsigned char>(expr[pos]))) {
      int64_t n = 0;
      while (pos < expr.size() && std::isdigit(static_cast<unsigned char>(expr[pos]))) {
        n = n * 10 + (expr[pos] - '0');
        if (n > kMaxStep) return Malformed(expr, pos, "number too large");
        ++pos;
      }
      step.n = n;
    }
    if (pos < expr.size() && expr[pos] != '~' && expr[pos] != '^') {
      return Malformed(expr, pos, "expected a number, '~' or '^'");
    }
    if (step.kind == RefStep::Kind::kParent && step.n == 0) {
      return Malformed(expr, step.position, "parents are numbered from 1 ('^0' is not accepted)");
    }
    out.steps.push_back(step);
  }
  return out;
}

bool IsCommitIdPrefix(std::string_view text) {
  if (text.size() < kMinCommitIdPrefix || text.size() >= kCommitIdHexDigits) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Result<std::vector<std::string>> FindCommitsByPrefix(kv::Store& store, const std::string& refs,
                                                     std::string_view prefix, size_t max_results,
                                                     size_t* keys_read) {
  std::string key = CommitKey(prefix);
  for (size_t i = kCommitPrefix.size(); i < key.size(); ++i) {
    key[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[i])));
  }
  kv::ScanOptions scan = kv::ScanOptions::Prefix(key);
  scan.batch_size = max_results;
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(refs, scan));
  std::vector<std::string> ids;
  for (; it->Valid() && ids.size() < max_results; it->Next()) {
    ids.emplace_back(it->key().substr(kCommitPrefix.size()));
  }
  REFKV_RETURN_IF_ERROR(it->status());
  if (keys_read != nullptr) *keys_read = ids.size();
  return ids;
}

}  // namespace refkv::refstore::internal
