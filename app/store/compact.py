"""`jiuzhu compact`: the database file rewritten whole (SQLite's VACUUM), its free pages given back and its pages made
db.PAGE_SIZE bytes, with the program's windows closed, recorded in the audit log."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.store import audit, backup
from app.store.db import PAGE_SIZE, transaction
from app.store.errors import DiskFull, StoreError
from app.store.integrity import describe, header_problem

# VACUUM builds the new file in the temporary folder, then copies it over the database with a rollback journal of
# the pages it replaces: up to the file's size in each. A tenth more for what SQLite writes beside them.
MARGIN = 1.1


@dataclass(frozen=True)
class Compacted:
    """The file before and after: its size in bytes and its page size."""
    bytes_before: int
    bytes_after: int
    page_before: int
    page_after: int


def compact(db_path: Path, user: object = "system") -> Compacted:
    """Rewrite the database at `db_path` whole; refused (nothing changed) while another connection has it open or
    when the disks lack room. A VACUUM that stops half-way (a crash, a power cut) is rolled back from its journal
    the next time the database is opened, so the file is either as it was or rewritten."""
    if not db_path.is_file():
        raise StoreError(f"找不到数据库 {db_path}")
    problem = header_problem(db_path)  # a damaged page stops the VACUUM itself, which is then undone
    if problem:
        raise StoreError(f"{db_path} 不能整理：{problem}")
    _room(db_path)
    guard = backup.alone(db_path, "整理")
    try:
        before = _size(db_path), guard.execute("PRAGMA page_size").fetchone()[0]
        try:
            # The page size of a WAL database cannot change: out of WAL for the rewrite, back after it. The guard's
            # exclusive lock is held throughout, so nothing opens the file in between.
            guard.execute("PRAGMA journal_mode = DELETE")
            guard.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            guard.execute("VACUUM")
        except sqlite3.Error as exc:
            raise _failed(exc, db_path) from None
        finally:
            guard.execute("PRAGMA journal_mode = WAL")
        after_page = guard.execute("PRAGMA page_size").fetchone()[0]
    finally:
        guard.close()
    done = Compacted(before[0], _size(db_path), before[1], after_page)
    _record(db_path, user, done)
    return done


def _size(db_path: Path) -> int:
    wal = Path(f"{db_path}-wal")
    return db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _room(db_path: Path) -> None:
    """Refuse before starting when the database's disk or the temporary folder's has not room for the rewrite."""
    need = int(_size(db_path) * MARGIN)
    places = {db_path.resolve().parent: need}
    temp = Path(tempfile.gettempdir())
    try:
        same = temp.stat().st_dev == db_path.resolve().parent.stat().st_dev
    except OSError:
        same = False
    if same:
        places[db_path.resolve().parent] = 2 * need
    else:
        places[temp] = need
    for folder, wanted in places.items():
        free = shutil.disk_usage(folder).free
        if free < wanted:
            raise DiskFull(f"整理数据库需要 {folder} 所在的磁盘有 {wanted / 1e9:.1f} GB 可用空间，现只有 {free / 1e9:.1f} GB，"
                           f"未整理，什么也没有改动。请清理磁盘后再整理")


def _failed(exc: sqlite3.Error, db_path: Path) -> StoreError:
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "full" in str(exc):
        return DiskFull(f"整理数据库时磁盘已满，整理已撤销，数据库 {db_path} 未变。请清理磁盘后再整理")
    return StoreError(f"整理数据库没有完成（{describe(exc)}），已撤销，数据库 {db_path} 未变")


def _record(db_path: Path, user: object, done: Compacted) -> None:
    from app.store.store import open_store  # compact sits below the store; the entry is written through it

    store = open_store(db_path, daily_backup=False)
    try:
        with transaction(store.conn):
            audit.append(store.conn, user, "整理数据库文件", "database", "compact", None,
                         {"bytes": [done.bytes_before, done.bytes_after],
                          "page_size": [done.page_before, done.page_after]})
    finally:
        store.close()
