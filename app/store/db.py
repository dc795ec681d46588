"""Opening the database: WAL, foreign keys, durable commits, and one writer transaction at a time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store.errors import StoreError


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode; writes go through `transaction()` so nothing is half-saved."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # FULL: a commit survives a power cut, not only a crash of the app.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 15000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"无法打开数据库 {path}：{exc}。文件可能已损坏，可用 jiuzhu restore 恢复最近的备份") from None
    if mode.lower() != "wal" and str(path) != ":memory:":
        raise StoreError(f"数据库 {path} 无法切换到 WAL 模式（可能在只读或网络位置），请放在本机可写的文件夹")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One all-or-nothing write: BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise StoreError(_explain(exc)) from None
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK")
        raise StoreError(_explain(exc)) from None


def _explain(exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if "readonly" in text:
        return "数据库文件是只读的，无法保存。请检查文件权限或换到可写的文件夹；已保存的数据没有丢失"
    if "disk is full" in text or "database or disk is full" in text:
        return "磁盘已满，本次没有保存。请清理磁盘空间后重试；已保存的数据没有丢失"
    if "locked" in text or "busy" in text:
        return "数据库正被其他程序占用，请稍后重试"
    return f"数据库写入失败：{text}；本次没有保存，已保存的数据没有丢失"
