"""Store benchmarks on a demo county (default: ~500,000 people and ~2,000,000 visits).

Prints search latency p50/p95 by ID number prefix, name prefix and pinyin initials; record-a-bill
latency with settlement; the throughput of re-settling the county's year; and database size per
million visits. The county is built once with the demo generator and reused if --db already holds it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import bills, search  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from bench.county import HOUSEHOLDS, MEAN_VISITS, ensure_county  # noqa: E402
from bench.report import emit, machine  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/out/county.sqlite3")
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--visits", type=float, default=MEAN_VISITS, help="mean visits per person per year")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    db = Path(args.db)
    store = ensure_county(db, args.households, args.visits)
    session = Session(store, SYSTEM)
    conn = store.conn
    people = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    year = int(conn.execute("SELECT max(discharged_on) FROM visits").fetchone()[0][:4])
    rng = random.Random(7)
    sample = conn.execute("SELECT id, name, id_number, name_initials FROM persons ORDER BY random() LIMIT ?",
                          (args.queries,)).fetchall()
    rows = []
    for label, make in (("ID number, first 10 digits", lambda r: r["id_number"][:10]),
                        ("name prefix (surname + 1)", lambda r: r["name"][:2]),
                        ("pinyin initials (2 letters)", lambda r: r["name_initials"][:2])):
        queries = [make(r) for r in sample]
        it = iter(queries)
        times = timed(lambda: search.search_people(session, next(it), limit=50), len(queries))
        rows.append((f"search: {label}", f"p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms", "p95 ≤ 20 ms"))
    persons = [r["id"] for r in sample]
    counter = iter(range(10**9))

    def record() -> None:
        i = next(counter)
        day = date(year, 12, 31)
        bills.record_bill(session, rng.choice(persons), bills.BillInput(
            "南陵县医院", day.isoformat(), day.isoformat(), "住院", "8000.00", "7000.00", f"BENCH-{os.getpid()}-{i}",
            "县级", "4500.00", "0.00"), today=date(year + 1, 1, 1))

    times = timed(record, 200)
    rows.append(("record a bill (settled, audited, durable)", f"p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms",
                 "≤ 20 ms"))
    t0 = time.perf_counter()
    total_people = 0
    for done, total, changed, *_ in bills.resettle_year(session, year):
        total_people = total
    seconds = time.perf_counter() - t0
    year_visits = conn.execute("SELECT count(*) FROM visits WHERE discharged_on LIKE ?", (f"{year}-%",)).fetchone()[0]
    rows.append((f"re-settle the county's {year} ({total_people:,} people)",
                 f"{year_visits / seconds:,.0f} visits/s ({seconds:.0f} s, {changed} changed)", "—"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    rows.append(("database size", f"{size / 1e9:.2f} GB, {size / visits * 1e6 / 1e9:.2f} GB per million visits", "—"))
    print(f"machine: {machine()}; county: {people:,} people, {visits:,} visits")
    rows.insert(0, ("benchmark county (demo generator)", f"{people:,} people, {visits:,} visits", "—"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
