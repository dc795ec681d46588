"""Statistics for a county year, the monitoring list for a county month and the database's size, on counties of 10%,
30% and 100% of a size.

Each county is a demo county (bench/county.py) of that many households, built once under bench/out/ and reused;
with --db the 100% county is that file (the benchmark county of bench/run.py, opened as it is) and 10%/30% are
built beside it. The figures are medians of a few runs (statistics) or one run (the monitoring list), wall and CPU
seconds, and how the CPU time grows per doubling of the settled visits (2 is linear, 4 quadratic). The size is the
database file's (with its WAL) per million settled visits.

    python bench/bench_lists.py [--households 15000] [--runs 5]
    python bench/bench_lists.py --households 148000 --db bench/out/county.sqlite3   # 10/30/100% of the county
    python bench/bench_lists.py --households 148000 --db bench/out/county.sqlite3 --read-only --runs 1
"""

from __future__ import annotations

import argparse
import resource
import statistics as stats_
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import monitoring, statistics  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from bench.county import ensure_county, read_only  # noqa: E402
from bench.report import emit, growth, machine  # noqa: E402

SHARES = (0.1, 0.3, 1.0)
YEAR = 2025


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes (the monitoring list uses a second one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - t0, _cpu() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=15_000, help="the 100% county")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-monitoring", action="store_true", help="the monitoring list takes minutes")
    parser.add_argument("--db", type=Path, help="the 100%% county, used as it is (10%% and 30%% are built)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    parser.add_argument("--read-only", action="store_true",
                        help="open every county read-only (all built already: the shared ones while others use them)")
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    sizes, stat_rows, risk_rows, gb_per_million, visit_counts = [], [], [], [], []
    for share in SHARES:
        households = int(args.households * share)
        db = args.db if args.db and share == 1.0 else (args.db.parent if args.db else out) / f"growth-{households}.sqlite3"
        session = Session(read_only(db) if args.read_only else ensure_county(db, households), SYSTEM)
        visits = session.conn.execute("SELECT count(*) FROM settlements").fetchone()[0]
        visit_counts.append(visits)
        size = sum(Path(f"{db}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{db}{suffix}").exists())
        gb_per_million.append(size / 1e9 / (visits / 1e6))
        sizes.append(f"{households:,} households / {visits:,} visits")
        runs = [timed(lambda: statistics.year_statistics(session, YEAR)) for _ in range(args.runs)]
        stat_rows.append((stats_.median(w for w, _ in runs), stats_.median(c for _, c in runs)))
        if not args.skip_monitoring:
            risk_rows.append(timed(lambda: monitoring.risk_list(session, YEAR, 12, today=date(YEAR + 1, 1, 1))))
        session.store.close()
    print(f"machine: {machine()}; one process; counties: {'; '.join(sizes)}")

    def row(figure: str, measured: list[tuple[float, float]], target: str) -> tuple[str, str, str]:
        walls = " / ".join(f"{w:.2f}" for w, _ in measured)
        cpus = " / ".join(f"{c:.2f}" for _, c in measured)
        return (f"{figure} at {' / '.join(f'{int(s * 100)}%' for s in SHARES)} of {args.households:,} households",
                f"{walls} s (CPU {cpus} s; CPU time {growth(visit_counts, [c for _, c in measured])})", target)

    rows = [row("statistics for a county year", stat_rows, "≤ 1 s on the benchmark county; ×10 or less")]
    if risk_rows:
        rows.append(row("monitoring list for a county month", risk_rows, "≤ 5 s on the benchmark county"))
    rows.append((f"database size at {' / '.join(f'{int(s * 100)}%' for s in SHARES)} of {args.households:,} households",
                 " / ".join(f"{g:.2f}" for g in gb_per_million) + " GB per million visits", "≤ 1.0 GB per million visits"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
