"""Every township syncing at once with the suite's real PostgreSQL: a pull between two of another site's batches, six
sites at the same moment, sites killed mid-push, a site stopped while it holds the county's write lock. Each site
ends with exactly the county's records for its jurisdiction, and `check --county-url` says so.

Pauses and kills are placed by the site's own progress lines (the worker stops itself right after the named line),
never by time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from pathlib import Path

import psycopg
import pytest

from app.exchange import held
from app.exchange.merge import REFUSED_HEAD, RETAKE
from app.exchange.records import site_id
from app.services import demo, registry, sync
from app.services.session import SYSTEM, Session
from app.store import records
from app.store.db import transaction
from app.store.store import open_store
from tests.exchange.conftest import register
from tests.exchange.test_sync import TABLES, county_counts
from tests.faults.killing import CAN_KILL, Watched, cli

WORKER = Path(__file__).with_name("sync_worker.py")
SITES = 6
pytestmark = pytest.mark.skipif(not CAN_KILL, reason="needs POSIX signals")


@pytest.fixture(scope="session")
def site_templates(tmp_path_factory) -> list[Path]:
    """Six small demo sites (about 25 households each, a few applications), each from its own seed: built once."""
    out = []
    for n in range(SITES):
        path = tmp_path_factory.mktemp(f"site{n}") / "site.sqlite3"
        session = Session(open_store(path, daily_backup=False), SYSTEM)
        demo.start_demo(session)
        for _ in demo.build_demo(session, 20, 2025, seed=100 + n):
            pass
        if n < 2:  # applications and their steps travel too; two sites with them are enough
            demo.demo_users(session)
            demo.demo_applications(session, 2025, seed=100 + n, county_steps=False)
        session.store.close()
        out.append(path)
    return out


@pytest.fixture
def sites(site_templates, tmp_path, county_site, county_url) -> list[Path]:
    """Copies of the six sites, each registered at the county (its keys are made beside its copy)."""
    paths = []
    for n, template in enumerate(site_templates):
        path = tmp_path / f"site{n}.sqlite3"
        shutil.copy(template, path)
        paths.append(path)
        site = session_of(path)
        register(county_site, county_url, site)
        site.store.close()
    return paths


def start(db: Path, url: str, log: Path, *extra: str) -> Watched:
    return Watched([str(WORKER), str(db), url, *extra], log)


def wait_for(run: Watched, prefix: str) -> str:
    while (item := run.next_line()) is not None:
        if item[1].startswith(prefix):
            return item[1]
    raise AssertionError(f"the site ended before printing {prefix}:\n{run.finish()}")


def wait_stopped(run: Watched) -> None:
    _, status = os.waitpid(run.proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status


def finish(run: Watched, code: int = 0) -> str:
    output = run.finish()
    assert run.proc.returncode == code, output
    return output


def sync_all(paths: list[Path], url: str, tmp_path: Path, tag: str) -> None:
    """Every site syncs at the same moment, each in its own process; all must finish."""
    runs = [start(p, url, tmp_path / f"{tag}-{p.stem}.log") for p in paths]
    for run in runs:
        finish(run)


def session_of(path: Path) -> Session:
    return Session(open_store(path, daily_backup=False), SYSTEM)


def assert_each_site_is_the_county(paths: list[Path], url: str) -> None:
    """Every site holds exactly the county's records for its jurisdiction, nothing waits, and check agrees."""
    for path in paths:
        conn = sqlite3.connect(path)
        try:
            comparison = sync.compare_with_county(conn, url)
            assert comparison.agrees, "\n".join(comparison.lines())
            assert held.counts(conn) == {}
            assert conn.execute("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL").fetchone()[0] == 0
        finally:
            conn.close()
        code, out, err = cli("check", "--db", str(path), "--county-url", url)
        assert code == 0 and "与县级数据库核对一致" in out, out + err
    own = 0
    for path in paths:
        conn = sqlite3.connect(path)
        own += sum(conn.execute(f"SELECT count(*) FROM {t} WHERE site_id IS NULL").fetchone()[0] for t in TABLES)
        conn.close()
    counts = county_counts(url)
    assert sum(counts[t] for t in TABLES) == own  # one row per record at the county, from every site


def local_ids(path: Path, table: str, site: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE site_id = ?", (site,))}
    finally:
        conn.close()


def county_ids(url: str, table: str, site: str) -> set[str]:
    with psycopg.connect(url) as pg:
        return {r[0] for r in pg.execute(f"SELECT id FROM {table} WHERE site_id = %s", (site,))}


def test_a_pull_between_two_batches_of_another_site_holds_what_it_cannot_take_yet(sites, county_url, tmp_path):
    one, two = sites[0], sites[1]
    site_two = site_id(sqlite3.connect(two))
    finish(start(one, county_url, tmp_path / "1a.log"))
    paused = start(two, county_url, tmp_path / "2.log", "--stop-after", "送出家庭")
    wait_for(paused, "送出家庭")
    wait_stopped(paused)  # site 2's households are at the county, its people not yet; it holds no lock
    finish(start(one, county_url, tmp_path / "1b.log"))
    conn = sqlite3.connect(one)
    households_two = county_ids(county_url, "households", site_two)
    assert households_two and held.counts(conn) == {"households": len(households_two)}
    assert conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0  # waiting, not refused
    conn.close()
    os.kill(paused.proc.pid, signal.SIGCONT)
    finish(paused)
    finish(start(one, county_url, tmp_path / "1c.log"))
    finish(start(one, county_url, tmp_path / "1d.log"))
    finish(start(two, county_url, tmp_path / "2b.log"))
    for table in ("households", "persons", "visits", "settlements"):
        assert local_ids(one, table, site_two) == county_ids(county_url, table, site_two) != set()
    assert_each_site_is_the_county([one, two], county_url)


def test_six_sites_syncing_at_once_twice_each_hold_the_county(sites, county_url, tmp_path):
    sync_all(sites, county_url, tmp_path, "first")
    sync_all(sites, county_url, tmp_path, "second")
    sync_all(sites, county_url, tmp_path, "third")  # the last to push in round two is pulled by the others here
    assert_each_site_is_the_county(sites, county_url)


def test_two_sites_killed_mid_push_are_resumed_and_every_site_gets_all_of_them(sites, county_url, tmp_path):
    doomed = [start(sites[n], county_url, tmp_path / f"doomed{n}.log", "--batch", "20", "--stop-after", "送出人员")
              for n in (1, 4)]
    for run in doomed:
        wait_for(run, "送出人员")
        wait_stopped(run)
        run.proc.send_signal(signal.SIGKILL)
        finish(run, -signal.SIGKILL)
    others = [p for n, p in enumerate(sites) if n not in (1, 4)]
    sync_all(others, county_url, tmp_path, "others")  # they take the killed sites' first batches, half a family
    sync_all(sites, county_url, tmp_path, "resume")  # the killed sites finish what they began
    sync_all(sites, county_url, tmp_path, "after")
    assert_each_site_is_the_county(sites, county_url)


def test_a_site_stopped_holding_the_lock_is_ended_by_the_server_and_the_others_finish(sites, county_url, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("JIUZHU_COUNTY_HOLD_SECONDS", "5")
    stalled = start(sites[0], county_url, tmp_path / "stalled.log", "--batch", "20", "--stop-in-lock", "3")
    wait_for(stalled, "持锁")
    wait_stopped(stalled)
    # Without the server's timeouts the others would wait on the lock for as long as the laptop sleeps: here they
    # would run into their own lock_timeout (three holds) and fail instead of finishing.
    sync_all(sites[1:3], county_url, tmp_path, "others")
    os.kill(stalled.proc.pid, signal.SIGCONT)
    assert "连接中断" in finish(stalled, 1)  # its transaction was ended while it was stopped, its batch rolled back
    sync_all(sites[:3], county_url, tmp_path, "again")
    sync_all(sites[:3], county_url, tmp_path, "last")
    assert_each_site_is_the_county(sites[:3], county_url)


def test_a_head_refused_as_a_duplicate_is_told_apart_from_one_not_arrived(sites, county_url, tmp_path):
    one, two = sites[0], sites[1]
    finish(start(two, county_url, tmp_path / "2.log"))
    conn = sqlite3.connect(two)
    alone = conn.execute("SELECT h.id, p.id_number FROM households h JOIN persons p ON p.id = h.head_person_id "
                         "WHERE (SELECT count(*) FROM persons m WHERE m.household_id = h.id) = 1 "
                         "ORDER BY h.id LIMIT 1").fetchone()
    conn.close()
    session = session_of(one)
    registry.register_household(session, "340223100201", "籍山镇某村 9 号", registry.PersonInput("重名者", alone[1]))
    report = sync.sync(session, county_url)
    reasons = dict(session.conn.execute("SELECT entity_id, reason FROM sync_conflicts WHERE entity = 'households'"))
    assert reasons == {alone[0]: REFUSED_HEAD}
    assert held.counts(session.conn) == {}
    assert not report.comparison.agrees and report.comparison.kinds[0].refused == [alone[0]]
    session.store.close()


def lose_household(session: Session, hid: str) -> list[tuple[str, str]]:
    """Leave a site as an older version did: another site's household dropped as "all its members registered here",
    its people and everything below them refused for a missing parent (each conflict keeps the record's copy, as
    merge filed it), while the pull position moved past them. Returns what was lost, children first."""
    conn = session.conn
    region = conn.execute("SELECT region_code FROM households WHERE id = ?", (hid,)).fetchone()[0]
    persons = [r[0] for r in conn.execute("SELECT id FROM persons WHERE household_id = ?", (hid,))]
    marks = ",".join("?" * len(persons))
    lost = [(table, dict(row)) for table in ("annual_settlements", "settlements", "visits", "enrollments",
                                             "category_periods")
            for row in conn.execute(f"SELECT * FROM {table} WHERE person_id IN ({marks})", persons).fetchall()]
    lost += [("persons", dict(row)) for row in conn.execute("SELECT * FROM persons WHERE household_id = ?", (hid,))]
    lost += [("households", dict(conn.execute("SELECT * FROM households WHERE id = ?", (hid,)).fetchone()))]
    with transaction(conn):
        # Payment lines stay at the site that made them (they do not travel); an older version had none.
        for (line,) in conn.execute(f"SELECT id FROM payment_lines WHERE person_id IN ({marks})", persons).fetchall():
            records.delete(conn, session.user, "payment_lines", line, "测试：旧版本没有支付记录")
        for table, row in lost:
            records.delete(conn, session.user, table, row["id"], "测试：旧版本未收下")
            reason = RETAKE[1] if table == "households" else RETAKE[0]
            copy = {k: v for k, v in {**row, "region_code": region}.items() if not isinstance(v, bytes)}
            conn.execute("INSERT INTO sync_conflicts (at, source, entity, entity_id, site_id, reason, record) "
                         "VALUES ('2026-01-01', '与县级同步', ?, ?, ?, ?, ?)",
                         (table, row["id"], row["site_id"], reason, json.dumps(copy, ensure_ascii=False)))
    return [(table, row["id"]) for table, row in lost]


def test_records_an_older_version_refused_for_a_missing_parent_are_taken_again(sites, county_url, tmp_path):
    one, two = sites[0], sites[1]
    finish(start(two, county_url, tmp_path / "2.log"))
    finish(start(one, county_url, tmp_path / "1.log"))
    site_two = site_id(sqlite3.connect(two))
    session = session_of(one)
    hid = session.conn.execute("SELECT h.id FROM households h WHERE h.site_id = ? AND EXISTS (SELECT 1 FROM visits v "
                               "JOIN persons p ON p.id = v.person_id WHERE p.household_id = h.id) AND NOT EXISTS (SELECT 1 "
                               "FROM applications a WHERE a.household_id = h.id) ORDER BY h.id LIMIT 1",
                               (site_two,)).fetchone()[0]
    lost = lose_household(session, hid)
    report = sync.sync(session, county_url)
    assert sum(a.added for a in report.retaken.values()) == len(lost)
    assert report.comparison.agrees, report.comparison.lines()
    assert session.conn.execute("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL").fetchone()[0] == 0
    session.store.close()
    finish(start(two, county_url, tmp_path / "2b.log"))
    assert_each_site_is_the_county([one, two], county_url)


def test_a_record_refused_from_a_package_the_county_never_saw_is_taken_from_its_kept_copy(sites, county_site,
                                                                                           county_url, tmp_path):
    from app.services import packages

    # A package is sealed to the county, so the site that takes one is the county's own installation.
    one, two = county_site, session_of(sites[1])
    packages.export_package(two, tmp_path / "two.jzpkg")
    packages.import_here(one, tmp_path / "two.jzpkg")
    # A household with nobody's bills: its records' kept copies are whole (a settlement's steps are not kept).
    hid = one.conn.execute("SELECT h.id FROM households h WHERE h.site_id = ? AND NOT EXISTS (SELECT 1 FROM visits v "
                           "JOIN persons p ON p.id = v.person_id WHERE p.household_id = h.id) ORDER BY h.id LIMIT 1",
                           (site_id(two.conn),)).fetchone()[0]
    lost = lose_household(one, hid)
    report = sync.sync(one, county_url)  # the county has never seen site two
    assert sum(a.added for a in report.retaken.values()) == len(lost)
    for table, rid in lost:
        assert one.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (rid,)).fetchone(), (table, rid)
    assert one.conn.execute("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL").fetchone()[0] == 0
    two.store.close()
