#!/usr/bin/env bash
# bench/io_uring_multiread.sh [BUILD_DIR]
# The physical limit beside the RocksDB MultiGet cases, in one run on one file system:
#   1. fio random 4 KiB direct reads at queue depth 32 through io_uring (1 GiB file,
#      10 s) in $REFKV_BENCH_DIR (default /tmp);
#   2. refkv_bench --benchmark_filter=RocksMultiGet: MultiGet of random keys in batches
#      of 32 with direct reads and an 8 MiB block cache over 256 MiB of data, through
#      the io_uring file system (uring:1) and RocksDB's default one (uring:0), and
#      single Gets.
# Prints fio's IOPS and the benchmark table; compare items_per_second (keys/s; each key
# is one 4 KiB block read, the blocks hold ~4 values) with fio's IOPS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${1:-$root/build}
dir=${REFKV_BENCH_DIR:-/tmp}
export REFKV_BENCH_DIR=$dir
work="$dir/refkv-fio-$$"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "== fio randread 4k qd32 io_uring direct (10 s) in $dir"
fio --name=randread --rw=randread --bs=4k --iodepth=32 --ioengine=io_uring --direct=1 \
  --size=1G --runtime=10 --time_based --directory="$work" --output-format=normal |
  grep -E "IOPS=|lat \(usec\): min|clat \(usec\)" | head -3
echo "== refkv_bench RocksMultiGet"
"$build/bin/refkv_bench" --benchmark_filter=RocksMultiGet --benchmark_counters_tabular=true
