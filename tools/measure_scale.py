"""Wall time and peak memory (VmHWM, reset before scoring) of scoring at each size, engine vs DuckDB, each in a fresh
process so one run's memory does not hide another's. Usage: python tools/measure_scale.py [ROWS ...]
Prints a Markdown table (the one in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, sys, time
from scoring.synthetic import synth
from scoring.method.engine import score
sys.path.insert(0, ".")
from tests.benchmarks import duckdb_peer
rows, what = int(sys.argv[1]), sys.argv[2]
scheme = synth.for_rows(rows)
evidence = synth.evidence(scheme)
if what != "full":
    scheme = duckdb_peer.time_rules_only(scheme)
import gc
gc.collect()
def status(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1])  # kB
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) so it measures scoring alone
t = time.perf_counter()
if what == "duckdb":
    duckdb_peer.duckdb_scores(scheme, evidence, scheme.default_as_of)
else:
    score(scheme, evidence)
seconds = time.perf_counter() - t
peak = status("VmHWM")
print(json.dumps({"rows": len(evidence), "seconds": seconds, "peak_gb": peak / 2**20, "input_gb": before / 2**20}))
"""


def measure(rows: int, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(rows), what], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [50_000, 1_000_000, 10_000_000]
    print("| evidence rows | engine, all rules | engine, deadline+periodic | DuckDB, deadline+periodic | ratio | engine: RSS with the evidence → peak while scoring |")
    print("|---:|---:|---:|---:|---:|---:|")
    for rows in sizes:
        full, time_only, duck = (measure(rows, w) for w in ("full", "time", "duckdb"))
        print(f"| {full['rows']:,} | {full['seconds']:.2f} s | {time_only['seconds']:.2f} s | {duck['seconds']:.2f} s "
              f"| {time_only['seconds'] / duck['seconds']:.2f}× | {full['input_gb']:.2f} → {full['peak_gb']:.2f} GB |",
              flush=True)


if __name__ == "__main__":
    main()
