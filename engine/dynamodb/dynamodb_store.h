// The DynamoDB driver ("dynamodb://TABLE?..."): a refkv store in one DynamoDB table.
//
// Every [partition, key, value] triplet is one item of one table:
//   p  binary, partition key (HASH) = the KV partition
//   k  binary, sort key (RANGE)     = the KV key
//   v  binary                       = the value
// DynamoDB orders binary sort keys bytewise, which is kv::Store's key order. The table is
// created on open if missing (and allowed), waited for until ACTIVE; an existing table's
// key schema is checked (InvalidArgument naming what differs).
//
// URI: dynamodb://TABLE?endpoint=URL&region=R&...
//   endpoint=URL         default https://dynamodb.REGION.amazonaws.com
//   region=R             default $AWS_REGION, then $AWS_DEFAULT_REGION, then us-east-1
//   billing=MODE         pay_per_request (default) or provisioned (for a created table)
//   read_capacity=N, write_capacity=N   provisioned units (default 5 each)
//   scan_page_size=N     items per Query page of a Scan (default 1000; DynamoDB also
//                        stops a page at 1 MB); ScanOptions::batch_size overrides
//   max_connections=N    the libcurl handle pool, one keep-alive connection each (16)
//   request_timeout_ms=N one HTTP request, connecting included (default 10000)
//   retries=N            attempts for throttling, 5xx and lost connections (default 8)
//   write_mode=MODE      transact (default): Write is atomic (TransactWriteItems);
//                        batch: Write goes through BatchWriteItem, 25 items per request,
//                        NOT atomic (a failure midway leaves part of the batch applied),
//                        any size - for servers without transactions (dynalite) and bulk
//                        loads whose caller verifies (kv migrate does)
// Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optionally AWS_SESSION_TOKEN
// (InvalidArgument at open when missing). Requests are signed with SigV4 (sigv4.h).
//
// Verbs: Get = GetItem (consistent read); Set = PutItem; SetIf = PutItem with a
// ConditionExpression (attribute_not_exists / attribute_exists / v = :expected); Delete =
// DeleteItem; DeleteIf likewise (DeleteIf(absent) is a consistent read); Scan = Query on
// the partition, paged with ExclusiveStartKey (each page a consistent read; the first page
// is read by Scan itself, so a scan of up to one page sees the partition as of the call,
// longer scans see later writes ahead of the cursor, never a key twice or out of order);
// MultiGet = BatchGetItem (100 keys per request, unprocessed keys retried); Write =
// one PutItem/DeleteItem for a batch of one key, else TransactWriteItems (atomic, at most
// 100 distinct keys: a larger batch is InvalidArgument; a server without transactions,
// such as dynalite, answers Unsupported); DeleteRange and DropPartition = Query of the keys +
// BatchWriteItem (25 per request, unprocessed items retried): NOT atomic, a failure
// midway leaves part of the range deleted. ListPartitions = a Scan of the whole table
// (projected to p): cost ~ the table's size.
//
// Limits. refkv's own limits (engine/store.h) are checked first; DynamoDB's then narrow
// them: a key over 1024 bytes (DynamoDB's sort-key limit; refkv allows 2048) and an item
// over 400 KB (409600 bytes: partition + key + value + 3 bytes of attribute names) are
// InvalidArgument naming the size and the limit, nothing written. Reads and deletes of
// such keys find nothing (they cannot exist).
//
// Faults. Throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded,
// transaction conflicts), HTTP 5xx and lost connections are retried up to `retries`
// attempts with full-jitter exponential backoff (20 ms doubling to 1 s) - except that a
// conditional write (SetIf, DeleteIf) whose request reached the server and whose answer
// was lost (timeout, reset, 5xx) returns UnknownOutcome: it may or may not have happened.
// Write retries TransactWriteItems with the same ClientRequestToken (idempotent for 10
// minutes on DynamoDB). Errors: endpoint unreachable -> IOError "cannot reach DynamoDB
// endpoint ..." (retryable); credentials refused -> IOError "DynamoDB at ... refused the
// credentials ..."; missing table (create_if_missing=false, or dropped later) -> NotFound
// "DynamoDB table '...' does not exist at ..."; timeout -> Timeout.
//
// Thread-safety: the Store is thread-safe; iterators are not and must not outlive it.
#ifndef REFKV_ENGINE_DYNAMODB_DYNAMODB_STORE_H_
#define REFKV_ENGINE_DYNAMODB_DYNAMODB_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

// DynamoDB's own limits (on top of kv::kMax*).
inline constexpr size_t kDynamoMaxItemBytes = 400 * 1024;
inline constexpr size_t kDynamoMaxSortKeyBytes = 1024;
inline constexpr size_t kDynamoMaxTransactItems = 100;

// Opens (creating the table if needed and allowed) the store named by `uri`; see above.
Result<std::unique_ptr<Store>> OpenDynamoStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_DYNAMODB_DYNAMODB_STORE_H_
