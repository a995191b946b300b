#!/bin/sh
# refkv_bench ends cleanly: exit status 0 after cases that keep RocksDB stores open
# between runs (commit_latency, the shared-store commit cases), and no scratch directory
# left behind, neither then nor when the run is stopped by SIGTERM in the middle of a
# case (exit status 143). Usage: bench_exit_test.sh PATH/TO/refkv_bench
set -u
bench=$1
fail() { echo "bench_exit_test: $*" >&2; exit 1; }
tmp=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/run" "$tmp/killed"

TMPDIR=$tmp/run REFKV_BENCH_DIR= "$bench" --benchmark_min_time=0.01 \
  --benchmark_filter='refstore/rocks/commit_latency/branch_entries:1000/|refstore/rocks/commits/one_branch/durable:0/real_time/threads:1$' \
  >"$tmp/run.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/run.log" >&2; fail "exit status $rc after a clean run (want 0)"; }
left=$(ls -A "$tmp/run")
[ -z "$left" ] || fail "left behind after a clean run: $left"

# A case that runs long enough to be interrupted: 1-entry commits on a 100k-entry branch
# (its fill alone takes seconds). SIGTERM once its store directory exists.
TMPDIR=$tmp/killed REFKV_BENCH_DIR= "$bench" --benchmark_min_time=30 \
  --benchmark_filter='refstore/rocks/commit_latency/branch_entries:100000/' \
  >"$tmp/killed.log" 2>&1 &
pid=$!
i=0
while [ -z "$(ls -A "$tmp/killed")" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -n "$(ls -A "$tmp/killed")" ] || { kill "$pid"; fail "no store directory appeared"; }
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] || { cat "$tmp/killed.log" >&2; fail "exit status $rc after SIGTERM (want 143)"; }
left=$(ls -A "$tmp/killed")
[ -z "$left" ] || fail "left behind after SIGTERM: $left"
echo "bench_exit_test: ok"
