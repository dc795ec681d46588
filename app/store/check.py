"""`check`: is the database intact, of a version this app knows, with a valid audit chain and every record
matching the audit entry that last wrote it?"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlite_utils

from app.store import anchors, audit, summary
from app.store.seal import SEALED
from app.store.seal_check import broken_seals
from app.store.schema import LATEST


def _record_problems(path: Path, tables: list[str], full: bool) -> list[str]:
    """Seals of `tables` (and, with `full`, references and half-written bills), on a read-only connection of its
    own."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        problems = []
        # A sealed record deleted or re-pointed outside the program is named by its seal, so without `full` only the
        # references of unsealed tables are followed (a county's bills and settlements would take as long as the rest
        # of check together).
        for table in [t for t in tables if full or t not in SEALED] if tables else []:
            fk = conn.execute(f"PRAGMA foreign_key_check({table})").fetchall()
            if fk:
                problems.append(f"有 {len(fk)} 条记录引用了不存在的记录（{table} 表）")
        if full and "visits" in tables:
            orphan = conn.execute("SELECT count(*) FROM visits v LEFT JOIN settlements s ON s.visit_id = v.id "
                                  "WHERE s.id IS NULL").fetchone()[0]
            if orphan:
                problems.append(f"有 {orphan} 次就诊没有结算记录（半途写入）")
        return problems + broken_seals(conn, [t for t in tables if t in SEALED])
    finally:
        conn.close()


def check_database(path: Path, full: bool = False) -> list[str]:
    """Every problem found, in Chinese; an empty list means the database is sound. Opens read-only.

    `full` runs SQLite's integrity_check (every index against its table, minutes on a county's file) instead of
    quick_check (every page and record), and verifies every audit entry's own digest besides each block's."""
    if not path.is_file():
        return [f"找不到数据库 {path}"]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
    except sqlite3.DatabaseError as exc:
        return [f"无法打开 {path}：{exc}"]
    problems: list[str] = []
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check")]
        if rows != ["ok"]:
            problems.extend(f"数据库完整性检查：{r}" for r in rows[:20])
            return problems
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > LATEST:
            problems.append(f"数据库版本 {version} 比本程序（{LATEST}）新，请用新版本检查")
            return problems
        if version == 0:
            problems.append("这不是救助通的数据库（没有表结构）")
            return problems
        missing = {"households", "persons", "visits", "settlements", "audit_log", "audit_head"} - set(
            sqlite_utils.Database(conn).table_names())
        if missing:
            problems.append(f"缺少数据表：{'、'.join(sorted(missing))}")
            return problems
        # The records (references, seals) are read on a second connection while this one walks the audit chain.
        # SQLite works without Python's lock, though much of its time is spent under its own process-wide locks,
        # so the two overlap only in part.
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        with ThreadPoolExecutor(1) as pool:
            records = pool.submit(_record_problems, path, tables, full)
            problems.extend(audit.verify(conn, full=full))
            problems.extend(records.result())
        if full:  # as long again as making the summary afresh (about a minute for a county)
            problems.extend(summary.drift(conn))
        problems.extend(anchors.against_newest_backup(conn, path))
    except sqlite3.DatabaseError as exc:
        problems.append(f"读取数据库出错：{exc}")
    finally:
        conn.close()
    return problems
