"""`jiuzhu compact`: the database file rewritten whole (SQLite's VACUUM INTO a copy beside it, then put in its place),
its free pages given back and its pages made db.PAGE_SIZE bytes, with the program's windows closed, recorded in the
audit log."""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.store import anchors, audit, backup
from app.store.db import PAGE_SIZE, transaction
from app.store.errors import DatabaseDamaged, DiskFull, StoreError
from app.store.integrity import describe, header_problem
from app.store.schema import LATEST, is_ours

# The copy is built beside the database (the same disk, so that putting it in place is a rename): the file's size
# again, and a tenth more for what SQLite writes beside it.
MARGIN = 1.1
STAGED = ".compacting"


@dataclass(frozen=True)
class Compacted:
    """The file before and after: its size in bytes and its page size."""
    bytes_before: int
    bytes_after: int
    page_before: int
    page_after: int


def compact(db_path: Path, user: object = "system") -> Compacted:
    """Rewrite the 救助通 database at `db_path` into a copy beside it and put the copy in its place; refused (nothing
    changed) while another connection has it open, when it is not a database of this version, or when the disk lacks
    room. The database itself is only read until the copy is whole, checked and on disk: stopped before that (a
    crash, a power cut), the database is as it was and the half-made copy is removed at the next start."""
    if not db_path.is_file():
        raise StoreError(f"找不到数据库 {db_path}")
    problem = header_problem(db_path)
    if problem:
        raise StoreError(f"{db_path} 不能整理：{problem}")
    real = db_path.resolve()  # a link to the database stays a link: the file it points to is replaced
    staged = real.with_name(real.name + STAGED)
    _room(real)
    guard = backup.alone(db_path, "整理")
    try:
        _ours(guard, db_path)
        page_before, head = guard.execute("PRAGMA page_size").fetchone()[0], anchors.local_head(guard)
        size_before = _size(real)
        staged.unlink(missing_ok=True)
        try:
            guard.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # taken by VACUUM INTO for the copy it writes
            guard.execute("VACUUM INTO ?", (str(staged),))
            os.chmod(staged, real.stat().st_mode & 0o777)
            page_after = _ready(staged, head)
        except sqlite3.Error as exc:
            staged.unlink(missing_ok=True)
            raise _failed(exc, db_path) from None
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
    finally:
        guard.close()
    backup.replace_file(staged, real, "整理")
    done = Compacted(size_before, _size(real), page_before, page_after)
    _record(db_path, user, done)
    return done


def _ours(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse a file this program would not open as it is: not a 救助通 database, or of another version (an older one is
    upgraded by opening it in the program first; a newer one is for a newer program)."""
    if not is_ours(conn):
        raise StoreError(f"{db_path} 不是救助通的数据库，未整理")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > LATEST:
        raise StoreError(f"{db_path} 的版本（{version}）比本程序（{LATEST}）新，未整理；请用新版本的程序整理")
    if version < LATEST:
        raise StoreError(f"{db_path} 是旧版本（{version}）的数据库，未整理；请先用本程序打开一次（自动升级），再整理")


def _ready(staged: Path, head: anchors.Head) -> int:
    """Make the copy a WAL database, check it (SQLite's page check, and the audit chain ending where the database's
    does) and flush it to disk; its page size."""
    conn = sqlite3.connect(str(staged), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        found = [r[0] for r in conn.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            raise StoreError(f"整理出的副本没有通过完整性检查（{found[0]}），已删除，数据库未变")
        copied = anchors.local_head(conn)
        if (copied.count, copied.hash) != (head.count, head.hash):
            raise StoreError("整理出的副本的审计日志与数据库的不一致，已删除，数据库未变")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with open(staged, "rb+") as f:
        os.fsync(f.fileno())
    return page


def _size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _room(real: Path) -> None:
    """Refuse before starting when the database's disk has not room for the copy."""
    need = int(_size(real) * MARGIN)
    free = shutil.disk_usage(real.parent).free
    if free < need:
        raise DiskFull(f"整理数据库需要 {real.parent} 所在的磁盘有 {_amount(need)} 可用空间，现只有 {_amount(free)}，"
                       f"未整理，什么也没有改动。请清理磁盘后再整理")


def _amount(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _failed(exc: sqlite3.Error, db_path: Path) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or "full" in str(exc):
        return DiskFull(f"整理数据库时磁盘已满，整理出的副本已删除，数据库 {db_path} 未变。请清理磁盘后再整理")
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in str(exc):
        return DatabaseDamaged(f"数据库 {db_path} 已损坏（{describe(exc)}），未整理。请用 jiuzhu check 检查，必要时用最近的"
                               f"备份恢复（jiuzhu restore）")
    return StoreError(f"整理数据库没有完成（{describe(exc)}），整理出的副本已删除，数据库 {db_path} 未变")


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
