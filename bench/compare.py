#!/usr/bin/env python3
"""Ratio report for refkv_bench: kv/<driver>/<op> against baseline/rocksdb/<op>.

Reads Google Benchmark JSON (refkv_bench --benchmark_format=json or --benchmark_out=F)
and prints Markdown tables: items_per_second of each kv case, of its baseline in the same
run, their ratio, and pass/fail against the target for the rocks driver (the shared
mapping and mem are shown for reference), plus the ratio of items_per_cpu_second (work
per CPU-second, undisturbed by other processes on a shared machine); then the SetIf
mechanism comparison and its lost-update checks. Uses the median aggregate when the run had repetitions
(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true), else the median of
the runs present.

    python3 bench/compare.py results.json [more.json ...] [--strict]

--strict: exit 1 if a target is missed or a lost-update check fails. Stdlib only.
"""

import json
import re
import statistics
import sys

# (kv op, baseline op, target ratio) — from issue 7.
PAIRS = [
    ("get", "get", 0.9),
    ("set", "set", 0.9),
    ("scan", "scan", 0.9),
    ("setif", "get_put", 0.9),
    ("setif_hot", "set_hot", 0.8),
]
# Drivers with a target; the others are shown for reference.
GATED_DRIVERS = ["rocks"]
REFERENCE_DRIVERS = ["rocks_shared", "mem"]
MECHS = ["put", "striped_get_put", "optimistic_txn", "pessimistic_txn"]
CHECKS = ["striped_get_put", "optimistic_txn", "pessimistic_txn", "unlocked_get_put"]


def base_name(run_name):
    """'kv/rocks/get/real_time/threads:2' -> ('kv/rocks/get', 2)."""
    threads = 1
    m = re.search(r"/threads:(\d+)", run_name)
    if m:
        threads = int(m.group(1))
    name = re.sub(r"/(real_time|manual_time|threads:\d+|iterations:\d+|min_time:[\d.]+)",
                  "", run_name)
    return name, threads


def load(paths):
    """{(name, threads): {"ips": median items/s, "counters": {...}, "n": runs}}."""
    medians = {}
    runs = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                key = base_name(b.get("run_name", b["name"]))
                medians[key] = {"error": b.get("error_message", "error")}
                continue
            run_name = b.get("run_name", b["name"])
            key = base_name(run_name)
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[key] = b
            else:
                runs.setdefault(key, []).append(b)
    out = {}
    for key, rows in runs.items():
        if key in medians:
            continue
        ips = [r.get("items_per_second", 0.0) for r in rows]
        row = dict(rows[0])
        row["items_per_second"] = statistics.median(ips)
        for c in ("lost_updates", "attempts", "items_per_cpu_second", "ratio", "ratio_cpu",
                  "kv_items_per_second", "baseline_items_per_second"):
            if c in row:
                row[c] = statistics.median(r[c] for r in rows)
        out[key] = row
    out.update(medians)
    return out


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f}M/s"
    return f"{v / 1e3:.1f}k/s"


def ips(results, name, threads, field="items_per_second"):
    row = results.get((name, threads))
    if row is None or "error" in row:
        return None
    return row.get(field)


def kv_table(results, failures, checked):
    threads_seen = sorted({t for (_, t) in results})
    lines = ["| case | threads | kv items/s | baseline | baseline items/s | ratio | target | result "
             "| ratio per CPU-second |",
             "|---|---:|---:|---|---:|---:|---:|---|---:|"]
    for driver in GATED_DRIVERS + REFERENCE_DRIVERS:
        for op, base_op, target in PAIRS:
            for t in threads_seen:
                kv_name = f"kv/{driver}/{op}"
                base = f"baseline/rocksdb/{base_op}"
                if (kv_name, t) not in results:
                    continue
                a, b = ips(results, kv_name, t), ips(results, base, t)
                ratio = a / b if a and b else None
                if driver in GATED_DRIVERS:
                    checked.append(kv_name)
                    if ratio is None:
                        verdict = "missing"
                        failures.append(f"{kv_name} threads:{t} missing")
                    elif ratio >= target:
                        verdict = "pass"
                    else:
                        verdict = "**FAIL**"
                        failures.append(f"{kv_name} threads:{t} {ratio:.2f}x < {target}x")
                    tgt = f">= {target}x"
                else:
                    verdict, tgt = "ref", ""
                r = f"{ratio:.2f}x" if ratio is not None else "-"
                ca = ips(results, kv_name, t, "items_per_cpu_second")
                cb = ips(results, base, t, "items_per_cpu_second")
                cr = f"{ca / cb:.2f}x" if ca and cb else "-"
                lines.append(f"| {kv_name} | {t} | {fmt_rate(a)} | {base} | {fmt_rate(b)} "
                             f"| {r} | {tgt} | {verdict} | {cr} |")
    return lines


def pair_table(results, failures, checked):
    """pair/<driver>/<op>: both sides A/B-interleaved inside one case (kv_pair_bench.cc)."""
    lines = []
    threads_seen = sorted({t for (n, t) in results if n.startswith("pair/")})
    for driver in GATED_DRIVERS + REFERENCE_DRIVERS:
        for op, base_op, target in PAIRS:
            for t in threads_seen:
                name = f"pair/{driver}/{op}"
                row = results.get((name, t))
                if row is None:
                    continue
                if "error" in row:
                    ratio = None
                else:
                    ratio = row.get("ratio")
                cpu = row.get("ratio_cpu") if ratio is not None else None
                if driver in GATED_DRIVERS:
                    checked.append(name)
                    if cpu is None:
                        verdict = "missing"
                        failures.append(f"{name} threads:{t} missing")
                    elif cpu >= target:
                        verdict = "pass"
                    else:
                        verdict = "**FAIL**"
                        failures.append(f"{name} threads:{t} CPU ratio {cpu:.2f}x < {target}x")
                    tgt = f">= {target}x"
                else:
                    verdict, tgt = "ref", ""
                r = f"{ratio:.2f}x" if ratio is not None else "-"
                c = f"{cpu:.2f}x" if cpu is not None else "-"
                # the paired table is judged on the CPU ratio (stable on a busy machine)
                lines.append(
                    f"| kv/{driver}/{op} vs baseline/rocksdb/{base_op} | {t} "
                    f"| {fmt_rate(row.get('kv_items_per_second'))} "
                    f"| {fmt_rate(row.get('baseline_items_per_second'))} | {r} | {tgt} "
                    f"| {verdict} | {c} |")
    if lines:
        lines = ["| pair (A/B-interleaved in one case) | threads | kv items/s | baseline items/s "
                 "| ratio (wall) | target | result (on the CPU ratio) | ratio per CPU-second |",
                 "|---|---:|---:|---:|---:|---:|---|---:|"] + lines
    return lines


def mech_table(results, failures, checked):
    lines = []
    rows = []
    for mech in MECHS:
        for t in (1, 2):
            v = ips(results, f"mech/{mech}", t)
            if v is None:
                continue
            put = ips(results, "mech/put", t)
            rel = f"{v / put:.2f}x" if put else "-"
            cpu = ips(results, f"mech/{mech}", t, "items_per_cpu_second")
            rows.append(f"| mech/{mech} | {t} | {fmt_rate(v)} | {rel} | {fmt_rate(cpu)} |")
    if rows:
        lines += ["| mechanism | threads | items/s | vs mech/put | items per CPU-second |",
                  "|---|---:|---:|---:|---:|"]
        lines += rows
    checks = []
    for mech in CHECKS:
        row = results.get((f"mech/{mech}/counter_check", 1))
        if row is None or "error" in row:
            continue
        lost = int(row.get("lost_updates", -1))
        expect_zero = mech != "unlocked_get_put"
        if expect_zero:
            checked.append(mech)
            verdict = "pass" if lost == 0 else "**FAIL**"
            if lost != 0:
                failures.append(f"mech/{mech} lost {lost} updates")
        else:
            verdict = "control (expected > 0)" if lost > 0 else "control saw none this run"
        checks.append(f"| mech/{mech}/counter_check | {lost} | {int(row.get('attempts', 0))} "
                      f"| {fmt_rate(row.get('items_per_second'))} | {verdict} |")
    if checks:
        lines += ["", "| lost-update check (2 threads, 4 counters, 10,000 increments) | lost "
                  "| attempts | increments/s | result |", "|---|---:|---:|---:|---|"]
        lines += checks
    return lines


def main(argv):
    strict = "--strict" in argv
    paths = [a for a in argv if a != "--strict"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    results = load(paths)
    failures, checked = [], []
    out = []
    if any(n.startswith(("kv/", "baseline/")) for (n, _) in results):
        out += ["Separate cases (kv/* and baseline/* run as their own cases):", ""]
        out += kv_table(results, failures, checked)
    pair = pair_table(results, failures, checked)
    if pair:
        out += ["", "Paired cases (pair/*: both sides A/B-interleaved in ~1 ms blocks):", ""]
        out += pair
    mech = mech_table(results, failures, checked)
    if mech:
        out += ["", "SetIf mechanisms on raw RocksDB (mech/*):", ""] + mech
    print("\n".join(out))
    gated = len(checked)
    print()
    if failures:
        print(f"{len(failures)} of {gated} checks missed:")
        for f in failures:
            print(f"  - {f}")
    else:
        print(f"all {gated} gated checks met")
    return 1 if strict and failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
