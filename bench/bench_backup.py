"""The daily backup in the background: how long it takes, and how long a caseworker's save takes meanwhile.

Works on a copy of a county (by default the 10% county bench_lists.py and bench_packages.py use, built here if
it is not there yet), so nothing is written beside the real one:
saves (one audited setting each, 20 a second) are timed first alone, then while the day's backup copies the file in
steps on its own connection, as the app does after its window is up (app/gui/daily_backup.py).

    python bench/bench_backup.py [--db bench/out/growth-14800.sqlite3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.session import SYSTEM  # noqa: E402
from app.store import backup, records  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.county import HOUSEHOLDS, ensure_county  # noqa: E402
from bench.report import emit, machine  # noqa: E402

# The 10% county of bench/run.py (a fresh checkout has no other; a 15,000-household one named here before was left
# over from earlier runs, so the benchmark failed on a new machine).
DEFAULT = Path(__file__).resolve().parent / "out" / f"growth-{HOUSEHOLDS // 10}.sqlite3"


def saves(store, stop) -> list[float]:
    """Milliseconds per save, one every 50 ms, until `stop(saves so far)` says so."""
    out: list[float] = []
    while not stop(len(out)):
        t0 = time.perf_counter()
        with transaction(store.conn):
            records.put_setting(store.conn, SYSTEM, "bench.probe", len(out), "测量保存耗时")
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT)
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    if args.db == DEFAULT and not DEFAULT.exists():
        ensure_county(DEFAULT, HOUSEHOLDS // 10).close()
    with tempfile.TemporaryDirectory(prefix="jiuzhu-backup-") as scratch:
        db = Path(scratch) / "county.sqlite3"
        shutil.copyfile(args.db, db)
        store = open_store(db, daily_backup=False)
        alone = saves(store, lambda n: n >= 100)
        finished = threading.Event()
        result = {}

        def copy() -> None:
            t0 = time.perf_counter()
            made = backup.daily_backup(db, lambda done, total: None)
            result.update(seconds=time.perf_counter() - t0, mb=made.stat().st_size / 1e6)
            finished.set()

        worker = threading.Thread(target=copy)
        worker.start()
        during = saves(store, lambda n: finished.is_set())
        worker.join()
        store.close()
    print(f"machine: {machine()}")

    def spread(ms: list[float]) -> str:
        return f"median {statistics.median(ms):.0f} ms, worst {max(ms):.0f} ms ({len(ms)} saves)"

    emit([(f"daily backup in the background ({result['mb']:,.0f} MB)", f"{result['seconds']:.1f} s", "—"),
          ("a save alone / while the daily backup runs", f"{spread(alone)} / {spread(during)}",
           "saves never wait for the backup")], args.json)


if __name__ == "__main__":
    main()
