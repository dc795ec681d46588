"""Settlement throughput: 1,000,000 synthetic visits of 100,000 people across the five policies.

Prints visits per second (engine time only, one core), wall and CPU, and peak memory after a tenth and
after all of the people, to show that memory does not grow with the number of people. Explanations
are built on demand: a sample of cases is settled again with explanations and timed separately.
On a shared machine the CPU figure (time.process_time) is the one to compare between runs.

The per-visit engine is also compared with the one at the start of issue 16's round (commit 7b804da): that tree is
exported with `git archive` and both engines settle the same workload in child processes (bench/settle_child.py),
alternately, engine CPU time only; the inputs' digests must match. Absolute figures drift with the machine's load,
so the ratio is only ever read from runs side by side.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.policy.engine import Engine  # noqa: E402
from app.policy.loader import load_policy  # noqa: E402
from bench.report import emit, machine  # noqa: E402
from bench.synth import BENCH_LOCALS, cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
START_OF_ROUND = "7b804da"  # the last main before issue 16: the engine its "≥ 2× today" is measured against


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(people: int, visits: int) -> dict[str, float]:
    engines = {p: Engine(load_policy(p), BENCH_LOCALS[p]) for p in BENCH_LOCALS}
    engine_seconds = engine_cpu = 0.0
    explain_seconds = explain_cpu = 0.0
    settled = explained = 0
    paid = Decimal(0)
    checkpoint = max(people // 10, 1)
    peak_at_tenth = 0.0
    clock, cpu = time.perf_counter, time.process_time
    for n, case in enumerate(cases(people, visits), start=1):
        engine = engines[case.policy]
        t0, c0 = clock(), cpu()
        result = engine.settle(case, explain=False)
        engine_seconds += clock() - t0
        engine_cpu += cpu() - c0
        settled += len(case.visits)
        paid += result.total_paid
        if n % 100 == 0:  # 1% of cases: the explanation, built on demand
            t0, c0 = clock(), cpu()
            again = engine.settle(case, explain=True)
            explain_seconds += clock() - t0
            explain_cpu += cpu() - c0
            explained += len(case.visits)
            assert again.total_paid == result.total_paid
            assert all(v.steps for v in again.visits)
        if n == checkpoint:
            peak_at_tenth = peak_mb()
    return {
        "visits": settled, "engine_seconds": engine_seconds, "visits_per_second": settled / engine_seconds,
        "engine_cpu": engine_cpu, "visits_per_cpu_second": settled / engine_cpu,
        "explained_visits_per_second": explained / explain_seconds if explain_seconds else 0.0,
        "explained_visits_per_cpu_second": explained / explain_cpu if explain_cpu else 0.0,
        "peak_mb_at_tenth": peak_at_tenth, "peak_mb": peak_mb(), "paid": float(paid),
    }


def _child(root: Path, people: int, visits: int) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "settle_child.py"), str(root), str(people), str(visits)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.splitlines()[-1])
    if not r["engine_file"].startswith(str(root)):
        raise RuntimeError(f"the child imported {r['engine_file']}, not the tree under {root}")
    return r


def compare(people: int, visits: int, rounds: int, commit: str) -> dict:
    """Both engines on the same workload, alternating (old first, then new first), best and median of the pairs."""
    with tempfile.TemporaryDirectory(prefix="jiuzhu-start-of-round-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        old_runs, new_runs = [], []
        for n in range(rounds):
            order = [(Path(tmp), old_runs), (ROOT, new_runs)]
            for root, runs in order if n % 2 == 0 else order[::-1]:
                runs.append(_child(root, people, visits))
    if {r["inputs"] for r in old_runs + new_runs} != {old_runs[0]["inputs"]}:
        raise RuntimeError("the two trees generated different workloads; the comparison would not be fair")
    old_rate = [r["visits"] / r["engine_cpu"] for r in old_runs]
    new_rate = [r["visits"] / r["engine_cpu"] for r in new_runs]
    return {"old_best": max(old_rate), "new_best": max(new_rate),
            "median_ratio": statistics.median(n / o for n, o in zip(new_rate, old_rate)),
            "visits": old_runs[0]["visits"], "same_paid": {r["paid"] for r in old_runs} == {r["paid"] for r in new_runs}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=10, help="visits per person per year")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each engine against the start "
                                                               f"of the round ({START_OF_ROUND}); 0: none")
    parser.add_argument("--against", default=START_OF_ROUND, metavar="COMMIT", help="the older engine's commit")
    args = parser.parse_args()
    r = run(args.people, args.visits)
    print(f"machine: {machine()}; one process")
    rows = [(f"settlement throughput, engine ({r['visits']:,} visits of {args.people:,} people)",
             f"{r['visits_per_second']:,.0f} visits/s ({r['visits_per_cpu_second']:,.0f} per CPU second, "
             f"{r['engine_cpu']:.1f} CPU s)", "≥ 50,000 visits/s"),
            ("settlement with explanations built (1% sample)",
             f"{r['explained_visits_per_second']:,.0f} visits/s ({r['explained_visits_per_cpu_second']:,.0f} per CPU "
             "second)", "—"),
            (f"settlement peak memory after {args.people // 10:,} / {args.people:,} people",
             f"{r['peak_mb_at_tenth']:.0f} MB / {r['peak_mb']:.0f} MB", "flat")]
    found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{args.against}^{{tree}}"], capture_output=True)
    if args.rounds and found.returncode:  # e.g. a shallow clone: say so rather than fail the whole bench/run.py
        rows.append((f"per-visit engine vs start of round ({args.against})", "not measured: the commit is not in "
                     "this checkout (git fetch --unshallow)", "≥ 2×"))
    elif args.rounds:
        c = compare(args.people, args.visits, args.rounds, args.against)
        paid = "" if c["same_paid"] else "; the totals paid differ: the round fixed rules"
        rows.append((f"per-visit engine vs start of round ({args.against}): {c['new_best'] / c['old_best']:.1f}×",
                     f"{c['new_best']:,.0f} vs {c['old_best']:,.0f} visits/CPU-s, best of {args.rounds} alternating "
                     f"runs each ({c['visits']:,} visits, same inputs, explain off; median of pairs "
                     f"{c['median_ratio']:.2f}×{paid})", "≥ 2×"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
