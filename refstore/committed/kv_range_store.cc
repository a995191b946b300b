// The KV RangeStore: objects as chunked values inside a kv::Store partition (layout in
// range_store.h). Insert-only: chunks live under the writer's own token, and an object
// appears when its manifest is inserted with SetIf(absent).
#include <xxhash.h>

#include <cstdio>
#include <random>

#include "base/hex.h"
#include "base/random.h"
#include "refstore/committed/encoding.h"
#include "refstore/committed/range_store.h"

namespace refkv::refstore {

namespace {

std::string RandomToken() { return HexUint64(ThreadRng()(), 16); }

struct Manifest {
  std::string token;
  uint64_t size = 0;
  uint64_t chunks = 0;
  std::string checksum;  // xxh64 of the bytes, 16 hex digits

  std::string Encode() const {
    return token + " " + std::to_string(size) + " " + std::to_string(chunks) + " " + checksum;
  }
  static bool Decode(std::string_view s, Manifest* m) {
    char token[33] = {0}, sum[33] = {0};
    unsigned long long size = 0, chunks = 0;
    std::string copy(s);
    if (std::sscanf(copy.c_str(), "%32s %llu %llu %32s", token, &size, &chunks, sum) != 4) {
      return false;
    }
    m->token = token;
    m->size = size;
    m->chunks = chunks;
    m->checksum = sum;
    uint64_t max_chunks = (m->size + kKvRangeChunkSize - 1) / kKvRangeChunkSize;
    return m->chunks == max_chunks && m->token.size() == 16 && m->checksum.size() == 16;
  }
};

class KvRangeStore final : public RangeStore {
 public:
  KvRangeStore(kv::Store& store, std::string partition)
      : store_(store), partition_(std::move(partition)) {}

  std::string_view kind() const override { return "kv"; }

  Status PutRange(std::string_view id, std::string_view bytes) override {
    return Put('r', id, bytes);
  }
  Result<std::string> GetRange(std::string_view id) override { return Get('r', id); }
  Result<bool> HasRange(std::string_view id) override {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    Result<std::string> m = store_.Get(partition_, ManifestKey('r', id));
    if (m.ok()) return true;
    if (m.status().IsNotFound()) return false;
    return m.status();
  }
  Status PutMetaRange(std::string_view id, std::string_view bytes) override {
    return Put('m', id, bytes);
  }
  Result<std::string> GetMetaRange(std::string_view id) override { return Get('m', id); }
  Status PutMetaObject(MetaObject kind, std::string_view id, std::string_view bytes) override {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    return store_.Set(partition_, ObjectKey(kind, id), bytes);
  }
  Result<std::string> GetMetaObject(MetaObject kind, std::string_view id) override {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    Result<std::string> v = store_.Get(partition_, ObjectKey(kind, id));
    if (v.status().IsNotFound()) {
      return Status::NotFound(std::string(ObjectWhat(kind)) + " " + std::string(id) +
                              " not found in kv range store partition " +
                              kv::Printable(partition_));
    }
    return v;
  }
  Result<std::vector<std::string>> ListMetaObjectIds(MetaObject kind) override {
    const std::string prefix = ObjectKey(kind, "");
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(partition_, kv::ScanOptions::Prefix(prefix)));
    std::vector<std::string> ids;
    for (; it->Valid(); it->Next()) ids.emplace_back(it->key().substr(prefix.size()));
    REFKV_RETURN_IF_ERROR(it->status());
    return ids;
  }
  Status DeleteMetaObject(MetaObject kind, std::string_view id) override {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    return store_.Delete(partition_, ObjectKey(kind, id));
  }
  Status Sync() override { return store_.Sync(); }
  const kv::Store* kv_store() const override { return &store_; }
  Result<std::vector<std::string>> ListRangeIds() override { return List('r'); }
  Result<std::vector<std::string>> ListMetaRangeIds() override { return List('m'); }
  Status DeleteRange(std::string_view id) override { return Delete('r', id); }
  Status DeleteMetaRange(std::string_view id) override { return Delete('m', id); }

 private:
  static Status CheckId(std::string_view id) {
    if (!internal::IsValidId(id)) {
      return Status::InvalidArgument("range store: malformed id " + kv::Printable(id));
    }
    return Status::OK();
  }
  static std::string ObjectKey(MetaObject kind, std::string_view id) {
    return (kind == MetaObject::kRoot ? "m2/" : "p2/") + std::string(id);
  }
  static std::string_view ObjectWhat(MetaObject kind) {
    return kind == MetaObject::kRoot ? "metarange root" : "metarange part";
  }
  static std::string_view What(char kind) { return kind == 'r' ? "range" : "metarange"; }
  static std::string ManifestKey(char kind, std::string_view id) {
    return std::string(1, kind) + "m/" + std::string(id);
  }
  static std::string ChunkPrefix(char kind, std::string_view id) {
    return std::string(1, kind) + "c/" + std::string(id) + "/";
  }
  static std::string ChunkKey(char kind, std::string_view id, std::string_view token, uint64_t n) {
    return ChunkPrefix(kind, id) + std::string(token) + "/" + HexUint64(n, 8);
  }
  Status DeleteChunks(char kind, std::string_view id, std::string_view token) {
    std::string prefix = ChunkPrefix(kind, id) + std::string(token) + "/";
    return store_.DeleteRange(partition_, prefix, kv::PrefixUpperBound(prefix));
  }

  Status Put(char kind, std::string_view id, std::string_view bytes) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    std::string mkey = ManifestKey(kind, id);
    Result<std::string> existing = store_.Get(partition_, mkey);
    if (existing.ok()) return Status::OK();  // content-addressed: same content
    if (!existing.status().IsNotFound()) return existing.status();

    Manifest m;
    m.token = RandomToken();
    m.size = bytes.size();
    m.chunks = (bytes.size() + kKvRangeChunkSize - 1) / kKvRangeChunkSize;
    m.checksum = HexUint64(XXH64(bytes.data(), bytes.size(), 0), 16);
    for (uint64_t n = 0; n < m.chunks; ++n) {
      REFKV_RETURN_IF_ERROR(store_.Set(partition_, ChunkKey(kind, id, m.token, n),
                                       bytes.substr(n * kKvRangeChunkSize, kKvRangeChunkSize)));
    }
    std::string encoded = m.Encode();
    Status s = store_.SetIf(partition_, mkey, encoded, kv::Predicate::Absent());
    if (s.ok()) return s;
    if (s.IsPredicateFailed() || s.IsUnknownOutcome()) {
      // Someone stored the same id first (or our insert may have landed): find out who won.
      Result<std::string> now = store_.Get(partition_, mkey);
      if (!now.ok()) return now.status();
      if (*now == encoded) return Status::OK();
      return DeleteChunks(kind, id, m.token);  // theirs won; ours are orphans
    }
    return s;
  }

  Result<std::string> Get(char kind, std::string_view id) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    Result<std::string> mval = store_.Get(partition_, ManifestKey(kind, id));
    if (!mval.ok()) {
      if (mval.status().IsNotFound()) {
        return Status::NotFound(std::string(What(kind)) + " " + std::string(id) +
                                " not found in kv range store partition " +
                                kv::Printable(partition_));
      }
      return mval.status();
    }
    auto corrupt = [&](std::string what) {
      return Status::Corruption(std::string(What(kind)) + " " + std::string(id) + " in partition " +
                                kv::Printable(partition_) + ": " + what);
    };
    Manifest m;
    if (!Manifest::Decode(*mval, &m)) return corrupt("bad manifest " + kv::Printable(*mval));
    std::vector<std::string> keys;
    for (uint64_t n = 0; n < m.chunks; ++n) keys.push_back(ChunkKey(kind, id, m.token, n));
    std::string out;
    if (!keys.empty()) {
      REFKV_ASSIGN_OR_RETURN(auto chunks, store_.MultiGet(partition_, keys));
      out.reserve(m.size);
      for (size_t n = 0; n < chunks.size(); ++n) {
        if (!chunks[n].ok()) {
          if (chunks[n].status().IsNotFound()) return corrupt("chunk " + keys[n] + " missing");
          return chunks[n].status();
        }
        out.append(*chunks[n]);
      }
    }
    if (out.size() != m.size) {
      return corrupt("size " + std::to_string(out.size()) + ", manifest says " +
                     std::to_string(m.size));
    }
    if (HexUint64(XXH64(out.data(), out.size(), 0), 16) != m.checksum) {
      return corrupt("chunks do not match the manifest checksum");
    }
    return out;
  }

  Result<std::vector<std::string>> List(char kind) {
    std::string prefix = std::string(1, kind) + "m/";
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(partition_, kv::ScanOptions::Prefix(prefix)));
    std::vector<std::string> ids;
    for (; it->Valid(); it->Next()) ids.emplace_back(it->key().substr(prefix.size()));
    REFKV_RETURN_IF_ERROR(it->status());
    return ids;
  }

  // Removes the manifest it read (DeleteIf: a manifest inserted meanwhile by a new writer
  // stays) and then only that manifest's chunks: a writer that found no manifest is
  // writing chunks under its own token, which must survive (deleting every token's chunks
  // here once left a new manifest pointing at deleted chunks). An undecodable manifest
  // goes with every chunk of the id.
  Status Delete(char kind, std::string_view id) {
    REFKV_RETURN_IF_ERROR(CheckId(id));
    const std::string mkey = ManifestKey(kind, id);
    Result<std::string> mval = store_.Get(partition_, mkey);
    if (mval.status().IsNotFound()) return Status::OK();
    if (!mval.ok()) return mval.status();
    Status s = store_.DeleteIf(partition_, mkey, kv::Predicate::Equals(*mval));
    if (s.IsPredicateFailed()) return Status::OK();  // deleted and written anew meanwhile
    REFKV_RETURN_IF_ERROR(s);
    Manifest m;
    if (!Manifest::Decode(*mval, &m)) {
      std::string prefix = ChunkPrefix(kind, id);
      return store_.DeleteRange(partition_, prefix, kv::PrefixUpperBound(prefix));
    }
    return DeleteChunks(kind, id, m.token);
  }

  kv::Store& store_;
  const std::string partition_;
};

}  // namespace

Result<std::unique_ptr<RangeStore>> OpenKvRangeStore(kv::Store& store, std::string partition) {
  if (partition.empty()) return Status::InvalidArgument("kv range store: empty partition name");
  return std::unique_ptr<RangeStore>(new KvRangeStore(store, std::move(partition)));
}

}  // namespace refkv::refstore
