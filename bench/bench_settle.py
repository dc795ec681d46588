"""Settlement throughput: 1,000,000 synthetic visits of 100,000 people across the five policies.

Prints visits per second (engine time only, one core), wall and CPU, and peak memory after a tenth and
after all of the people, to show that memory does not grow with the number of people. Explanations
are built on demand: a sample of cases is settled again with explanations and timed separately.
On a shared machine the CPU figure (time.process_time) is the one to compare between runs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.policy.engine import Engine  # noqa: E402
from app.policy.loader import load_policy  # noqa: E402
from bench.report import emit, machine  # noqa: E402
from bench.synth import BENCH_LOCALS, cases  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=10, help="visits per person per year")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    r = run(args.people, args.visits)
    print(f"machine: {machine()}; one process")
    emit([(f"settlement throughput, engine ({r['visits']:,} visits of {args.people:,} people)",
           f"{r['visits_per_second']:,.0f} visits/s ({r['visits_per_cpu_second']:,.0f} per CPU second, "
           f"{r['engine_cpu']:.1f} CPU s)", "≥ 50,000 visits/s"),
          ("settlement with explanations built (1% sample)",
           f"{r['explained_visits_per_second']:,.0f} visits/s ({r['explained_visits_per_cpu_second']:,.0f} per CPU "
           "second)", "—"),
          (f"settlement peak memory after {args.people // 10:,} / {args.people:,} people",
           f"{r['peak_mb_at_tenth']:.0f} MB / {r['peak_mb']:.0f} MB", "flat")], args.json)


if __name__ == "__main__":
    main()
