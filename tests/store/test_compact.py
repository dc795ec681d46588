"""A new database has 16 KiB pages; `jiuzhu compact` rewrites an older one whole, keeps every record and the audit
chain, says so in the log, and changes nothing while another window has the file open, when the disk lacks room,
when the file is not this version's 救助通 database, or when it stops half-way."""

from __future__ import annotations

import sqlite3
from collections import namedtuple

import pytest

from app.store import backup, compact as compacting
from app.store.integrity import header_problem
from app.store.check import check_database
from app.store.db import PAGE_SIZE
from app.store.errors import DiskFull, StoreError
from app.store.store import open_store
from tests.faults.killing import cli
from tests.services.conftest import demo_county


def _pragma(db, name):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _counts(db) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("persons", "visits", "settlements", "audit_log")}
    finally:
        conn.close()


@pytest.fixture
def old_county(tmp_path):
    """A county written in 4 KiB pages, as every database made before 16 KiB pages was."""
    db = tmp_path / "county.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")  # an empty file takes the page size when it is first written
    conn.close()
    demo_county(db, 12, 2025, 3)
    assert _pragma(db, "page_size") == 4096
    return db


def test_a_new_database_has_the_programs_page_size(tmp_path):
    db = tmp_path / "new.sqlite3"
    open_store(db, daily_backup=False).close()
    assert _pragma(db, "page_size") == PAGE_SIZE == 16384


def test_compact_rewrites_the_file_keeps_every_record_and_records_itself(old_county):
    before = _counts(old_county)
    code, out, err = cli("compact", "--db", str(old_county))
    assert code == 0, err
    assert "每页 4,096 → 16,384 字节" in out
    assert _pragma(old_county, "page_size") == 16384
    assert _pragma(old_county, "journal_mode") == "wal"
    after = _counts(old_county)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}
    assert after["audit_log"] == before["audit_log"] + 1
    assert check_database(old_county) == []
    conn = sqlite3.connect(f"file:{old_county}?mode=ro", uri=True)
    action, entity, logged = conn.execute("SELECT action, entity, after FROM audit_log ORDER BY seq DESC LIMIT 1"
                                          ).fetchone()
    conn.close()
    assert (action, entity) == ("整理数据库文件", "database") and '"page_size":[4096,16384]' in logged


def test_compact_is_refused_while_a_window_has_the_database_open(old_county):
    store = open_store(old_county, daily_backup=False)
    try:
        with pytest.raises(StoreError, match="正在使用中.*未整理，什么也没有改动"):
            compacting.compact(old_county)
    finally:
        store.close()
    assert _pragma(old_county, "page_size") == 4096 and _pragma(old_county, "journal_mode") == "wal"


def test_compact_is_refused_when_the_disk_lacks_room(old_county, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(compacting.shutil, "disk_usage", lambda folder: usage(10**9, 10**9, 1000))
    size = old_county.stat().st_size
    with pytest.raises(DiskFull, match="可用空间.*未整理"):
        compacting.compact(old_county)
    assert _pragma(old_county, "page_size") == 4096 and old_county.stat().st_size == size


def test_compact_refuses_a_file_that_is_not_a_database(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    code, _, err = cli("compact", "--db", str(junk))
    assert code != 0 and "不能整理" in err
    assert junk.read_bytes() == b"not a database" * 100


def test_compact_refuses_a_database_of_another_program_or_version(tmp_path, old_county):
    other = tmp_path / "notes.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(StoreError, match="不是救助通的数据库"):
        compacting.compact(other)
    assert _pragma(other, "page_size") == 4096 and _pragma(other, "user_version") == 0
    conn = sqlite3.connect(old_county)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="比本程序.*新，未整理"):
        compacting.compact(old_county)
    assert _pragma(old_county, "page_size") == 4096


def test_a_compact_stopped_half_way_leaves_the_database_as_it_was(old_county, monkeypatch):
    before = old_county.read_bytes()

    def killed(staged, head):
        assert staged.stat().st_size > 0  # the copy was being made beside the database, which was only read
        raise KeyboardInterrupt

    monkeypatch.setattr(compacting, "_ready", killed)
    with pytest.raises(KeyboardInterrupt):
        compacting.compact(old_county)
    assert old_county.read_bytes() == before
    assert not old_county.with_name(old_county.name + ".compacting").exists()
    assert check_database(old_county) == []


def test_a_copy_left_by_a_killed_compact_is_removed_at_the_next_start(old_county):
    left = old_county.with_name(old_county.name + ".compacting")
    left.write_bytes(b"half a database")
    assert left in backup.clear_leftovers(old_county) and not left.exists()


def test_a_file_shorter_than_its_header_says_is_whole_again_once_its_journal_is_played_back(old_county):
    """A write in rollback-journal mode stopped half-way (a VACUUM) leaves a journal that SQLite plays back at the next
    open: the file is not damaged, and the start must let SQLite do it rather than call it damaged."""
    conn = sqlite3.connect(old_county)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    size = old_county.stat().st_size
    with old_county.open("r+b") as f:
        f.truncate(size - 4096)
    assert "文件不完整" in (header_problem(old_county) or "")
    old_county.with_name(old_county.name + "-journal").write_bytes(b"\0" * 512)
    assert header_problem(old_county) is None
