"""Re-settling a county year with the batch path, at growing county sizes: nothing changed, then a local value changed.

For each size a demo county is built once (bench/county.py, kept in bench/out/) and copied, so that the change is made
on the copy. Prints CPU (this process and its worker processes) and wall seconds of `bills.resettle_year` (read,
settle in columns, write only the people that changed, through the audited path and 补付/追回), how it grows with the
visits, and — on the smallest county only — the per-visit path it replaces (every person settled with explanations
and compared), for comparison. With --db, the county there too (the 100% figure), nothing changed, on a read-only
connection: the run cannot change that file.

    python bench/bench_resettle.py --sizes 14800,44400 --db bench/out/county.sqlite3
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import bills, county  # noqa: E402
from app.services.resettle import people_of_year  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.store import open_store  # noqa: E402
from app.services.resettle import changed_people  # noqa: E402
from app.store.errors import StoreError  # noqa: E402
from bench.county import ensure_county, read_only  # noqa: E402
from bench.report import cpu, emit, growth, machine  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def timed(fn):
    c0, w0 = cpu(), time.perf_counter()
    value = fn()
    return value, cpu() - c0, time.perf_counter() - w0


def copy_of(db: Path, into: Path) -> Path:
    target = into / db.name
    src, dst = sqlite3.connect(db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target


def per_visit_path(session: Session, year: int) -> int:
    """The re-settlement this replaces: every person of the year settled per visit and compared (rolled back)."""
    changed = 0

    class Undo(Exception):
        pass

    try:
        with transaction(session.conn):
            for person in people_of_year(session, year):
                changed += bills.store_year(session, person, year).settlements
            raise Undo
    except Undo:
        pass
    return changed


def measure(built: Path, year: int, old_path: bool, change: bool, shared: bool = False) -> tuple[list, int, float]:
    """The rows for one county, its visits and the wall seconds of re-settling it with nothing changed. `shared`: the
    file is read on a read-only connection, not copied."""
    rows = []
    with tempfile.TemporaryDirectory(dir=built.parent) as tmp:
        store = read_only(built) if shared else open_store(copy_of(built, Path(tmp)), daily_backup=False)
        session = Session(store, SYSTEM)
        visits = store.conn.execute("SELECT count(*) FROM visits WHERE discharged_on BETWEEN ? AND ?",
                                    (f"{year}-01-01", f"{year}-12-31")).fetchone()[0]
        try:
            last, cpu_s, wall = timed(lambda: list(bills.resettle_year(session, year))[-1])
            done = f"{last.total:,} people, {last.changed} changed"
        except (StoreError, sqlite3.OperationalError):
            # Something differs and the file may not be written: the reading, settling and comparing is measured.
            differ, cpu_s, wall = timed(lambda: sum(len(d) for _, d in changed_people(session, year)))
            done = f"{differ:,} people differ, not written: the file is read-only here"
        rows.append((f"re-settle a county year, nothing changed ({visits:,} visits; {done})",
                     f"{wall:.1f} s wall, {cpu_s:.1f} CPU s ({visits / cpu_s:,.0f} visits/CPU-s)",
                     "≤ 30 s for 2,000,000 visits"))
        quiet = wall
        if change:
            c = store.setting("county")
            county.configure_county(session, c["code"], c["name"], store.setting("policy_id"),
                                    {**store.setting("local"), "serious_illness_deductible": "12000"})
            session = Session(store, SYSTEM)
            last, cpu_s, wall = timed(lambda: list(bills.resettle_year(session, year))[-1])
            rows.append((f"re-settle after 大病 起付线 15000 → 12000 ({visits:,} visits)",
                         f"{wall:.1f} s wall, {cpu_s:.1f} CPU s ({last.changed:,} settlements changed, "
                         f"{last.adjustments} 补付/追回)", "—"))
        if old_path:
            changed, cpu_s, wall = timed(lambda: per_visit_path(session, year))
            rows.append((f"the per-visit path it replaces, nothing changed ({visits:,} visits)",
                         f"{wall:.1f} s wall, {cpu_s:.1f} CPU s ({visits / cpu_s:,.0f} visits/CPU-s)", "—"))
        store.close()
    return rows, visits, quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="households per county, comma-separated")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--db", type=Path, help="also re-settle this county (nothing changed), read-only: the "
                                                "benchmark county's 100%% figure")
    parser.add_argument("--no-change", action="store_true", help="only the re-settlement that changes nothing")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    rows, visits, walls = [], [], []
    for i, size in enumerate([int(s) for s in args.sizes.split(",") if s]):
        built = OUT / f"growth-{size}.sqlite3"   # the same counties bench_simulate.py and bench_lists.py use
        ensure_county(built, size, 4.0).close()
        found, n, wall = measure(built, args.year, old_path=i == 0, change=not args.no_change)
        rows, visits, walls = rows + found, visits + [n], walls + [wall]
    if args.db:
        found, n, wall = measure(args.db, args.year, old_path=False, change=False, shared=True)
        rows, visits, walls = rows + found, visits + [n], walls + [wall]
    if len(visits) > 1:
        rows.append(("re-settlement (nothing changed), wall time's growth with the visits", growth(visits, walls),
                     "linear"))
    print(f"machine: {machine()}")
    emit(rows, args.json)


if __name__ == "__main__":
    main()
