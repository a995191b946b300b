#include "refstore/internal/staged.h"

#include "refstore/internal/codec.h"

namespace refkv::refstore::internal {

Result<std::optional<pb::StagedEntry>> DecodeStaged(std::string_view raw, std::string_view what) {
  pb::StagedEntry entry;
  REFKV_RETURN_IF_ERROR(Decode(raw, &entry, what));
  switch (entry.kind_case()) {
    case pb::StagedEntry::kValue:
    case pb::StagedEntry::kTombstone:
      return std::optional<pb::StagedEntry>(std::move(entry));
    case pb::StagedEntry::kIntent: {
      const pb::StagedEntry& before = entry.intent().before();
      if (!entry.intent().has_before() || before.kind_case() == pb::StagedEntry::KIND_NOT_SET) {
        return std::optional<pb::StagedEntry>();
      }
      if (before.kind_case() == pb::StagedEntry::kIntent) {
        return Status::Corruption("an intent inside an intent at " + std::string(what));
      }
      return std::optional<pb::StagedEntry>(before);
    }
    case pb::StagedEntry::KIND_NOT_SET:
      break;
  }
  // Read as a deletion, as every refkv before intents did with anything but a value.
  entry.set_tombstone(true);
  return std::optional<pb::StagedEntry>(std::move(entry));
}

}  // namespace refkv::refstore::internal
