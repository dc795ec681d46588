"""SIGKILL `sync` at 20 seeded points (a seeded delay after one of its progress lines): the site stays whole, the county holds only whole records and no doubles,
and syncing again ends with the county holding exactly what an uninterrupted sync gives."""

from __future__ import annotations

import json
import random
import re
import uuid

import psycopg
import pytest

from app.exchange import county_db
from app.services import demo, site_keys
from app.services.county import configure_county
from app.services.session import SYSTEM, Session
from app.store.store import open_store

from .killing import AS_ADMIN, CAN_KILL, app, cli, kill_after_line, run_to_end
from .state import consistency, known_ids, snapshot
from .test_kills import KILLS, MIN_IN_THE_WORK, copy_db, place

pytestmark = [pytest.mark.faults, pytest.mark.skipif(not CAN_KILL, reason="SIGKILL is POSIX")]
PROGRESS = re.compile(r"^(送出|收到)\S+ \d+(/\d+)?$")  # after each batch the county (or the site) committed
STAMP = {"application_steps": "at"}  # appended once, never changed: its time is its version
TABLES = ("households", "persons", "category_periods", "enrollments", "visits", "settlements", "annual_settlements",
          "applications", "application_steps")


def county_office(folder):
    """The county office's installation (its own database and keys), as one county has one."""
    office = Session(open_store(folder / "county-office.sqlite3", daily_backup=False), SYSTEM)
    try:
        configure_county(office, demo.COUNTY_CODE, "南陵县", demo.DEMO_POLICY, demo.DEMO_LOCAL)
    finally:
        office.store.close()
    return folder / "county-office.sqlite3"


def introduced(db, office_db):
    """The site's public keys, after the site took in the county's key card (both written, with their audit
    entries, before anything is measured; the key file beside the database goes with every copy of the folder)."""
    site, office = (Session(open_store(p, daily_backup=False), SYSTEM) for p in (db, office_db))
    try:
        site_keys.trust_county(site, site_keys.card(office))
        return site_keys.card(site)
    finally:
        site.store.close()
        office.store.close()


def county(pg, name: str, office_db, card) -> str:
    """A fresh county database the county office claimed, with the site's public keys registered, as a county
    admin does before a township's first sync."""
    url = pg.database(f"{name}_{uuid.uuid4().hex[:8]}")
    county_db.init_db(url)
    office = Session(open_store(office_db, daily_backup=False), SYSTEM)
    try:
        site_keys.claim_county(office, url, replace=True)
        site_keys.register_site(office, url, card, "340223")  # the demo's households lie all over the county
    finally:
        office.store.close()
    return url


def held(url: str) -> dict[str, list[tuple]]:
    """The county's copy: every record's id and last change, per kind; audit entries by number and hash."""
    with psycopg.connect(url) as conn:
        out = {t: conn.execute(f"SELECT id, {STAMP.get(t, 'updated_at')} FROM {t} ORDER BY id").fetchall() for t in TABLES}
        out["audit_log"] = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq").fetchall()
        for t in TABLES:
            dup = conn.execute(f"SELECT count(*) - count(DISTINCT id) FROM {t}").fetchone()[0]
            assert dup == 0, f"{t}: {dup} records twice at the county"
    return out


def site_records(db) -> dict[str, set[tuple]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        out = {t: set(conn.execute(f"SELECT id, {STAMP.get(t, 'updated_at')} FROM {t}").fetchall()) for t in TABLES}
        out["audit_log"] = set(conn.execute("SELECT seq, hash FROM audit_log").fetchall())
        return out
    finally:
        conn.close()


def sync_state(db) -> dict:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'sync'").fetchone()
        return json.loads(row[0]) if row else {}
    finally:
        conn.close()


def test_sigkill_during_a_sync_loses_and_doubles_nothing(pg, demo_county, tmp_path):
    base = copy_db(demo_county, tmp_path / "base")
    office = county_office(tmp_path)
    card = introduced(base, office)
    known = known_ids(base)
    before = snapshot(base, known)
    reference = copy_db(base, tmp_path / "reference")
    ref_url = county(pg, "reference", office, card)
    ref = run_to_end(app("sync", *AS_ADMIN, "--county-url", ref_url, "--db", str(reference)), tmp_path / "reference.log",
                     PROGRESS)
    assert len(ref.marks) > 2, f"sync printed too few progress lines to place kills between:\n{ref.output}"
    expected = held(ref_url)
    assert sum(len(v) for v in expected.values()) > 1000
    rng = random.Random("sync-kills")
    landed = halfway = 0
    for k in range(KILLS):
        db = copy_db(base, tmp_path / f"kill-{k:02d}")
        url = county(pg, f"kill{k:02d}", office, card)
        line, delay = place(rng, ref)
        kill = kill_after_line(app("sync", *AS_ADMIN, "--county-url", url, "--db", str(db)), PROGRESS, line, delay,
                               tmp_path / f"kill-{k:02d}.log")
        where = f"kill {k} {delay:.3f}s after progress line {line} of {len(ref.marks) - 1}"
        assert consistency(db) == [], where
        # The site's own records are untouched by a push; only its note of what was delivered moves.
        assert snapshot(db, known).without("settings") == before.without("settings"), where
        there, mine = held(url), site_records(db)
        for kind, rows in there.items():
            assert set(rows) <= mine[kind], f"{where}: the county holds {kind} the site does not have as such"
        # In the work: the push had begun (its plan noted, or records at the county) and the sync had not ended.
        begun = any(there.values()) or bool(sync_state(db).get("push"))
        landed += (not kill.finished) and begun
        halfway += 0 < sum(len(v) for v in there.values()) < sum(len(v) for v in expected.values())
        code, out, err = cli("sync", *AS_ADMIN, "--county-url", url, "--db", str(db))
        assert code == 0, f"{where}: syncing again failed: {err}"
        got = held(url)
        records = lambda copy: {k: v for k, v in copy.items() if k != "audit_log"}  # noqa: E731
        assert records(got) == records(expected), f"{where}: syncing again did not end as an uninterrupted sync"
        # Each run signs in (an audit entry of its own, which a resumed push may leave for the next sync), so the
        # county holds the site's log as the site has it: every entry once, in order, up to where the push reached.
        mine = sorted(site_records(db)["audit_log"])
        assert got["audit_log"] == mine[:len(got["audit_log"])], f"{where}: the county's audit log is not the site's"
        assert len(got["audit_log"]) >= len(expected["audit_log"]), where
        assert sync_state(db).get("push") is None
    assert landed >= MIN_IN_THE_WORK, f"only {landed} of {KILLS} kills landed while sync was writing"
    assert halfway, "no kill left the county with part of the records: the cut-and-resume path went untested"
    print(f"sync: uninterrupted {ref.took:.2f}s, {landed}/{KILLS} kills mid-work, {halfway} with the push half done")
