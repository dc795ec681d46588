"""政策测算 (fund simulation) on demo counties of 10%, 30% and 100% of a size: 现行 and one proposal, as the page runs it.

Each county is a demo county (bench/county.py) of that many households, built once under bench/out/ and reused (the
same files bench_lists.py uses). For each: reading the year into columns, settling it once per column (through
app/services/simulation_settle.settle_part, the seam), and the whole simulation with its tables, in wall and CPU
seconds (CPU: this process and its worker processes); the visits settled per CPU-second; and the whole
simulation's CPU time scaled to a 2,000,000-visit year. The whole simulation is the median of --runs runs (3), each
in a fresh session, the first shown beside it. With --db, that county (read-only: the run cannot change it)
stands for the 100% one: the benchmark county.

    python bench/bench_simulate.py [--households 15000] [--proposals 1] [--db bench/out/county.sqlite3 [--db-only]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import simulation  # noqa: E402
from app.services.county import engine  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.services.simulation_settle import settle_part  # noqa: E402
from app.services.year_columns import read_year  # noqa: E402
from bench.county import ensure_county, read_only  # noqa: E402
from bench.report import cpu, emit, growth, machine  # noqa: E402

SHARES = (0.1, 0.3, 1.0)
YEAR = 2025
TARGET_VISITS = 2_000_000
# A change every demo county's policy (芜湖) leaves to the county and that moves 医疗救助: the 大病保险 rate.
CHANGE = "serious_illness_rate"
VALUES = ("50%", "55%", "65%", "70%", "75%", "80%", "85%")


def timed(fn) -> tuple[float, float, object]:
    t0, c0 = time.perf_counter(), cpu()
    out = fn()
    return time.perf_counter() - t0, cpu() - c0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=15_000, help="the 100% county")
    parser.add_argument("--proposals", type=int, default=1, help="proposed columns beside 现行 (1-7)")
    parser.add_argument("--db", type=Path, help="this county (read-only) as the 100%% one, e.g. the benchmark county")
    parser.add_argument("--db-only", action="store_true", help="only the --db county (no demo counties built)")
    parser.add_argument("--runs", type=int, default=3, help="whole simulations per county (the median is shown)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    rows, visits, walls = [], [], []
    local = [f"{CHANGE}={'/'.join(VALUES[:args.proposals])}"]
    counties = [(out / f"growth-{int(args.households * s)}.sqlite3", int(args.households * s)) for s in SHARES]
    if args.db:
        counties = [(args.db, 0)] if args.db_only else [*counties[:-1], (args.db, 0)]
    for path, households in counties:
        session = Session(ensure_county(path, households) if households else read_only(path), SYSTEM)
        households = session.conn.execute("SELECT count(*) FROM households").fetchone()[0]
        # The whole simulation RUNS times, each in a fresh session (nothing kept from the run before), as an officer
        # opening the page meets it; the median is the figure. The first is shown apart: it may meet a file the
        # benchmarks before pushed out of the system's cache, and then waits on the disk. Then its parts measured
        # apart, in this process: reading the year, and settling it under one column.
        proposals = simulation.proposals_from(local, None)
        runs = [timed(lambda: simulation.run(Session(session.store, SYSTEM), YEAR, proposals))
                for _ in range(args.runs)]
        wall, cpu_s = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        sim = runs[0][2]
        read_wall, read_cpu, data = timed(lambda: read_year(session.conn, "", YEAR))
        eng = engine(session)
        settle_wall, settle_cpu, _ = timed(lambda: settle_part(eng, data))
        columns = len(sim.scenarios)
        scaled = cpu_s * TARGET_VISITS / max(data.visits, 1)
        visits.append(data.visits)
        walls.append(wall)
        rows.append((
            f"simulation, {households:,} households / {data.visits:,} visits, {columns} columns",
            f"{wall:.2f} s wall (CPU {cpu_s:.2f} s, worker processes for a file over 256 MB; median of {len(runs)} runs "
            f"of {' / '.join(f'{w:.2f}' for w, _, _ in runs)} s); apart, in one process: "
            f"read {read_wall:.2f} s (CPU {read_cpu:.2f}), one column settled {settle_wall:.2f} s (CPU "
            f"{settle_cpu:.2f}, {data.visits / max(settle_cpu, 1e-9):,.0f} visits/CPU-s); ×"
            f"{TARGET_VISITS / max(data.visits, 1):.1f} to 2,000,000 visits ≈ {scaled:,.0f} CPU-s",
            "≤ 10 s for a 2,000,000-visit county year"))
        session.store.close()
    rows.append(("simulation, wall time's growth with the visits", growth(visits, walls), "linear"))
    print(f"machine: {machine()}")
    emit(rows, args.json)


if __name__ == "__main__":
    main()
