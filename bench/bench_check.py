"""`check` on the benchmark county, and how its time grows with the county's size.

Times each part of `jiuzhu check` (SQLite's quick_check, the audit chain by its sealed blocks, the seals of every
record), each alone, then the whole check as it runs (the records' seals beside the chain, on a second connection), on demo counties of
growing size and on the full benchmark county, and prints the time per record at each size, so that a part that
grows faster than the county shows. `check --full` (integrity_check, every entry's own digest, every reference) is
timed on the smaller counties only: it is the slow audit, minutes at county size. A large file is checked by worker
processes side by side (app/store/check_parts.py): the whole check's wall time and its CPU time (the workers' too)
are both printed, so a machine with fewer cores shows what it would take. The whole check on the full county is the
median of --runs runs (3 by default; the first reads a file the parts alone have just read, as a second check of the
day would): one run moved by a third from one hour to the next on this machine (bench/README, stop 30).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.store import audit  # noqa: E402
from app.store.check import check_database  # noqa: E402
from app.store import check_parts  # noqa: E402
from app.store.check_parts import workers_for  # noqa: E402
from app.store.seal import SEALED  # noqa: E402
from app.store.seal_check import broken_seals  # noqa: E402
from bench.county import HOUSEHOLDS, ensure_county  # noqa: E402
from bench.report import emit  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def parts(db: Path, full: bool, runs: int = 1) -> dict[str, float]:
    """Seconds for each part of check, and for the whole, on one database (read-only, as check opens it)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    out = {}
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    # The page check as check runs it: quick_check table by table, the log's own pages left to the blocks.
    pages = lambda: [check_parts.run(db, piece) for piece in check_parts.page_pieces(tables, False)]  # noqa: E731
    for name, fn in (("quick_check", pages),
                     ("audit chain", lambda: audit.verify(conn)), ("seals", lambda: broken_seals(conn))):
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    out["records"] = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SEALED)
    out["entries"] = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    out["page"] = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    timings = []
    for _ in range(runs):
        t0, cpu0 = time.perf_counter(), _cpu()
        problems = check_database(db)
        timings.append((time.perf_counter() - t0, _cpu() - cpu0))
        assert problems == [], problems
    out["check"], out["check cpu"] = statistics.median(w for w, _ in timings), statistics.median(c for _, c in timings)
    out["runs"] = " / ".join(f"{w:.1f}" for w, _ in timings)
    out["workers"] = workers_for(db)
    if full:
        t0 = time.perf_counter()
        assert check_database(db, full=True) == []
        out["full"] = time.perf_counter() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/out/county.sqlite3")
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--sizes", default="2000,10000", help="smaller counties (households) to show the growth: "
                        "bench/out/growth-N.sqlite3, the ones bench_resettle.py builds, built here if missing")
    parser.add_argument("--runs", type=int, default=3, help="runs of the whole check on the full county (median kept)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    rows = []
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    sizes = [(int(n), out / f"growth-{int(n)}.sqlite3") for n in args.sizes.split(",") if n]
    for n, db in sizes:
        ensure_county(db, n).close()
    sizes.append((args.households, Path(args.db)))
    ensure_county(Path(args.db), args.households).close()
    for n, db in sizes:
        p = parts(db, full=n < args.households, runs=args.runs if n == args.households else 1)
        per = p["check"] / (p["records"] + p["entries"]) * 1e6
        runs = f" (median of {p['runs']} s)" if " / " in p["runs"] else ""
        rows.append((f"check: {n:,} households ({p['records']:,} records, {p['entries']:,} audit entries, "
                     f"pages of {p['page'] // 1024} KiB)",
                     f"{p['check']:.1f} s{runs} on {p['workers']} process(es), {p['check cpu']:.1f} s of CPU in all "
                     f"(each part alone, one process: quick_check {p['quick_check']:.1f} s, chain "
                     f"{p['audit chain']:.1f} s, seals {p['seals']:.1f} s; {per:.2f} µs per record or entry)"
                     + (f"; check --full {p['full']:.1f} s" if "full" in p else ""),
                     "≤ 15 s at full size"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
