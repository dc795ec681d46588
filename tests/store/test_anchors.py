"""Backups carry the audit chain's head beside them, and check reports a database rolled back past any of them
that no recorded restore gave up."""

from __future__ import annotations

import json

import pytest

from app.services import county, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store import anchors, backup
from app.store.check import check_database
from app.store.store import open_store
from tests.faults.killing import cli
from tests.store.anchoring import audit_count, put_back, record_bills, snapshot


@pytest.fixture
def site(tmp_path):
    """A site with a few insured people; yields its session (closed at the end)."""
    from app.services import demo

    store = open_store(tmp_path / "site.sqlite3", daily_backup=False)
    demo.start_demo(Session(store, SYSTEM))
    session = Session(store, users.find_user(store.conn, "admin"))
    county.configure_county(session, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    for _ in demo.build_demo(session, 4, 2025, seed=3):
        pass
    # Bills are entered as the command line enters them: the demo's villages span townships, and no county role or
    # administrator may record bills (app/workflow/duties.py).
    yield Session(store, SYSTEM)
    store.close()


def test_a_backup_records_its_head_beside_it_and_pruning_removes_it_with_the_backup(site):
    record_bills(site, 2, "A")
    first = backup.backup(site.conn, site.store.backups, keep=2)
    side = json.loads(anchors.sidecar(first).read_text(encoding="utf-8"))
    assert side["count"] == audit_count(site.store.path) and side["backup"] == first.name
    assert side["hash"] == site.conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()[0]
    backup.backup(site.conn, site.store.backups, keep=2)
    backup.backup(site.conn, site.store.backups, keep=2)
    left = sorted(p.name for p in site.store.backups.iterdir())
    assert len(left) == 4 and first.name not in left and anchors.sidecar(first).name not in left
    assert all(anchors.sidecar(b).is_file() for b in backup.list_backups(site.store.backups))


def test_bills_after_the_newest_backup_are_not_a_rollback(site):
    record_bills(site, 2, "A")
    backup.backup(site.conn, site.store.backups)
    record_bills(site, 3, "B")
    code, out, err = cli("check", "--db", str(site.store.path))
    assert code == 0 and "检查通过" in out, err


@pytest.mark.parametrize("sidecar_kept", [True, False])
def test_an_older_copy_put_back_after_a_backup_fails_check_naming_the_backup(site, tmp_path, sidecar_kept):
    db = site.store.path
    older = snapshot(site.conn, tmp_path / "older.sqlite3")
    record_bills(site, 3, "A")
    saved = backup.backup(site.conn, site.store.backups)
    if not sidecar_kept:  # a backup made before heads were kept beside backups: read from the backup itself
        anchors.sidecar(saved).unlink()
    counted = audit_count(db)
    site.store.close()
    put_back(older, db)
    assert check_database(db) != []
    code, out, err = cli("check", "--db", str(db))
    assert code == 1
    when = backup.taken_at(saved)
    assert saved.name in err and f"{when:%Y-%m-%d %H:%M}" in err
    assert f"已有 {counted} 条" in err and f"只有 {audit_count(db)} 条" in err


def test_an_older_copy_then_more_bills_than_the_backup_had_is_a_rewrite(site, tmp_path):
    db = site.store.path
    older = snapshot(site.conn, tmp_path / "older.sqlite3")
    record_bills(site, 2, "A")
    saved = backup.backup(site.conn, site.store.backups)
    counted = audit_count(db)
    site.store.close()
    put_back(older, db)
    again = Session(open_store(db, daily_backup=False), site.user)
    record_bills(again, 6, "B")  # the chain grows past the backup's count, with other entries
    again.store.close()
    assert audit_count(db) > counted
    problems = check_database(db)
    assert any("不一致" in p and saved.name in p and f"第 {counted} 条" in p for p in problems), problems


def test_another_databases_backup_in_the_shared_folder_is_not_this_ones(site, tmp_path):
    """Before each database had a backups folder of its own, all kept theirs in `backups`: check still reads this
    site's there, and only this site's."""
    record_bills(site, 2, "A")
    shared = tmp_path / "backups"
    shared.mkdir()
    backup.backup(site.conn, shared)
    # A second database kept beside the first (a copy for training, a demo) backed up into the same folder, later.
    other = open_store(tmp_path / "other.sqlite3", daily_backup=False)
    backup.backup(other.conn, shared)
    other.close()
    assert anchors.backup_site(backup.list_backups(shared)[-1]) != site.store.setting("site_id")
    assert [b for _, b in anchors.site_backups(site.store.path, site.store.setting("site_id"))] == \
        backup.list_backups(shared)[:1]
    code, out, err = cli("check", "--db", str(site.store.path))
    assert code == 0 and "检查通过" in out, err


def test_a_rollback_is_still_reported_after_the_next_backup_records_the_older_state(site, tmp_path):
    """The day after an older copy was put back, the day's first start backs that copy up; the earlier backup still
    shows what was lost."""
    db = site.store.path
    older = snapshot(site.conn, tmp_path / "older.sqlite3")
    record_bills(site, 3, "A")
    saved = backup.backup(site.conn, site.store.backups, label="daily")
    counted = audit_count(db)
    site.store.close()
    put_back(older, db)
    again = open_store(db, daily_backup=False)
    backup.backup(again.conn, again.backups, label="daily")  # the next day's, of the older copy
    again.close()
    problems = check_database(db)
    assert any(saved.name in p and f"已有 {counted} 条" in p for p in problems), problems


def test_a_restore_of_an_older_backup_gives_up_the_later_backups_on_purpose(site, tmp_path):
    """Restoring an older backup with `jiuzhu restore` is no rollback to report: the backups whose content it gives up
    (the before-restore copy among them) are named in its audit entry. A rollback past a later backup still is."""
    db = site.store.path
    record_bills(site, 2, "A")
    first = backup.backup(site.conn, site.store.backups)
    record_bills(site, 3, "B")
    backup.backup(site.conn, site.store.backups)
    site.store.close()
    code, out, err = cli("restore", str(first), "--db", str(db))
    assert code == 0, err
    code, out, err = cli("check", "--db", str(db))
    assert code == 0 and "检查通过" in out, err
    # After the restore, work goes on and is backed up; losing that is reported as before.
    again = Session(open_store(db, daily_backup=False), site.user)
    older = snapshot(again.conn, tmp_path / "older.sqlite3")
    record_bills(again, 2, "C")
    later = backup.backup(again.conn, again.store.backups)
    again.store.close()
    put_back(older, db)
    problems = check_database(db)
    assert len(problems) == 1 and later.name in problems[0], problems


def test_an_older_copy_put_back_on_purpose_is_accepted_by_backing_it_up_and_restoring_that(site, tmp_path):
    """What check's finding tells the officer to do when the older copy was put back on purpose."""
    db = site.store.path
    older = snapshot(site.conn, tmp_path / "older.sqlite3")
    record_bills(site, 3, "A")
    backup.backup(site.conn, site.store.backups)
    site.store.close()
    put_back(older, db)
    code, out, err = cli("check", "--db", str(db))
    assert code == 1 and "jiuzhu restore 恢复这份新备份" in err
    again = open_store(db, daily_backup=False)
    accepted = backup.backup(again.conn, again.backups)
    again.close()
    backup.restore(accepted, db)
    assert check_database(db) == []


def test_a_sidecar_naming_another_backup_says_nothing_of_this_one(site, tmp_path):
    """A backup file replaced by another under its name (or its sidecar copied beside another) is read itself."""
    record_bills(site, 2, "A")
    saved = backup.backup(site.conn, site.store.backups)
    side = anchors.sidecar(saved)
    data = json.loads(side.read_text(encoding="utf-8"))
    side.write_text(json.dumps({**data, "backup": "jiuzhu-20000101-000000-000000-manual.sqlite3", "count": 1,
                                "hash": "0" * 64}), encoding="utf-8")
    head = anchors.backup_head(saved)
    assert (head.count, head.hash) == (data["count"], data["hash"])
