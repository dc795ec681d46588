"""Batch settlement throughput on the 湖南 workload (100,000 people, ~550,000 stays), beside the per-visit engine.

Prints stays per CPU second of the batch path (app/policy/batch.py, one process, columns already built), of the
per-visit engine on a sample of the same people (explain=False), how many person-years the batch sent to the
per-visit engine, and checks on the sample that both give the same fen.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain.case import Case, Household  # noqa: E402
from app.policy.batch import YearColumns, settle_columns  # noqa: E402
from app.policy.engine import Engine  # noqa: E402
from app.policy.loader import load_policy  # noqa: E402
from bench.report import emit, machine  # noqa: E402
from bench.synth import BENCH_LOCALS, CATEGORY_POOL, YEAR, _visit  # noqa: E402

POLICY = "hunan-2022"


def hunan_cases(people: int, seed: int = 20261202) -> list[Case]:
    """The harness's shape: each person 1–10 stays in the year (5.5 on average), a third without a category."""
    rng = random.Random(seed)
    pool = CATEGORY_POOL[POLICY]
    start = date(YEAR[POLICY], 1, 1)
    out = []
    for _ in range(people):
        roll = rng.random()
        cats = () if roll < 0.35 else (rng.choice(pool),) if roll < 0.9 else tuple(rng.sample(pool, 2))
        days = sorted(rng.randrange(365) for _ in range(rng.randint(1, 10)))
        visits = tuple(_visit(rng, i + 1, start + timedelta(days=d), POLICY) for i, d in enumerate(days))
        out.append(Case(policy=POLICY, visits=visits, categories=cats, local=BENCH_LOCALS[POLICY],
                        household=Household()))
    return out


def cpu_wall(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    value = fn()
    return value, time.process_time() - c0, time.perf_counter() - w0


def run(people: int, sample: int) -> dict[str, float]:
    engine = Engine(load_policy(POLICY), BENCH_LOCALS[POLICY])
    cases = hunan_cases(people)
    cols, build_cpu, _ = cpu_wall(lambda: YearColumns.from_cases(cases))
    settle_columns(engine, YearColumns.from_cases(cases[:100]))  # warm the imports and caches
    # The median of five runs: one run is half a second, where a timer tick or a page fault moves the figure by %.
    runs = [cpu_wall(lambda: settle_columns(engine, cols)) for _ in range(5)]
    result, cpu, wall = sorted(runs, key=lambda r: r[1])[2]
    some = cases[:sample]
    per_visit, e_cpu, e_wall = cpu_wall(lambda: [engine.settle(c, explain=False) for c in some])
    explained, x_cpu, _ = cpu_wall(lambda: [engine.settle(c, explain=True) for c in some[: sample // 10]])
    i = 0
    for n, r in enumerate(per_visit):
        for vr in r.visits:
            assert int(vr.assistance_paid * 100) == result.assistance_paid[i], (n, vr)
            assert int(vr.serious_illness_paid * 100) == result.serious_illness_paid[i], (n, vr)
            i += 1
    sample_visits = sum(len(c.visits) for c in some)
    return {"stays": cols.visits, "cpu": cpu, "wall": wall, "rate": cols.visits / cpu, "build_cpu": build_cpu,
            "fallback": int(result.per_visit.sum()), "engine_rate": sample_visits / e_cpu, "engine_wall": e_wall,
            "explain_rate": sum(len(c.visits) for c in some[: sample // 10]) / x_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000, help="people settled per visit for comparison")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    r = run(args.people, args.sample)
    print(f"machine: {machine()}; one process")
    emit([(f"batch settlement, 湖南 ({r['stays']:,} stays of {args.people:,} people)",
           f"{r['rate']:,.0f} stays/CPU-s (median of 5 runs: {r['cpu']:.2f} CPU s, {r['wall']:.2f} s wall; "
           f"{r['fallback']} person-years per visit)", "≥ 1,000,000 stays/s per core"),
          (f"per-visit engine, same workload ({args.sample:,} people, explain off)",
           f"{r['engine_rate']:,.0f} stays/CPU-s", "≥ 2× 23,000 (issue 16)"),
          ("per-visit engine with explanations", f"{r['explain_rate']:,.0f} stays/CPU-s", "—"),
          ("columns built from settle-json cases", f"{r['build_cpu']:.2f} CPU s", "—")], args.json)


if __name__ == "__main__":
    main()
