// The in-memory driver ("mem://"): sorted maps, no persistence. For tests, experiments
// and as the reference model in differential tests.
//
// Thread-safety: all methods are thread-safe. Readers share one reader-writer lock;
// writers take it exclusively (a mem store is not built for write scaling). Iterators
// hold a copy-on-write snapshot of their partition: a writer that finds a live
// iterator on a partition copies that partition's map once, so scans never block
// writers for longer than the copy and always see the state as of the Scan call.
#ifndef REFKV_ENGINE_MEM_MEM_STORE_H_
#define REFKV_ENGINE_MEM_MEM_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

// Opens a new, empty in-memory store. Never fails on a well-formed URI.
Result<std::unique_ptr<Store>> OpenMemStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_MEM_MEM_STORE_H_
