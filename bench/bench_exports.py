"""Every Excel export at 10%, 30% and 100% of a size: rows per second and peak memory, so growth shows.

The rows are real ones from a small demo county (a monitoring list, a subsidy roster, the statistics, rejected
rows of an import, visits for a package's 记录一览), repeated up to the size: what is timed is the writer
(app/documents/xlsx.py), not the queries (bench_lists.py times those). A linear export keeps its rows/s from
10% to 100%; a quadratic one (as openpyxl's ws.max_column per row made them) loses ten times. Peak memory is the
process's after each size: a flat figure means the rows are not held.

    python bench/bench_exports.py [--rows 100000] [--db bench/out/exports.sqlite3]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.documents import xlsx  # noqa: E402
from app.exchange import package  # noqa: E402
from app.exchange.identity_lists import ParsedList, Rejected  # noqa: E402
from app.services import (  # noqa: E402
    identity_import,
    monitoring,
    monitoring_xlsx,
    statistics,
    statistics_xlsx,
    subsidy_roster,
    subsidy_roster_xlsx,
)
from app.services.session import SYSTEM, Session  # noqa: E402
from bench.county import ensure_county  # noqa: E402
from bench.report import emit, growth, machine  # noqa: E402

SHARES = (0.1, 0.3, 1.0)
YEAR = 2025


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cycle(items, n: int) -> tuple:
    return tuple(itertools.islice(itertools.cycle(items), n))


def exports(session: Session):
    """(name, columns, write(n, path)) for each export, each writing n data rows."""
    risk = monitoring.risk_list(session, YEAR, 12)
    roster = subsidy_roster.subsidy_roster(session, YEAR, "380")
    stats = statistics.year_statistics(session, YEAR)
    township = stats.by_township
    rejected = [Rejected(line=n, values=["张三", "34022319800101001X", "低保", "2025-13"],
                         reason="起始保障年月：“2025-13”不是有效日期") for n in range(3)]
    visits = session.conn.execute("SELECT * FROM visits LIMIT 2000").fetchall()
    head = [d[0] for d in session.conn.execute("SELECT * FROM visits LIMIT 0").description]
    header = {"site_name": "籍山镇", "site_id": "x", "created_at": "2025-12-31T00:00:00+08:00", "created_by": "测试",
              "package_id": "p", "range": {"changes": [1, 1], "audit": [1, 1]}}
    risk_columns = len(monitoring_xlsx._FIXED) + len(monitoring_xlsx._CHECK)

    def stats_of(n: int):  # the township sheet carries the rows; the other two stay as small as they are
        rows = _cycle(township.rows, n)
        return dataclasses.replace(stats, by_township=dataclasses.replace(township, rows=rows))

    return [
        ("monitoring list (监测预警名单)", risk_columns,
         lambda n, out: monitoring_xlsx.export_risk_list(dataclasses.replace(risk, entries=_cycle(risk.entries, n)),
                                                         out)),
        ("subsidy roster (资助参保名单)", len(subsidy_roster_xlsx._ROSTER),
         lambda n, out: subsidy_roster_xlsx.export_subsidy_roster(
             dataclasses.replace(roster, entries=_cycle(roster.entries, n), unlisted=()), out)),
        ("statistics (统计)", len(statistics.COLUMNS) + 2,
         lambda n, out: statistics_xlsx.export_statistics(stats_of(n), out)),
        ("rejected rows of an import (未导入的行)", 3,
         lambda n, out: identity_import.rejected_report(ParsedList(Path("民政.xlsx"), "民政",
                                                                   rejected=list(_cycle(rejected, n))), out)),
        ("package 记录一览 (visits)", len(head),
         lambda n, out: package.workbook(header, [("就诊记录", head, _cycle(visits, n))], out, limit=n)),
    ], (risk, roster, stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/out/exports.sqlite3", help="a small demo county (built if missing)")
    parser.add_argument("--households", type=int, default=400)
    parser.add_argument("--rows", type=int, default=100_000, help="the 100% size")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    session = Session(ensure_county(Path(args.db), args.households), SYSTEM)
    todo, _ = exports(session)
    out_dir = Path(tempfile.mkdtemp(prefix="jiuzhu-exports-"))
    rows = []
    print(f"machine: {machine()}; one process")
    for name, columns, write in todo:
        rates, cpu, peaks = [], [], []
        for share in SHARES:
            n = int(args.rows * share)
            out = out_dir / "export.xlsx"
            t0, c0 = time.perf_counter(), time.process_time()
            write(n, out)
            rates.append(n / (time.perf_counter() - t0))
            cpu.append(n / (time.process_time() - c0))
            peaks.append(peak_mb())
            out.unlink()
        sizes = [args.rows * s for s in SHARES]
        grows = growth(sizes, [n / r for n, r in zip(sizes, cpu)])  # CPU seconds: the load moves wall time
        rows.append((f"Excel {name}, {columns} columns: rows/s at {' / '.join(f'{int(args.rows * s):,}' for s in SHARES)}"
                     f" rows", " / ".join(f"{r:,.0f}" for r in rates) + f" (per CPU second "
                     f"{' / '.join(f'{r:,.0f}' for r in cpu)}; CPU time {grows})", "≥ 20,000 rows/s, linear"))
        rows.append((f"Excel {name}: peak memory after each size", " / ".join(f"{p:.0f}" for p in peaks) + " MB",
                     "flat"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
