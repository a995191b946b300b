// The PostgreSQL driver ("postgres://..." / "postgresql://..."): the scale-out path.
//
// Several refkv processes, on one machine or many, share one PostgreSQL database. Every
// [partition, key, value] triplet is one row of one table:
//
//   CREATE TABLE <schema>.<table> (partition bytea, key bytea, value bytea NOT NULL,
//                                  PRIMARY KEY (partition, key))
//
// bytea compares bytewise (memcmp, shorter first on a tie), which is exactly kv::Store's
// key order, so every Scan is an index range scan. The table is created on first open,
// idempotently, under a transaction-scoped advisory lock, so any number of processes may
// open a new database at once. (Why one B-tree and not hash partitioning:
// bench/results/postgres.md.) A (partition, key) pair must fit a B-tree index entry:
// about 2.7 KB together; larger keys fail with InvalidArgument. Values may be up to 1 GB
// (PostgreSQL TOASTs large ones).
//
// URI. Everything is handed to libpq as written, except these refkv parameters, which are
// removed from the query before libpq sees it:
//
//   table=NAME                 the table (default "refkv_kv"); quoted, any characters
//   schema=NAME                its schema (default "public"; created if missing)
//   max_open_connections=N     the size of the connection pool (default 8, 1..1000)
//   statement_timeout_ms=N     server-side limit per statement (default 0: none);
//                              a statement that exceeds it fails with Timeout
//   connect_timeout=SECONDS    limit for establishing a connection (default 10; libpq
//                              treats 1 as 2; 0 waits forever)
//   conninfo=STRING            a libpq keyword/value string ("host=/run/pg dbname=x")
//                              used instead of the URI; only with an empty location:
//                              postgres://?conninfo=host%3D/run/pg%20dbname%3Dx&table=t
//
// Examples:
//   postgres://refkv:secret@db.internal:5432/meta?sslmode=require&max_open_connections=16
//   postgres:///postgres?host=/tmp/refkv-pg-abc&port=5432&table=t1
//
// Cost: every verb is one round trip with one prepared statement and binary parameters
// and results (no escaping of bytes): Get, Set (INSERT .. ON CONFLICT DO UPDATE), SetIf
// (absent: INSERT .. ON CONFLICT DO NOTHING; exists/equals: UPDATE .. WHERE; the row count
// decides), Delete, DeleteIf, DeleteRange (one DELETE of a key range), DropPartition (one
// DELETE of the partition), MultiGet (one SELECT .. key = ANY($2)), Write (one statement
// applying every put and delete from arrays: atomic), ListPartitions (one recursive query
// that skips from partition to partition through the index: cost ~ number of partitions).
// Writes are durable when acknowledged (the server's synchronous_commit decides).
//
// Scans page with keyset pagination: "key >= start AND key < end ORDER BY key LIMIT n",
// then "key > last". The first page is fetched by Scan itself; pages grow 64, 256, 1024,
// 4096 rows (capped by ScanOptions::batch_size when given). Consistency of a scan:
//   - each page is one statement, so one consistent snapshot;
//   - a scan that fits in its first page (up to 64 keys, or batch_size if smaller) is
//     fully consistent: it sees the partition as of the Scan call;
//   - across pages it sees writes committed between pages (a key inserted ahead of the
//     cursor appears, one deleted ahead of it disappears), but never yields a key twice
//     and never out of order. Seek re-queries and so sees the latest committed state.
//
// Connections and faults. A pool of up to max_open_connections connections; each call
// checks one out for one round trip, so a Store is thread-safe and calls run in parallel
// up to the pool size (further callers wait). A broken connection is discarded and
// replaced on demand; the store reconnects by itself after a server restart.
//   - Server unreachable at open: IOError naming the host or socket (retryable).
//   - connect_timeout exceeded: Timeout. Authentication failure: IOError saying so.
//     Database missing: NotFound naming it. (libpq reports these before any SQLSTATE
//     exists, so they are told apart by its English messages; anything else is IOError.)
//   - statement_timeout exceeded: Timeout (the statement rolled back).
//   - Connection lost mid-call: Get, MultiGet, Set, Delete, DeleteRange, DropPartition,
//     a Scan page and DeleteIf(absent) are retried on a fresh connection, up to 5
//     attempts with backoff (10 ms, 40 ms, 160 ms, 640 ms), then IOError (retryable).
//     SetIf, DeleteIf and Write are retried only when the server cannot have executed
//     them (not sent, or the server said it terminated the session before finishing);
//     if the request was sent and the answer lost, they return UnknownOutcome: the write
//     may or may not have happened, and the caller must read to find out. They never
//     report PredicateFailed for a write that happened, nor OK for one that did not.
//   - A TCP peer that vanishes is detected by TCP keepalives (defaults keepalives_idle=10,
//     keepalives_interval=5, keepalives_count=3, tcp_user_timeout=30000; override in URI).
//
// Options: read_only opens sessions with default_transaction_read_only (writes fail) and
// never creates the table; create_if_missing=false gives NotFound for a missing table.
//
// Thread-safety: the Store is thread-safe; iterators are not, and must not outlive it.
#ifndef REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_
#define REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

// Opens (creating the table if needed and allowed) the store named by `uri`; see above.
Result<std::unique_ptr<Store>> OpenPostgresStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_POSTGRES_POSTGRES_STORE_H_
