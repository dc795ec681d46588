"""Is a database file whole? The quick look taken at every open, with the damage described in Chinese.

Cost (measured on this project's 2-core machine): PRAGMA quick_check reads every page, so it takes time in
proportion to the file: the 500,000-person benchmark county (3.2 GB) took 30 s with a cold disk cache and 2.0 s
warm; the 300-household demo (1.6 MB) a few milliseconds. So a file up to QUICK_CHECK_MAX_BYTES (a township's
database: ~2 s cold at worst) gets the full quick_check at every open; a larger one gets what costs milliseconds
whatever its size: the header (magic, page size, and the page count it records against the file's length, which
catches a truncated copy), the schema, and the first and last row of every table (the b-tree's both edges, where a
cut-off or overwritten tail shows). Damage in the middle of such a large file is found by `jiuzhu check`
(integrity_check) and by restore, not at every start.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

QUICK_CHECK_MAX_BYTES = 256 * 2**20
MAGIC = b"SQLite format 3\x00"


def header_problem(path: Path) -> str | None:
    """What the first 100 bytes say is wrong with the file, or None.

    Call it before this process opens an SQLite connection to the file, never while one is open: closing any other
    descriptor of the file drops all of the process's POSIX locks on it, SQLite's too. Another program closing the
    database then believes itself the last user and deletes the WAL under the open connection, and every change
    written afterwards is lost (it happened: a void saved in the GUI vanished after a `sqlite3` query)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(MAGIC):
        return "文件开头不是 SQLite 数据库的格式：它不是救助通的数据库，或开头已被覆盖"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The recorded page count is valid only if written by the same change as the change counter (offsets 24, 92);
    # with a WAL holding newer pages the main file may lag behind, so only a file without one is measured.
    valid = head[24:28] == head[92:96]
    wal = path.with_name(path.name + "-wal")
    # A rollback journal beside it (a VACUUM or a write stopped half-way) holds the pages that make the file whole
    # again: SQLite puts them back when the file is next opened, so the count is not the file's yet.
    journal = path.with_name(path.name + "-journal")
    pending = any(f.exists() and f.stat().st_size for f in (wal, journal))
    if valid and pages and pages * page_size > size and not pending:
        return (f"文件不完整：按文件头应有 {pages * page_size:,} 字节，实际只有 {size:,} 字节"
                f"（可能复制到一半、磁盘出错或被截断）")
    return None


def damage(conn: sqlite3.Connection, path: Path) -> str | None:
    """What is wrong with the open database at `path`, in Chinese, or None if it looks whole.

    The header is not read here: see header_problem's note. Callers read it before they connect."""
    try:
        if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
            if rows != ["ok"]:
                return f"内部结构损坏：{rows[0].splitlines()[-1]}"
            return None
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        for table, sql in tables:
            key = _key(conn, table, sql)
            for order in ("", " DESC"):
                conn.execute(f'SELECT * FROM "{table}" ORDER BY {", ".join(c + order for c in key)} LIMIT 1'
                             ).fetchall()
    except sqlite3.DatabaseError as exc:
        return describe(exc)
    return None


def _key(conn: sqlite3.Connection, table: str, sql: str | None) -> list[str]:
    """The columns a table's b-tree is ordered by: rowid, or a table without rowid's primary key."""
    if "WITHOUT ROWID" not in (sql or "").upper():
        return ["rowid"]
    pk = sorted((r[5], r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")') if r[5])
    return [f'"{name}"' for _, name in pk]


def describe(exc: BaseException) -> str:
    """SQLite's word for the damage, in Chinese."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_NOTADB" or "not a database" in str(exc):
        return "文件不是 SQLite 数据库，或开头已被覆盖"
    if name.startswith("SQLITE_CORRUPT") or "malformed" in str(exc):
        return "内部结构损坏（database disk image is malformed）"
    return f"读取出错：{exc}"
