"""What the audit anchors cost: the county's heads compared at each sync, and a backup's head beside it for check.

    python bench/bench_anchor.py [--entries 500000] [--heads 3650]

A site database with ENTRIES audit entries, and a county (PostgreSQL started for the run) that kept HEADS heads of
its chain (ten years of daily syncs by default). Times fetching the heads and comparing them with the local chain
(what each sync and `audit verify --county-url` add), writing a backup's sidecar, and reading the newest backup's
head (what `check` adds).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pgserver  # noqa: E402
import psycopg  # noqa: E402

from app.exchange import county_db  # noqa: E402
from app.exchange.records import site_id  # noqa: E402
from app.store import anchors, backup  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.store import open_store  # noqa: E402


def _digest(seq: int) -> str:
    return hashlib.sha256(str(seq).encode()).hexdigest()


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--heads", type=int, default=3650)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jiuzhu-anchor-"))
    store = open_store(folder / "site.sqlite3", daily_backup=False)
    # Only seq and hash matter to the comparison; the entries' content is not verified here.
    base = anchors.local_head(store.conn).count
    with transaction(store.conn):
        store.conn.executemany(
            "INSERT INTO audit_log (seq, at, username, action, entity, entity_id, prev_hash, hash) "
            "VALUES (?, '2026-01-01T00:00:00+00:00', 'bench', 'bench', 'bench', ?, '', ?)",
            ((i, str(i), _digest(i)) for i in range(base + 1, base + args.entries + 1)))
    me = site_id(store.conn)
    server = pgserver.PgServer()
    try:
        url = server.database("anchor")
        county_db.init_db(url)
        step = args.entries // args.heads
        with psycopg.connect(url, autocommit=True) as pg, \
                pg.cursor().copy("COPY audit_heads (site_id, count, hash, via) FROM STDIN") as copy:
            for k in range(1, args.heads + 1):
                copy.write_row((me, base + k * step, _digest(base + k * step), "sync"))
        with county_db.connect(url) as pg:
            fetch = best(lambda: county_db.seen_heads(pg, me))
            heads = county_db.seen_heads(pg, me)
        compare = best(lambda: anchors.findings(store.conn, heads))
        assert anchors.findings(store.conn, heads) == []
    finally:
        server.close()
    saved = backup.backup(store.conn, store.backups)
    size = saved.stat().st_size >> 20
    sidecar = best(lambda: anchors.write_sidecar(saved, saved.name, datetime.now()))
    whole = best(lambda: backup.backup(store.conn, store.backups, keep=1))
    check = best(lambda: anchors.against_backups(store.conn, store.path))
    print(f"{args.heads} heads of a {args.entries}-entry chain: fetched in {fetch * 1000:.0f} ms, "
          f"compared in {compare * 1000:.0f} ms")
    print(f"backup of {size} MB: {whole * 1000:.0f} ms, of which its sidecar "
          f"{sidecar * 1000:.1f} ms; check against every backup's head: {check * 1000:.2f} ms")
    store.close()
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
