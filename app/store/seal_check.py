"""`check`'s look at the seals: every audited row against the audit entry that last wrote it, named in Chinese.

The comparison runs inside SQLite (the row's sealed values as json_object against the entry's `after`); only the
rows that differ come back to Python to be described."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from app.domain.labels import label_for
from app.store.seal import DELETED, KEYS, LABELS, POSITIONS, SEALED, present_columns, register, sealed_json

# At most this many rows are named per table; the count says how many more there are.
NAMED = 20



def _describe(conn: sqlite3.Connection, table: str, row: sqlite3.Row) -> str:
    """Which record, as a person would find it: a name, a bill's hospital and invoice, a user's login."""
    key = row[KEYS[table]]
    person = None
    if "person_id" in row.keys():
        person = conn.execute("SELECT name FROM persons WHERE id = ?", (row["person_id"],)).fetchone()
    if table == "visits":
        return f"{person['name'] if person else ''} 的就诊（{row['hospital']} 发票号 {row['invoice_number']}，{key}）"
    if table == "settlements":
        visit = conn.execute("SELECT hospital, invoice_number FROM visits WHERE id = ?", (row["visit_id"],)).fetchone()
        bill = f"{visit['hospital']} 发票号 {visit['invoice_number']}，" if visit else ""
        return f"{person['name'] if person else ''} 的结算（{bill}{key}）"
    if table == "persons":
        return f"人员 {row['name']}（{row['id_number']}）"
    if table == "users":
        return f"用户 {row['username']}"
    if table == "settings":
        return f"设置 {key}"
    if person is not None:
        return f"{person['name']} 的{LABELS[table]}（{key}）"
    return f"{LABELS[table]} {key}"


def _show(value) -> str:
    return "空" if value is None else str(value)


def _difference(conn: sqlite3.Connection, table: str, row: sqlite3.Row, seq: int) -> str:
    entry = conn.execute("SELECT after FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    try:
        logged = json.loads(entry["after"]) if entry and entry["after"] else {}
    except ValueError:
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    if not isinstance(logged, dict):
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    now = json.loads(row["_now"])
    fields = [f"{label_for(c)}：审计日志第 {seq} 条记为 {_show(logged.get(c))}，数据库中为 {_show(now.get(c))}"
              for c in SEALED[table] if logged.get(c) != now.get(c)]
    return "；".join(fields) or "内容与审计日志记载的不符"


def _unmatched(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None,
               blobs: bool) -> Iterator[sqlite3.Row]:
    """Rows (with rowid in `rows`, if given) whose sealed values are not what their last sealing entry recorded (or
    that have no such entry)."""
    key = KEYS[table]
    # The columns the table has: a database not yet upgraded was sealed over those (a later migration re-seals).
    now = sealed_json(table, blobs=blobs, columns=present_columns(conn, table))
    skip = (f" AND (t.key IS NULL OR t.key NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))}))"
            if table == "settings" else "")
    if rows is not None:
        skip += f" AND t.rowid BETWEEN {int(rows[0])} AND {int(rows[1])}"
    query = (f"SELECT t.*, {now} AS _now, a.row_hash AS _seal, a.seq AS _seq FROM {table} t LEFT JOIN audit_log a "
             f"ON a.seq = (SELECT max(seq) FROM audit_log WHERE entity = ? AND entity_id = t.{key} "
             f"AND row_hash IS NOT NULL) WHERE (a.seq IS NULL OR a.row_hash = ? OR a.after IS NOT {now}){skip}")
    yield from conn.execute(query, (table, DELETED))


# Lines naming the first NAMED problems of a part, and how many it found in all.
Found = tuple[list[str], int]


def changed_rows(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None = None) -> Found:
    """Rows of `table` (with rowid in `rows`) changed, added or brought back outside the program."""
    register(conn)
    try:
        return _changed(conn, table, rows, blobs=False)
    except sqlite3.OperationalError as exc:
        if "BLOB" not in str(exc):
            raise
        return _changed(conn, table, rows, blobs=True)  # one was put in a sealed column outside the program


def _changed(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None, blobs: bool) -> Found:
    found: list[str] = []
    count = 0
    for row in _unmatched(conn, table, rows, blobs):
        count += 1
        if len(found) >= NAMED:
            continue
        seal, seq = row["_seal"], row["_seq"]
        what = _describe(conn, table, row)
        if seal is None:
            found.append(f"{what}：审计日志中没有写入它的记录（在程序之外添加，或审计日志被截去）")
        elif seal == DELETED:
            found.append(f"{what}：审计日志第 {seq} 条记载它已删除，数据库中却仍有")
        else:
            found.append(f"{what}：{_difference(conn, table, row, seq)}（在程序之外被改动）")
    return found, count


def vanished_rows(conn: sqlite3.Connection, table: str) -> Found:
    """Records of `table` the log wrote and did not delete that are gone from it."""
    # NOT EXISTS, not NOT IN: one row with a NULL key would make NOT IN match nothing and hide every deletion.
    # The last sealing entry of each record comes from the index alone; the entry itself is read only for a
    # record that is missing, to tell one deleted through the program from one deleted outside it.
    gone = conn.execute(
        f"SELECT entity_id, seq FROM (SELECT entity_id, max(seq) AS seq FROM audit_log WHERE entity = ? "
        f"AND row_hash IS NOT NULL GROUP BY entity_id) g WHERE NOT EXISTS "
        f"(SELECT 1 FROM {table} t WHERE t.{KEYS[table]} = g.entity_id) "
        f"AND (SELECT row_hash FROM audit_log WHERE seq = g.seq) != ?"
        + (f" AND entity_id NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))})" if table == "settings" else ""),
        (table, DELETED)).fetchall()
    return [f"{LABELS[table]} {g['entity_id']}：审计日志第 {g['seq']} 条写入过它，数据库中却没有了（在程序之外被删除）"
            for g in gone[:NAMED]], len(gone)


def named(table: str, parts: Iterable[Found]) -> list[str]:
    """The lines of one table's parts: the first NAMED, then how many more."""
    lines: list[str] = []
    count = 0
    for found, n in parts:
        lines.extend(found)
        count += n
    out = lines[:NAMED]
    if count > len(out):
        out.append(f"……{LABELS[table]}另有 {count - len(out)} 条同样的问题")
    return out


def sealed_log(conn: sqlite3.Connection) -> bool:
    """Whether the log has seals at all (a database older than seals is checked only to be upgraded)."""
    return "row_hash" in {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}


def broken_seals(conn: sqlite3.Connection, tables: Iterable[str] = tuple(SEALED)) -> list[str]:
    """Every audited row (of `tables`) whose content no longer matches its last audited write, and every row that
    vanished."""
    if not sealed_log(conn):
        return []
    problems: list[str] = []
    for table in tables:
        problems.extend(named(table, [changed_rows(conn, table), vanished_rows(conn, table)]))
    return problems
