"""Restore takes only this site's 救助通 database (another site's with --site-move), and says so in the audit log;
safety copies are never pruned, a killed backup's leftovers go at start, backups and packages are private, and the
site's name is its county's and township's, not the computer's."""

from __future__ import annotations

import os
import platform
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.services import packages, users
from app.services.session import SYSTEM, Session
from app.store import backup
from app.store.errors import StoreError
from app.store.store import open_store
from tests.faults.killing import cli
from tests.exchange.sealing import county_for

posix = pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX's")


def _site(path, admin: bool = True) -> Session:
    session = Session(open_store(path, daily_backup=False), SYSTEM)
    if admin:
        users.create_user(session, "admin", "管理员", "管理员", "340223", "admin-pass-1")
    return session


def _backup_of(path) -> object:
    session = _site(path)
    made = backup.backup(session.conn, session.store.backups, keep=0)
    session.store.close()
    return made


def _actions(db) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    finally:
        conn.close()


def test_a_sqlite_file_that_is_not_a_jiuzhu_database_is_refused(tmp_path):
    db = tmp_path / "site.sqlite3"
    _backup_of(db)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    before = db.read_bytes()
    code, out, err = cli("restore", str(other), "--db", str(db))
    assert code == 2 and "不是救助通的数据库" in err
    assert db.read_bytes() == before


def test_a_jiuzhu_database_without_accounts_is_refused(tmp_path):
    db = tmp_path / "site.sqlite3"
    _backup_of(db)
    empty = tmp_path / "empty" / "site.sqlite3"
    _site(empty, admin=False).store.close()
    code, out, err = cli("restore", str(empty), "--db", str(db))
    assert code == 2 and "没有可以登录的账号" in err


def test_another_sites_database_needs_the_site_move_confirmation_and_either_restore_is_audited(tmp_path):
    db = tmp_path / "site.sqlite3"
    own = _backup_of(db)
    theirs = _backup_of(tmp_path / "other" / "site.sqlite3")
    code, out, err = cli("restore", str(theirs), "--db", str(db))
    assert code == 2 and "是另一个站点" in err and "--site-move" in err
    code, out, err = cli("restore", str(own), "--db", str(db))
    assert code == 0, err
    assert _actions(db)[-1] == "恢复数据库"
    code, out, err = cli("restore", str(theirs), "--db", str(db), "--site-move")
    assert code == 0, err
    assert _actions(db)[-1] == "恢复数据库（站点搬迁）"


def test_before_restore_copies_are_never_pruned(tmp_path):
    db = tmp_path / "site.sqlite3"
    own = _backup_of(db)
    backup.restore(own, db)
    safety = [p for p in backup.list_backups(backup.backups_dir(db)) if backup.label_of(p) == "before-restore"]
    assert len(safety) == 1
    session = Session(open_store(db, daily_backup=False), SYSTEM)
    for _ in range(4):
        backup.backup(session.conn, session.store.backups, keep=2)
    session.store.close()
    left = backup.list_backups(backup.backups_dir(db))
    assert safety[0] in left and len([p for p in left if backup.label_of(p) == "manual"]) == 2


def test_the_days_backup_is_still_made_after_a_restore(tmp_path):
    """The before-restore copy is of the database the restore replaced: the restored one still gets its backup."""
    db = tmp_path / "site.sqlite3"
    own = _backup_of(db)
    folder = backup.backups_dir(db)
    for p in backup.list_backups(folder):  # the backup above is made "yesterday": today has none yet
        p.rename(p.with_name(p.name.replace(p.name[len(backup.PREFIX):len(backup.PREFIX) + 8], "20000101")))
    backup.restore(own.with_name(own.name.replace(own.name[len(backup.PREFIX):len(backup.PREFIX) + 8], "20000101")),
                   db)
    assert [backup.label_of(p) for p in backup.list_backups(folder)] == ["manual", "before-restore"]
    assert not backup.backed_up_today(db)
    made = backup.daily_backup(db, lambda done, total: None)
    assert made is not None and backup.label_of(made) == "daily" and backup.backed_up_today(db)


def test_what_a_killed_backup_left_is_removed_at_start(tmp_path):
    db = tmp_path / "site.sqlite3"
    made = _backup_of(db)
    folder = backup.backups_dir(db)
    leftovers = [folder / "jiuzhu-20260101-000000-000000-daily.partial", folder / "x.partial-journal",
                 db.with_name(db.name + ".restoring")]
    for f in leftovers:
        f.write_bytes(b"\0" * 1000)
    open_store(db, daily_backup=False).close()
    assert not any(f.exists() for f in leftovers)
    assert made.exists()


@posix
def test_backups_and_packages_are_readable_by_their_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        session = _site(tmp_path / "site.sqlite3")
        made = backup.backup(session.conn, session.store.backups)
        package = tmp_path / "p.jzpkg"
        county_for(session, tmp_path).store.close()
        packages.export_package(session, package)
        session.store.close()
    finally:
        os.umask(old)
    for f in (made, made.with_name(made.name + ".head.json"), package):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_the_site_is_named_after_its_county_and_township(tmp_path):
    from app.services import county, demo
    from app.services.sync import site_name

    session = _site(tmp_path / "site.sqlite3")
    county.configure_county(session, demo.COUNTY_CODE, "南陵县", "wuhu-2022", demo.DEMO_LOCAL)
    users.create_user(session, "xiang", "乡镇经办", "乡镇经办", "340223100", "xiang-pass-1")
    name = site_name(session)
    assert name.startswith("南陵县") and len(name) > len("南陵县") and platform.node() not in name
    session.store.close()


def test_a_database_open_elsewhere_is_not_replaced(tmp_path):
    """The program open in a window would go on writing into the file replaced under it: refused, nothing changed."""
    db = tmp_path / "site.sqlite3"
    made = _backup_of(db)
    in_use = open_store(db, daily_backup=False)  # as the window holds it
    before = db.read_bytes()
    kept = backup.list_backups(backup.backups_dir(db))
    with pytest.raises(StoreError, match="正在使用中"):
        backup.restore(made, db)
    assert db.read_bytes() == before and backup.list_backups(backup.backups_dir(db)) == kept
    assert not db.with_name(db.name + ".restoring").exists()
    in_use.close()
    assert backup.restore(made, db) is not None  # closed: restored


def test_nothing_opens_the_database_while_a_restore_replaces_it(tmp_path, monkeypatch):
    """The database is held from the check until it is replaced: a window opened meanwhile is refused, never left
    writing into the file replaced under it."""
    db = tmp_path / "site.sqlite3"
    made = _backup_of(db)
    copy = backup._copy
    tried = []

    def copying(src, target, what, progress=None):
        copy(src, target, what, progress)
        code = ("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=0)\n"
                "try:\n    c.execute('CREATE TABLE late(x)'); c.commit(); print('wrote')\n"
                "except sqlite3.OperationalError as e:\n    print(e)\n")
        tried.append(subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True).stdout)

    monkeypatch.setattr(backup, "_copy", copying)
    backup.restore(made, db)
    assert tried and "locked" in tried[0], tried
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'late'").fetchone()[0] == 0
    conn.close()


def test_after_a_site_move_a_damaged_database_is_still_the_new_sites(tmp_path):
    """The before-restore copy, of the old site, is the newest backup naming the database: its sidecar says which
    site replaced it, so the old site's backup still needs --site-move."""
    db = tmp_path / "site.sqlite3"
    old = _backup_of(db)
    other = tmp_path / "other" / "site.sqlite3"
    other.parent.mkdir()
    moved = _backup_of(other)
    backup.restore(moved, db, site_move=True)
    with db.open("r+b") as f:
        f.write(b"\x00" * 16)
    with pytest.raises(StoreError, match="另一个站点"):
        backup.restore(old, db)


@posix
def test_a_restore_through_a_link_replaces_the_file_it_points_to(tmp_path):
    real = tmp_path / "data" / "site-2025.db"
    real.parent.mkdir()
    made = _backup_of(real)
    link = tmp_path / "site.sqlite3"
    link.symlink_to(real)
    backup.restore(made, link)
    assert link.is_symlink() and link.resolve() == real
    assert "恢复数据库" in _actions(real)


def test_backups_written_to_a_folder_of_the_callers_choosing_are_pruned_there(tmp_path):
    session = _site(tmp_path / "site.sqlite3")
    folder = tmp_path / "elsewhere"
    for _ in range(3):
        backup.backup(session.conn, folder, keep=1)
    session.store.close()
    assert len(backup.list_backups(folder)) == 1


@posix
def test_a_damaged_database_behind_a_link_takes_its_wal_aside(tmp_path):
    """SQLite keeps the WAL beside the file a link points to: set aside with the damaged file, never replayed onto
    the restored copy."""
    real = tmp_path / "data" / "site-2025.db"
    real.parent.mkdir()
    made = _backup_of(real)
    link = tmp_path / "site.sqlite3"
    link.symlink_to(Path("data") / "site-2025.db")
    writer = sqlite3.connect(link)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE later(x)")
    writer.commit()
    wal = real.with_name(real.name + "-wal").read_bytes()
    writer.close()
    real.with_name(real.name + "-wal").write_bytes(wal)  # as a crash leaves it
    with real.open("r+b") as f:
        f.write(b"\x00" * 16)
    backup.restore(made, link)
    conn = sqlite3.connect(real)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'later'").fetchone()[0] == 0
    conn.close()


def test_a_wal_that_cannot_be_removed_stops_the_restore_with_the_database_as_it_was(tmp_path, monkeypatch):
    """On Windows a file opened in the moment after the restore let the database go cannot be removed."""
    db = tmp_path / "site.sqlite3"
    made = _backup_of(db)
    before = db.read_bytes()
    unlink = Path.unlink

    def refused(self, missing_ok=False):
        if self.name.endswith("-wal"):
            raise PermissionError(13, "in use")
        return unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refused)
    monkeypatch.setattr(backup.time, "sleep", lambda s: None)
    with pytest.raises(StoreError, match="恢复没有完成"):
        backup.restore(made, db)
    monkeypatch.undo()
    assert db.read_bytes() == before and not db.with_name(db.name + ".restoring").exists()


def test_a_folder_of_the_callers_choosing_keeps_another_databases_backups(tmp_path):
    usb = tmp_path / "usb"
    other = _site(tmp_path / "b" / "other.sqlite3")
    theirs = backup.backup(other.conn, usb, keep=5)
    other.store.close()
    mine = _site(tmp_path / "a" / "site.sqlite3")
    for _ in range(2):
        backup.backup(mine.conn, usb, keep=1)
    mine.store.close()
    assert theirs.exists() and len(backup.list_backups(usb)) == 2
