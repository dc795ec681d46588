"""`check`: is the database intact, of a version this app knows, with a valid audit chain and every record
matching the audit entry that last wrote it?"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.store import anchors, audit, check_parts, integrity, risk_summary, seal_check, summary
from app.store.schema import LATEST


def check_database(path: Path, full: bool = False, workers: int | None = None) -> list[str]:
    """Every problem found, in Chinese; an empty list means the database is sound. Opens read-only.

    `full` runs SQLite's integrity_check (every index against its table, minutes on a county's file) instead of
    quick_check (every page and record), and verifies every audit entry's own digest besides each block's.
    `workers`: processes to spread the work over (by default one per core for a large file, none for a small one).
    """
    if not path.is_file():
        return [f"找不到数据库 {path}"]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
    except sqlite3.DatabaseError as exc:
        return [f"无法打开 {path}：{integrity.describe(exc)}"]
    problems: list[str] = []
    pages = None
    runner = check_parts.Runner(path, check_parts.workers_for(path) if workers is None else workers)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > LATEST:
            return [f"数据库版本 {version} 比本程序（{LATEST}）新，请用新版本检查"]
        if version == 0:
            pages = check_parts.run(path, ("pages", full, None))[1][0]
            return pages or ["这不是救助通的数据库（没有表结构）"]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        missing = {"households", "persons", "visits", "settlements", "audit_log", "audit_head"} - set(tables)
        if missing:
            return [f"缺少数据表：{'、'.join(sorted(missing))}"]
        # SQLite's check of every page, the seals of every record and the sealed blocks of the log are pieces run
        # side by side (check_parts); the chain's links, its unsealed tail and the head are walked here meanwhile.
        pages = runner.submit(check_parts.page_pieces(tables, full))
        records = runner.submit(check_parts.record_pieces(conn, tables) + [("references", tables, full)])
        pending = []

        def blocks_checked(spans: list[tuple]) -> list[str]:
            pending.append(runner.submit(check_parts.block_pieces(spans)))
            return []

        chain = audit.verify(conn, full=full, blocks_checked=None if full else blocks_checked,
                             anchored=anchors.newest_backup_count(conn, path))
        damage = _damage(pages)
        if damage:
            return damage  # a damaged file: what else is read from it means little
        blocks = check_parts.grouped([r for wait in pending for r in wait()])
        if blocks and not chain:  # name the broken links and the missing entries around what the blocks found
            chain = audit.chain_problems(conn)
        problems.extend(chain + [p for p in blocks if p not in chain])
        results = records()
        again = check_parts.disagreeing(results)
        problems.extend(check_parts.grouped([r for r in results if r[0] not in again]))
        problems.extend(_looked_up(conn, again))
        if full:  # as long again as making the summary afresh (about a minute for a county)
            problems.extend(summary.drift(conn) + risk_summary.drift(conn))
        problems.extend(anchors.against_backups(conn, path))
    except sqlite3.DatabaseError as exc:
        damage = _damage(pages)
        problems.extend(damage or [f"读取数据库出错：{integrity.describe(exc)}"])
    finally:
        runner.close()
        conn.close()
    return problems


def _looked_up(conn: sqlite3.Connection, tables: set[str]) -> list[str]:
    """The seals of tables whose tallies disagreed, checked again record by record in one snapshot (the pieces each
    read their own, and the program may have written between them)."""
    if not tables:
        return []
    conn.execute("BEGIN")
    try:
        return [line for t in sorted(tables) for line in seal_check.named(t, seal_check.table_parts(conn, t))]
    finally:
        conn.execute("COMMIT")


def _damage(pages) -> list[str]:
    """What SQLite's page check found (nothing if it did not run or could not)."""
    if pages is None:
        return []
    try:
        return check_parts.grouped(pages())
    except sqlite3.DatabaseError as exc:
        return [f"读取数据库出错：{integrity.describe(exc)}"]
