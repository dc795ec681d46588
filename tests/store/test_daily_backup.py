"""The daily backup in steps on its own connection: saves go on meanwhile, stopping it keeps nothing."""

from __future__ import annotations

import sqlite3

import pytest

from app.services.session import SYSTEM
from app.store import anchors, backup, records
from app.store.db import transaction
from app.store.store import open_store


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "STEP_BYTES", 2 * 4096)  # many steps on a small database
    monkeypatch.setattr(backup, "STEP_PAUSE", 0)
    store = open_store(tmp_path / "county.sqlite3", daily_backup=False)
    with transaction(store.conn):
        for n in range(20):
            records.put_setting(store.conn, SYSTEM, f"filler.{n}", "备份" * 4000, "测试数据")
    yield store
    store.close()


def _setting(path, key):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row and row[0]
    finally:
        conn.close()


def test_a_save_during_the_backup_is_not_blocked_and_the_backup_does_not_start_over(store):
    seen = []

    def progress(done, total):
        if not seen:  # a caseworker saves while the copy is under way
            with transaction(store.conn):
                records.put_setting(store.conn, SYSTEM, "saved_during", "1", "备份时保存")
        seen.append((done, total))

    made = backup.daily_backup(store.path, progress)
    assert len(seen) > 5 and all(b[0] > a[0] for a, b in zip(seen, seen[1:])), seen  # steps only forward
    assert seen[-1][0] == seen[-1][1]
    assert _setting(store.path, "saved_during") == '"1"'
    # The backup is the database as it was when it began, whole, with its head beside it.
    assert _setting(made, "saved_during") is None and _setting(made, "filler.19")
    assert sqlite3.connect(made).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert anchors.sidecar(made).exists()
    assert backup.daily_backup(store.path, progress) is None  # once a day


def test_stopping_keeps_nothing_and_the_next_start_backs_up_again(store):
    calls = []

    def stop_after_two(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise backup.BackupCancelled("程序正在退出")

    with pytest.raises(backup.BackupCancelled):
        backup.daily_backup(store.path, stop_after_two)
    assert list(store.backups.iterdir()) == []  # no partial copy, no head file
    made = backup.daily_backup(store.path, lambda done, total: None)
    assert [p.name for p in backup.list_backups(store.backups)] == [made.name]


def test_a_copy_left_by_a_killed_backup_is_removed(store):
    store.backups.mkdir()
    left = store.backups / "jiuzhu-20250101-000000-000000-daily.partial"
    left.write_bytes(b"half")
    made = backup.daily_backup(store.path, lambda done, total: None)
    assert not left.exists() and made.exists()
