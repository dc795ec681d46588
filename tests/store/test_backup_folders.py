"""Two databases in one folder keep their backups apart: each gets its day's backup, pruning one never deletes the
other's, and a damaged one is offered its own backup, never the other's."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from app.services import users
from app.services.session import SYSTEM, Session
from app.store import anchors, backup
from app.store.errors import DatabaseDamaged, StoreError
from app.store.store import open_store


def test_the_programs_own_database_keeps_the_backups_folder_it_always_had(tmp_path):
    assert backup.backups_dir(tmp_path / "jiuzhu.sqlite3") == tmp_path / "backups"
    assert backup.backups_dir(tmp_path / "county.sqlite3") == tmp_path / "county.sqlite3.backups"


def test_each_database_in_a_folder_gets_its_own_days_backup(tmp_path):
    first = open_store(tmp_path / "jiuzhu.sqlite3")
    first.close()
    second = open_store(tmp_path / "demo.sqlite3")  # the same day: the first's backup is not the second's
    second.close()
    made = {name: backup.list_backups(backup.backups_dir(tmp_path / name)) for name in ("jiuzhu.sqlite3", "demo.sqlite3")}
    for name, found in made.items():
        assert [backup.label_of(p) for p in found] == ["daily"], name
        with sqlite3.connect(tmp_path / name) as db, sqlite3.connect(found[0]) as copy:
            assert anchors._site(db) == anchors._site(copy), f"{name}'s backup is of another database"


def test_pruning_one_databases_backups_leaves_the_others(tmp_path):
    mine = open_store(tmp_path / "jiuzhu.sqlite3", daily_backup=False)
    other = open_store(tmp_path / "demo.sqlite3", daily_backup=False)
    kept = backup.backup(other.conn, other.backups)
    for _ in range(3):
        backup.backup(mine.conn, mine.backups, keep=1)
    assert backup.list_backups(other.backups) == [kept]
    assert len(backup.list_backups(mine.backups)) == 1
    mine.close()
    other.close()


def test_a_damaged_database_is_offered_its_own_backup_not_a_newer_one_of_another(tmp_path):
    db = tmp_path / "jiuzhu.sqlite3"
    mine = open_store(db, daily_backup=False)
    own = backup.backup(mine.conn, mine.backups)
    mine.close()
    other = open_store(tmp_path / "demo.sqlite3", daily_backup=False)
    backup.backup(other.conn, other.backups)  # newer than this database's
    other.close()
    with db.open("r+b") as f:
        f.write(b"\x00" * 16)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    assert info.value.backup == own


def test_a_database_without_a_backup_of_its_own_is_offered_none(tmp_path):
    other = open_store(tmp_path / "demo.sqlite3", daily_backup=False)
    backup.backup(other.conn, other.backups)
    other.close()
    db = tmp_path / "jiuzhu.sqlite3"
    open_store(db, daily_backup=False).close()
    with db.open("r+b") as f:
        f.write(b"\x00" * 16)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    assert info.value.backup is None and "没有找到备份" in str(info.value)


def _legacy(store, folder) -> object:
    """A backup as made before each database had its folder: into the shared `backups`, its sidecar naming no
    database."""
    import json

    folder.mkdir(exist_ok=True)
    made = backup.backup(store.conn, folder)
    side = anchors.sidecar(made)
    data = json.loads(side.read_text(encoding="utf-8"))
    del data["database"]
    side.write_text(json.dumps(data), encoding="utf-8")
    return made


def _damage(db) -> None:
    with db.open("r+b") as f:
        f.write(b"\x00" * 16)


def test_the_programs_own_database_leaves_another_sites_older_backups_in_its_folder_alone(tmp_path):
    db = tmp_path / "jiuzhu.sqlite3"
    mine = open_store(db, daily_backup=False)
    other = open_store(tmp_path / "demo.sqlite3", daily_backup=False)
    users.create_user(Session(other, SYSTEM), "admin", "管理员", "管理员", "340223", "admin-pass-1")
    _legacy(other, tmp_path / "backups")
    assert not backup.backed_up_today(db), "another database's backup of today is not this one's"
    own = backup.backup(mine.conn, mine.backups)
    theirs = _legacy(other, tmp_path / "backups")  # newer than this database's
    other.close()
    assert backup.own_backups(db) == [own]
    for _ in range(2):
        backup.backup(mine.conn, mine.backups, keep=1)
    assert theirs.exists(), "pruning this database's backups deleted another's"
    mine.close()
    _damage(db)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    assert info.value.backup != theirs and info.value.backup in backup.own_backups(db)
    # The damaged file's site is still known (its keys): the other site's backup needs the site move.
    with pytest.raises(StoreError, match="另一个站点"):
        backup.restore(theirs, db)


def test_another_database_still_finds_its_older_backups_in_the_shared_folder(tmp_path):
    db = tmp_path / "demo.sqlite3"
    store = open_store(db, daily_backup=False)
    older = _legacy(store, tmp_path / "backups")
    store.close()
    assert backup.own_backups(db) == [older]
    _damage(db)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    assert info.value.backup == older
    db.write_bytes(b"")  # emptied: it had backups, so it is not a new database
    with pytest.raises(DatabaseDamaged):
        open_store(db)


def test_a_copy_under_another_name_does_not_take_the_originals_backups_for_its_own(tmp_path):
    """A training copy of the office's database has its site; the backups the original makes from now on are not
    the copy's, and check does not report the copy as rolled back past them."""
    import shutil

    from app.store.check import check_database

    db = tmp_path / "jiuzhu.sqlite3"
    open_store(db, daily_backup=False).close()
    copy = tmp_path / "training.sqlite3"
    shutil.copy2(db, copy)
    shutil.copytree(tmp_path / "jiuzhu.sqlite3.keys", tmp_path / "training.sqlite3.keys")
    original = open_store(db, daily_backup=False)
    users.create_user(Session(original, SYSTEM), "admin", "管理员", "管理员", "340223", "admin-pass-1")
    backup.backup(original.conn, original.backups)
    original.close()
    assert backup.own_backups(copy) == []
    assert check_database(copy) == []


def test_a_damaged_database_after_a_site_move_is_known_by_its_own_backups(tmp_path):
    """After a site move the keys folder holds two sites' keys; the newest backup naming the database still says
    which site it is, so another database's older backup still needs --site-move."""
    db = tmp_path / "jiuzhu.sqlite3"
    mine = open_store(db, daily_backup=False)
    backup.backup(mine.conn, mine.backups)
    mine.close()
    (tmp_path / "jiuzhu.sqlite3.keys" / "0000-another-site.json").write_text("{}", encoding="utf-8")
    other = open_store(tmp_path / "demo.sqlite3", daily_backup=False)
    users.create_user(Session(other, SYSTEM), "admin", "管理员", "管理员", "340223", "admin-pass-1")
    theirs = _legacy(other, tmp_path / "backups")
    other.close()
    _damage(db)
    with pytest.raises(StoreError, match="另一个站点"):
        backup.restore(theirs, db)


@pytest.mark.skipif(sys.platform == "win32", reason="a symbolic link to the database is a POSIX habit")
def test_a_database_opened_through_a_link_keeps_and_prunes_its_backups(tmp_path):
    real = tmp_path / "site-2025.db"
    link = tmp_path / "jiuzhu.sqlite3"
    open_store(real, daily_backup=False).close()
    link.symlink_to(real)
    store = open_store(link)  # the day's backup
    assert backup.backed_up_today(link)
    for _ in range(3):
        backup.backup(store.conn, store.backups, keep=2)
    store.close()
    assert len(backup.own_backups(link)) == 2 == len(backup.list_backups(backup.backups_dir(link)))
