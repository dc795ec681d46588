"""Opening the database: WAL, foreign keys, durable commits, one writer transaction at a time, and SQLite's
errors (read-only, disk full, damaged, busy) turned into Chinese messages naming the file and what to do."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store import seal
from app.store.errors import DatabaseDamaged, DatabaseReadOnly, DiskFull, StoreError

KEPT = "已保存的数据没有丢失"
# Bytes per page of a database made from now on (SQLite's default is 4,096). A county's file is read whole by `check`,
# statistics and exports: with 16 KiB pages each read is a quarter as many system calls and page lookups (check on the
# benchmark county 17.0 → 15.0 s, the file 7% smaller), while a bill's save writes ~16 KiB more of WAL per page it
# touches (p50 1.9 → 2.6 ms, p95 8.5 → 5.0 ms on a 10,000-household county; 64 KiB pages gave 5.9 ms). A database made
# before keeps its pages until `jiuzhu compact` rewrites it (app/store/compact.py).
PAGE_SIZE = 16_384
# How much WAL a connection lets grow before it copies the pages back into the file.
WAL_BYTES = 4_096_000


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode; writes go through `transaction()` so nothing is half-saved."""
    conn = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        seal.register(conn)
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # takes effect only on a new, empty file
        # SQLite's checkpoint after 1,000 pages of WAL, whatever their size: kept at its 4 MB of 4 KiB pages.
        pages = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA wal_autocheckpoint = {max(1, WAL_BYTES // pages)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # FULL: a commit survives a power cut, not only a crash of the app.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 15000")
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise translate(exc, Path(path), opening=True) from None
    if mode.lower() != "wal" and str(path) != ":memory:":
        conn.close()
        raise StoreError(f"数据库 {path} 无法切换到 WAL 模式（可能在只读或网络位置），请放在本机可写的文件夹")
    return conn


def ensure_writable(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, with the reason, a database this process cannot write (checked at open, before any work starts).

    SQLite opens a file it may not write read-only without saying so, and BEGIN IMMEDIATE still succeeds in WAL
    mode; only a page write fails. Rewriting the schema version with its own value inside a rolled-back
    transaction is such a write, and leaves nothing behind."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            _rollback(conn)
    except sqlite3.Error as exc:
        raise translate(exc, path, opening=True) from None


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One all-or-nothing write: BEGIN IMMEDIATE … COMMIT, rolled back on any error.

    An SQLite error a person can act on (disk full, read-only, damaged, busy, I/O) becomes a StoreError saying so,
    also when it happens inside the transaction; anything else (a constraint, a bug) is raised as it is."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise translate(exc, db_path(conn)) from None
    try:
        yield conn
    except BaseException as exc:
        _rollback(conn)
        known = translate(exc, db_path(conn), strict=True) if isinstance(exc, sqlite3.Error) else None
        if known is not None:
            raise known from None
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise translate(exc, db_path(conn)) from None


@contextmanager
def commits_flushed_at_end(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """For a long job of many small transactions (re-settling a year, one person each): their commits reach the disk
    together when the job ends or stops, instead of one flush each.

    A flush per commit is most of such a job's time (on Windows each is a FlushFileBuffers). In WAL mode without it
    the file stays consistent after a power cut; only the job's last commits may be lost, and running the job again
    redoes them. A crash of the app loses nothing (the system has the writes). A bill saved meanwhile by another
    connection keeps its own flush."""
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        yield conn
    finally:
        conn.execute("PRAGMA synchronous = FULL")
        path = db_path(conn)
        wal = Path(f"{path}-wal") if path is not None else None
        try:
            if wal is not None and wal.exists():
                with open(wal, "rb+") as f:  # the job's commits are in the WAL: flush it once for all of them
                    os.fsync(f.fileno())
        except OSError:  # the WAL could not be opened here: a checkpoint flushes it on SQLite's own handle
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _rollback(conn: sqlite3.Connection) -> None:
    # After SQLITE_FULL or an I/O error SQLite may have rolled back already; a second ROLLBACK would raise and hide
    # the error that matters.
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def db_path(conn: sqlite3.Connection) -> Path | None:
    """The file behind a connection (None in memory)."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return None
    return Path(row[2]) if row and row[2] else None


def translate(exc: BaseException, path: Path | None, opening: bool = False, strict: bool = False) -> StoreError | None:
    """The StoreError for an SQLite error, naming the file and what to do; with `strict`, None for an error that is
    not about the database's file, disk or lock (a constraint, a programming error)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    where = path or "数据库"
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return DatabaseReadOnly(read_only_message(path))
    if name == "SQLITE_FULL" or "disk is full" in text:
        folder = path.parent if path else "数据库所在的文件夹"
        return DiskFull(f"磁盘已满：{folder} 所在的磁盘没有剩余空间，本次没有保存（已全部撤销）。"
                        f"请删除不需要的文件、清空回收站后重试；{KEPT}")
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text or "not a database" in text:
        from app.store.integrity import describe

        return DatabaseDamaged(f"数据库 {where} 已损坏（{describe(exc)}）。请用最近的备份恢复（jiuzhu restore），"
                               f"不要删除或覆盖这个文件", path, detail=describe(exc))
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return StoreError("数据库正被其他程序占用，请稍后重试")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        if path is not None and not _writable(path):
            return DatabaseReadOnly(read_only_message(path))
        return StoreError(f"无法打开数据库 {where}：文件夹不存在或没有访问权限，请检查路径")
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return StoreError(f"读写数据库 {where} 时出错（磁盘 I/O 错误），本次没有保存。请检查磁盘、U盘是否已拔出，"
                          f"网络位置是否断开；{KEPT}")
    if strict:
        return None
    if opening:
        return StoreError(f"无法打开数据库 {where}：{text}")
    return StoreError(f"数据库写入失败：{text}；本次没有保存，{KEPT}")


def _writable(path: Path) -> bool:
    folder = path.parent
    files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))]
    return os.access(folder, os.W_OK) and all(os.access(f, os.W_OK) for f in files if f.exists())


def read_only_message(path: Path | None) -> str:
    """Which of the file, its companions, its folder or its disk is read-only, and what to do."""
    if path is None:
        return f"数据库是只读的，无法保存。请检查文件权限或换到可写的文件夹；{KEPT}"
    folder = path.parent
    try:
        read_only_disk = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # statvfs: not on Windows
        read_only_disk = False
    if read_only_disk:
        return (f"数据库 {path} 位于只读的位置（只读的磁盘、写保护的U盘或只读的网络共享），救助通无法在其中保存。"
                f"请把数据库复制到本机可写的文件夹，再用 --db 指定它；{KEPT}")
    if path.exists() and not os.access(path, os.W_OK):
        return (f"数据库文件 {path} 是只读的，救助通无法在其中保存。请在文件属性中取消“只读”，"
                f"或请管理员给本用户写权限后重试；{KEPT}")
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists() and not os.access(companion, os.W_OK):
            return (f"数据库的日志文件 {companion} 是只读的（可能由其他用户创建），救助通无法保存。"
                    f"请给本用户该文件的写权限，或由创建它的用户打开一次救助通后正常退出；{KEPT}")
    if not os.access(folder, os.W_OK):
        return (f"数据库所在的文件夹 {folder} 不可写：救助通需要在其中写入日志文件（{path.name}-wal）。"
                f"请给本用户该文件夹的写权限，或把数据库移到可写的文件夹；{KEPT}")
    return f"数据库 {path} 是只读的（或以只读方式打开），无法保存。请检查文件和所在文件夹的权限；{KEPT}"
