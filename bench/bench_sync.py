"""Pushing records to the county's PostgreSQL, side by side with a raw COPY of the same rows.

Takes 1,000,000 records (by default) from the benchmark county, in the proportions the county holds them
(households, people, categories, bills, settlements …), and times:
  raw COPY — the rows already in memory, COPY'd straight into empty county tables (the floor of any loader);
  push     — the real sync push of the same records: reading them from the site database, COPY into a staging
             table, merging by UUID with the owner's rule, and noting each delivered batch at the site.
Each runs into its own fresh county database on a PostgreSQL server started for the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pgserver  # noqa: E402
import psycopg  # noqa: E402

from app.exchange import county_db, county_keys  # noqa: E402
from app.exchange.records import changed, entities, site_id  # noqa: E402
from app.services import site_keys, sync  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store import records  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.report import emit, machine  # noqa: E402


def plan_for(session: Session, records: int) -> tuple[dict, dict[str, int]]:
    """A push plan covering `records` of the site's records, each kind in its share of the whole."""
    conn = session.conn
    counts = dict(conn.execute("SELECT entity, count(*) FROM changes GROUP BY entity").fetchall())
    total = sum(counts.values())
    upto = conn.execute("SELECT max(seq) FROM changes").fetchone()[0]
    done, quota = {}, {}
    for table, n in counts.items():
        quota[table] = min(n, round(records * n / total))
        row = conn.execute("SELECT seq FROM changes WHERE entity = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                           (table, quota[table])).fetchone()
        done[table] = row[0] if row else 0
    return {"upto": upto, "audit_upto": 0, "done": done}, quota


def raw_copy(session: Session, url: str, plan: dict) -> tuple[int, float, float]:
    """Rows read first (timed apart), then COPY'd into the county tables; returns (rows, read s, copy s)."""
    me = site_id(session.conn)
    t0 = time.perf_counter()
    loaded = []
    for e in entities(session.conn):
        rows = [r for _, batch in changed(session.conn, e, plan["done"].get(e.table, 0), plan["upto"], me)
                for r in batch]
        loaded.append((e, rows))
    read = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as pg:
        t0 = time.perf_counter()
        for e, rows in loaded:
            with pg.transaction(), pg.cursor().copy(f"COPY {e.table} ({', '.join(e.wire)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        copied = time.perf_counter() - t0
    return sum(len(r) for _, r in loaded), read, copied


def push(session: Session, url: str, plan: dict) -> tuple[int, float]:
    """The real push of the plan's records; returns (records, seconds)."""
    saved = session.store.setting(sync.KEY)
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, sync.KEY, {"push": json.loads(json.dumps(plan))}, "基准测试")
    report = sync.SyncReport()
    try:
        with county_db.connect(url) as pg:
            t0 = time.perf_counter()
            sync.push(session, pg, report, None, lambda: False, batch=20000)
            seconds = time.perf_counter() - t0
    finally:
        with transaction(session.conn):  # the benchmark county is left as it was found
            if saved is None:
                records.delete(session.conn, session.user, "settings", sync.KEY, "基准测试后还原同步位置")
            else:
                records.put_setting(session.conn, session.user, sync.KEY, saved, "基准测试后还原同步位置")
    return sum(m.received for m in report.pushed.values()), seconds


def run(db: Path, records: int = 1_000_000) -> dict:
    session = Session(open_store(db, daily_backup=False), SYSTEM)
    server = pgserver.PgServer()
    try:
        plan, quota = plan_for(session, records)
        raw_url, push_url = server.database("raw_copy"), server.database("push")
        county_db.init_db(raw_url)
        county_db.init_db(push_url)
        with psycopg.connect(push_url, autocommit=True) as pg:  # the county registered this site's key card first
            # for the whole county, as `jiuzhu county register-site --jurisdiction` does for a county-wide site
            county_keys.register(pg, site_keys.card(session), "基准测试", session.store.setting("county")["code"])
        n_raw, read_s, copy_s = raw_copy(session, raw_url, plan)
        n_push, push_s = push(session, push_url, plan)
        with psycopg.connect(push_url) as pg:
            held = sum(county_db.counts(pg, quota).values())
    finally:
        server.close()
        session.store.close()
    return {"records": n_push, "raw_records": n_raw, "held": held, "quota": quota,
            "raw_read_s": read_s, "raw_copy_s": copy_s, "raw_copy_per_s": n_raw / copy_s,
            "push_s": push_s, "push_per_s": n_push / push_s, "ratio": (n_push / push_s) / (n_raw / copy_s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "county.sqlite3",
                    help="benchmark county (python bench/bench_store.py builds it)")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = ap.parse_args()
    r = run(args.db, args.records)
    print(f"machine: {machine()}")
    print(f"records pushed: {r['records']:,} ({', '.join(f'{t} {n:,}' for t, n in r['quota'].items())}); "
          f"the county holds {r['held']:,}")
    emit([(f"PostgreSQL: raw COPY of {r['raw_records']:,} records", f"{r['raw_copy_per_s']:,.0f} records/s "
           f"({r['raw_copy_s']:.1f} s)", "—"),
          (f"PostgreSQL: sync push of the same {r['records']:,} records", f"{r['push_per_s']:,.0f} records/s "
           f"({r['push_s']:.1f} s, reading the site database included)", "—"),
          ("PostgreSQL: push as a share of raw COPY", f"{r['ratio']:.0%}", "≥ 50%")], args.json)


if __name__ == "__main__":
    main()
