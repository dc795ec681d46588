"""Every benchmark in one run: builds the synthetic county if needed, prints one table, writes bench/RESULTS.md.

    python bench/run.py            # reuse bench/out/county.sqlite3 if it is there
    python bench/run.py --fresh    # build the county again first (about 6 minutes more)

Each benchmark runs in its own process (so memory figures and cold starts are its own), one after another,
so they never compete for the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.county import HOUSEHOLDS  # noqa: E402
from bench.report import machine  # noqa: E402

COUNTY = ROOT / "bench" / "out" / "county.sqlite3"
# In this order: the store benchmark builds the county the later ones read.
STEPS = [
    ("settlement engine", ["bench/bench_settle.py"]),
    ("batch settlement, 湖南 workload", ["bench/bench_batch.py"]),
    ("county store", ["bench/bench_store.py", "--db", str(COUNTY)]),
    # After the store benchmark (which builds the county): 10% and 30% counties, and the county itself read-only.
    ("county re-settlement at 10/30/100% (growth)",
     ["bench/bench_resettle.py", "--sizes", f"{HOUSEHOLDS // 10},{HOUSEHOLDS * 3 // 10}", "--db", str(COUNTY)]),
    ("check", ["bench/bench_check.py", "--db", str(COUNTY)]),
    ("database size per visit at 10/30/100% (growth), and the county's", ["bench/bench_size.py", "--db", str(COUNTY)]),
    ("desktop app", ["bench/bench_gui.py", "--db", str(COUNTY)]),
    ("event loop while re-settling", ["bench/bench_responsiveness.py"]),
    ("printed documents", ["bench/bench_documents.py", "--db", str(COUNTY)]),
    ("identity list import", ["bench/bench_import.py"]),
    ("bill list import", ["bench/bench_bill_import.py"]),
    ("bounded importers", ["bench/bench_bounds.py"]),
    ("Excel exports at 10/30/100% (growth)", ["bench/bench_exports.py"]),
    # Issue 17's figures at 10%, 30% and 100% of the benchmark county (the 10% and 30% counties are built beside it
    # once), each with its growth per doubling, so that a path growing faster than the county cannot hide.
    ("statistics, monitoring list and size at 10/30/100% of the county (growth)",
     ["bench/bench_lists.py", "--households", str(HOUSEHOLDS), "--db", str(COUNTY)]),
    ("exchange packages at 10/30/100% of the county (growth)",
     ["bench/bench_packages.py", "--households", str(HOUSEHOLDS), "--db", str(COUNTY), "--skip-site"]),
    ("fund simulation (政策测算) at 10/30/100% (growth)",
     ["bench/bench_simulate.py", "--households", str(HOUSEHOLDS), "--db", str(COUNTY)]),
    ("daily backup beside saves", ["bench/bench_backup.py"]),
    ("sealed packages and signed pushes", ["bench/bench_envelope.py"]),
    ("county database push", ["bench/bench_sync.py", "--db", str(COUNTY)]),
    ("six sites syncing at once", ["bench/bench_sync_round.py"]),
    ("frozen bundle: size and start", ["bench/bench_bundle.py", "--build"]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fresh", action="store_true", help="delete and rebuild the benchmark county first")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = ap.parse_args()
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{COUNTY}{suffix}").unlink(missing_ok=True)
    COUNTY.parent.mkdir(parents=True, exist_ok=True)
    rows, failed = [], []
    started = time.perf_counter()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for name, cmd in STEPS:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            out = Path(tmp.name)
        print(f"== {name}: python {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, *cmd, "--json", str(out)], cwd=ROOT, env=env)
        took = time.perf_counter() - t0
        if result.returncode or not out.stat().st_size:
            failed.append(name)
            rows.append({"figure": f"{name}: FAILED (exit {result.returncode})", "value": "—", "target": "—"})
        else:
            rows.extend(json.loads(out.read_text(encoding="utf-8")))
        out.unlink(missing_ok=True)
        print(f"   ({took:.0f} s)", flush=True)
    where = machine()
    minutes = (time.perf_counter() - started) / 60
    table = _table(rows)
    faster = [r["figure"] for r in rows if "FASTER THAN LINEAR" in r["value"]]
    if faster:
        table += "\n\nGrowing faster than the county (per doubling > 2.5): " + "; ".join(faster)
    print(f"\nmachine: {where}\n")
    print(table)
    args.results.write_text(
        f"# Benchmark results\n\n{date.today().isoformat()}, one run of `python bench/run.py"
        f"{' --fresh' if args.fresh else ''}` ({minutes:.0f} minutes).\n\nMachine: {where}.\n\n{table}\n",
        encoding="utf-8")
    print(f"\nwritten to {args.results}")
    return 1 if failed else 0


def _table(rows: list[dict]) -> str:
    lines = ["| figure | value | target |", "|---|---|---|"]
    lines += [f"| {r['figure']} | {r['value']} | {r['target']} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
