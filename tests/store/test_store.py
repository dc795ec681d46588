"""The store (upgrades: test_upgrades.py): refusal of newer databases, WAL, backups, audit tamper detection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.services import users
from app.services.session import SYSTEM, Session
from app.store import audit, backup
from app.store.check import check_database
from app.store.db import transaction
from app.store.errors import StoreError
from app.store.schema import LATEST
from app.store.store import open_store


def test_refuses_a_database_from_a_newer_app(tmp_path):
    db = tmp_path / "new.sqlite3"
    open_store(db, daily_backup=False).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(StoreError, match="更新版本"):
        open_store(db, daily_backup=False)


def test_wal_and_foreign_keys(tmp_path):
    store = open_store(tmp_path / "x.sqlite3", daily_backup=False)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(store.conn):
            store.conn.execute("INSERT INTO persons (id, household_id, name, id_type, id_number, relation_to_head, "
                               "created_at, updated_at) VALUES ('x', 'nowhere', '某', '其他', '1', '户主', '', '')")
    assert store.conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 0


def test_failed_transaction_saves_nothing(tmp_path):
    store = open_store(tmp_path / "x.sqlite3", daily_backup=False)
    before = store.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    with pytest.raises(RuntimeError):
        with transaction(store.conn):
            audit.append(store.conn, "tester", "x", "t", "1")
            raise RuntimeError("power cut")
    assert store.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before


def test_backups_keep_the_last_n_and_restore(tmp_path):
    db = tmp_path / "x.sqlite3"
    store = open_store(db, daily_backup=True)
    assert len(backup.list_backups(store.backups)) == 1  # the day's first start
    users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "admin-pass-1")
    open_store(db, daily_backup=True).close()
    assert len(backup.list_backups(store.backups)) == 1  # not again the same day
    with transaction(store.conn):
        audit.append(store.conn, "tester", "first", "t", "1")
    snapshot = backup.backup(store.conn, store.backups, keep=3)
    for _ in range(4):
        backup.backup(store.conn, store.backups, keep=3)
    assert len(backup.list_backups(store.backups)) == 3
    with transaction(store.conn):
        audit.append(store.conn, "tester", "second", "t", "2")
    store.close()
    kept = backup.list_backups(backup.backups_dir(db))[-1]
    safety = backup.restore(kept, db)
    assert safety is not None and safety.exists()
    restored = open_store(db, daily_backup=False)
    last_two = [r[0] for r in restored.conn.execute("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 2")]
    assert last_two == ["恢复数据库", "first"]  # the restore itself is on the record
    assert snapshot.name.endswith(".sqlite3")


def test_restore_refuses_a_damaged_file(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        backup.restore(bad, tmp_path / "x.sqlite3")


def _chain(tmp_path: Path, n: int = 5) -> Path:
    db = tmp_path / "a.sqlite3"
    store = open_store(db, daily_backup=False)
    for i in range(n):
        with transaction(store.conn):
            audit.append(store.conn, "tester", "change", "t", str(i), {"v": i}, {"v": i + 1})
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return db


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_log SET after = '{\"v\":99}' WHERE seq = 2",
    "UPDATE audit_log SET username = 'mallory' WHERE seq = 1",
    "DELETE FROM audit_log WHERE seq = 3",
    "DELETE FROM audit_log WHERE seq = 5",
    "UPDATE audit_log SET at = '2000-01-01' WHERE seq = 4",
])
def test_any_edit_or_deletion_of_a_past_entry_is_detected(tmp_path, tamper):
    db = _chain(tmp_path)
    assert check_database(db) == []
    conn = sqlite3.connect(db)
    conn.execute(tamper)
    conn.commit()
    conn.close()
    assert check_database(db)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    assert audit.verify(conn)
