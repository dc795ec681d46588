"""The benchmark county: built once with the demo generator (through the audited write path) and reused."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from app.services import demo
from app.services.session import SYSTEM, Session
from app.store import seal
from app.store.store import Store, open_store

HOUSEHOLDS = 148_000
MEAN_VISITS = 4.0


def ensure_county(db: Path, households: int = HOUSEHOLDS, mean_visits: float = MEAN_VISITS) -> Store:
    """The store at `db`, built first if it holds no households (~10 minutes at full size on a 2-core machine)."""
    store = open_store(db, daily_backup=False)
    if store.conn.execute("SELECT count(*) FROM households").fetchone()[0] == 0:
        # The ids are random, so every index insert lands on a random page: with SQLite's default 2 MB page cache a
        # county-sized build reads its own indexes back from the OS over and over.
        store.conn.execute("PRAGMA cache_size = -1000000")
        session = Session(store, SYSTEM)
        t0 = time.perf_counter()
        demo.start_demo(session)
        for done, total in demo.build_demo(session, households, 2025, mean_visits=mean_visits, chunk=2000):
            sys.stderr.write(f"\rbuilding demo county: {done}/{total} households")
        sys.stderr.write(f"\nbuilt in {time.perf_counter() - t0:.0f} s\n")
    return store


def read_only(db: Path) -> Store:
    """The county at `db` on a read-only connection (for the shared benchmark county, which a run must not change):
    anything that tries to write fails instead. Worker processes read the file beside it."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    seal.register(conn)
    return Store(conn, db)
