"""`check`: is the database intact, of a version this app knows, with a valid audit chain and every record
matching the audit entry that last wrote it?"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from app.store import anchors, audit, summary
from app.store.seal_check import broken_seals
from app.store.schema import LATEST


def check_database(path: Path) -> list[str]:
    """Every problem found, in Chinese; an empty list means the database is sound. Opens read-only."""
    if not path.is_file():
        return [f"找不到数据库 {path}"]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
    except sqlite3.DatabaseError as exc:
        return [f"无法打开 {path}：{exc}"]
    problems: list[str] = []
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
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
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"有 {len(fk)} 条记录引用了不存在的记录（如 {fk[0][0]} 表）")
        orphan = conn.execute("SELECT count(*) FROM visits v LEFT JOIN settlements s ON s.visit_id = v.id "
                              "WHERE s.id IS NULL").fetchone()[0]
        if orphan:
            problems.append(f"有 {orphan} 次就诊没有结算记录（半途写入）")
        problems.extend(audit.verify(conn))
        problems.extend(broken_seals(conn))
        problems.extend(summary.drift(conn))
        problems.extend(anchors.against_newest_backup(conn, path))
    except sqlite3.DatabaseError as exc:
        problems.append(f"读取数据库出错：{exc}")
    finally:
        conn.close()
    return problems
