"""`check`'s look at the seals: every audited row against the audit entry that last wrote it, named in Chinese.

The comparison runs inside SQLite (the row's sealed values as json_object against the entry's `after`); only the
rows that differ come back to Python to be described.

From schema 15 each row names the entry that sealed it (seal.POINTER), so the row is compared with that entry, read by
its number. That the named entries are each record's last is shown per table without looking each record up: every
named entry is one of its own record's sealing entries, so it is at most that record's last; the rows are as many as
the records whose last entry did not delete them, and none of the deleted ones is present; so if the named numbers
add up to the sum of the last numbers, each is the last one, and no record is missing. Only when the counts or sums
differ are the records looked up one by one, to name them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from app.domain.labels import COLUMN_LABELS, VALUE_NAMES, label_for
from app.store.seal import DELETED, KEYS, LABELS, POINTER, POSITIONS, SEALED, present_columns, register, sealed_json

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


def _show(value, table: str = "", column: str = "") -> str:
    if value is None:
        return "空"
    return VALUE_NAMES.get((table, column), {}).get(value, str(value)) if isinstance(value, str) else str(value)


def _difference(conn: sqlite3.Connection, table: str, row: sqlite3.Row, seq: int) -> str:
    entry = conn.execute("SELECT after FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    try:
        logged = json.loads(entry["after"]) if entry and entry["after"] else {}
    except ValueError:
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    if not isinstance(logged, dict):
        return f"审计日志第 {seq} 条记载的内容已无法读取（被改动）"
    now = json.loads(row["_now"])
    fields = [f"{COLUMN_LABELS.get((table, c)) or label_for(c)}：审计日志第 {seq} 条记为 {_show(logged.get(c), table, c)}，"
              f"数据库中为 {_show(now.get(c), table, c)}" for c in SEALED[table] if logged.get(c) != now.get(c)]
    return "；".join(fields) or "内容与审计日志记载的不符"


def pointed(conn: sqlite3.Connection) -> bool:
    """Whether each row names the entry that sealed it (schema 15 on)."""
    return any(r[1] == POINTER for r in conn.execute("PRAGMA table_info(visits)"))


def _skip(table: str, rows: tuple[int, int] | None = None, key: str = "t.key") -> str:
    """What a check of `table` leaves out: the exchange's positions (by the `key` expression), and rows outside
    `rows`."""
    skip = (f" AND ({key} IS NULL OR {key} NOT IN ({', '.join(repr(k) for k in sorted(POSITIONS))}))"
            if table == "settings" else "")
    if rows is not None:
        skip += f" AND t.rowid BETWEEN {int(rows[0])} AND {int(rows[1])}"
    return skip


def _last_entry(table: str) -> str:
    return (f"(SELECT max(seq) FROM audit_log WHERE entity = '{table}' AND entity_id = t.{KEYS[table]} "
            f"AND row_hash IS NOT NULL)")


def _unmatched(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None, blobs: bool,
               by_pointer: bool) -> Iterator[sqlite3.Row]:
    """Rows (with rowid in `rows`, if given) whose sealed values are not what their sealing entry recorded (or
    that have no such entry): the entry the row names, or (`by_pointer` False) the record's last one in the log."""
    # The columns the table has: a database not yet upgraded was sealed over those (a later migration re-seals).
    now = sealed_json(table, blobs=blobs, columns=present_columns(conn, table))
    entry = f"t.{POINTER}" if by_pointer else _last_entry(table)
    query = (f"SELECT t.*, {now} AS _now, a.row_hash AS _seal, a.seq AS _seq, a.entity AS _entity, "
             f"a.entity_id AS _entity_id FROM {table} t LEFT JOIN audit_log a ON a.seq = {entry} "
             f"WHERE (a.seq IS NULL OR a.entity IS NOT '{table}' OR a.entity_id IS NOT t.{KEYS[table]} "
             f"OR a.row_hash IS NULL OR a.row_hash = ? OR a.after IS NOT {now}){_skip(table, rows)}")
    yield from conn.execute(query, (DELETED,))


# Lines naming the first NAMED problems of a part, and how many it found in all.
Found = tuple[list[str], int]


# How many rows (or records) and the sum of the numbers of their sealing entries.
Tally = tuple[int, int]


def changed_rows(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None = None) -> Found:
    """Rows of `table` (with rowid in `rows`) changed, added or brought back outside the program."""
    register(conn)
    by_pointer = pointed(conn)
    try:
        return _changed(conn, table, rows, blobs=False, by_pointer=by_pointer)
    except sqlite3.OperationalError as exc:
        if "BLOB" not in str(exc):
            raise
        # One was put in a sealed column outside the program.
        return _changed(conn, table, rows, blobs=True, by_pointer=by_pointer)


def _changed(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None, blobs: bool,
             by_pointer: bool) -> Found:
    found: list[str] = []
    count = 0
    for row in _unmatched(conn, table, rows, blobs, by_pointer):
        count += 1
        if len(found) >= NAMED:
            continue
        seal, seq = row["_seal"], row["_seq"]
        what = _describe(conn, table, row)
        if seq is None:
            found.append(f"{what}：审计日志中没有写入它的记录（在程序之外添加，或审计日志被截去）")
        elif row["_entity"] != table or row["_entity_id"] != row[KEYS[table]] or seal is None:
            found.append(f"{what}：它注明的审计日志第 {seq} 条写的不是它（在程序之外被改动）")
        elif seal == DELETED:
            found.append(f"{what}：审计日志第 {seq} 条记载它已删除，数据库中却仍有")
        else:
            found.append(f"{what}：{_difference(conn, table, row, seq)}（在程序之外被改动）")
    return found, count


def row_tally(conn: sqlite3.Connection, table: str, rows: tuple[int, int] | None = None) -> Tally:
    """How many rows of `table` (with rowid in `rows`) are checked, and the sum of the entry numbers they name."""
    count, total = conn.execute(f"SELECT count(*), coalesce(sum(t.{POINTER}), 0) FROM {table} t WHERE 1"
                                f"{_skip(table, rows)}").fetchone()
    return count, total


def last_tally(conn: sqlite3.Connection, table: str) -> tuple[Found, Tally]:
    """The records of `table` the log says are there (their last sealing entry did not delete them): how many, and
    the sum of their last entries' numbers, from the log's index alone; and every deleted record found among the
    rows again."""
    skip = _skip(table, key="g.entity_id")
    count, total = conn.execute(
        f"SELECT count(*), coalesce(sum(seq), 0) FROM (SELECT entity_id, max(seq) AS seq FROM audit_log "
        f"WHERE entity = ? AND row_hash IS NOT NULL GROUP BY entity_id) g WHERE 1{skip}", (table,)).fetchone()
    found: list[str] = []
    back = 0
    for key, seq in conn.execute(
            f"SELECT entity_id, seq FROM audit_log g WHERE entity = ? AND row_hash = ? AND seq = "
            f"(SELECT max(seq) FROM audit_log WHERE entity = g.entity AND entity_id = g.entity_id "
            f"AND row_hash IS NOT NULL){skip}", (table, DELETED)):
        count, total = count - 1, total - seq
        row = conn.execute(f"SELECT * FROM {table} t WHERE t.{KEYS[table]} = ?", (key,)).fetchone()
        if row is not None:
            back += 1
            if len(found) < NAMED:
                found.append(f"{_describe(conn, table, row)}：审计日志第 {seq} 条记载它已删除，数据库中却仍有")
    return (found, back), (count, total)


def unaccounted(conn: sqlite3.Connection, table: str) -> Found:
    """When the tallies of `table` differ: the rows brought back to an older sealed content, and the records that
    are gone (each looked up: slow, and only run when something is wrong). A row naming no entry, or another
    record's, is named by changed_rows."""
    found, count = [], 0
    for row in conn.execute(f"SELECT t.*, t.{POINTER} AS _named, {_last_entry(table)} AS _last FROM {table} t "
                            f"WHERE t.{POINTER} < {_last_entry(table)}{_skip(table)}"):
        count += 1
        if len(found) < NAMED:
            found.append(f"{_describe(conn, table, row)}：数据库中是审计日志第 {row['_named']} 条时的内容，其后第 "
                         f"{row['_last']} 条已写入新的内容（在程序之外被改回）")
    gone, lost = vanished_rows(conn, table)
    return found + gone[:NAMED - len(found)], count + lost


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
    vanished (on one connection; `check` spreads the same pieces over processes)."""
    if not sealed_log(conn):
        return []
    problems: list[str] = []
    for table in tables:
        problems.extend(named(table, table_parts(conn, table)))
    return problems


def table_parts(conn: sqlite3.Connection, table: str) -> list[Found]:
    """What the seals of one table show, in one snapshot."""
    if not pointed(conn):
        return [changed_rows(conn, table), vanished_rows(conn, table)]
    back, last = last_tally(conn, table)
    parts = [changed_rows(conn, table), back]
    if row_tally(conn, table) != last:
        parts.append(unaccounted(conn, table))
        if not any(n for _, n in parts):
            parts.append(([f"{LABELS[table]}：记录与审计日志的封存条目对不上（条数或编号之和不同）"], 1))
    return parts
