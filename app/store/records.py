"""The one write path for audited records: insert, update, delete and settings, each with its audit entry and seal.

Every function writes inside the caller's transaction (it refuses to run outside one), stamps ids and times, reads
the row back as SQLite stored it, and appends the audit entry with the before and after values, marked as the row's
seal (app/store/seal.py). A service never writes an audited table any other way; tests/store/test_write_path.py
fails if one does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from app.store import audit
from app.store.clock import after, new_id, now
from app.store.audit import RawJSON
from app.store.seal import DELETED, KEYS, OF_AFTER, POINTER, POSITIONS, SEALED, sealed_text


# The stamp columns each audited table has.
STAMPS: dict[str, tuple[str, ...]] = {table: ("created_at", "updated_at") for table in SEALED} | {
    "application_steps": (), "attachments": ("created_at",), "settings": ("updated_at",)}


def _stored(conn: sqlite3.Connection, table: str, key: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT * FROM {table} WHERE {KEYS[table]} = ?", (key,)).fetchone()


def _check(conn: sqlite3.Connection, table: str) -> None:
    if table not in SEALED:
        raise ValueError(f"{table} is not an audited table")
    if not conn.in_transaction:
        raise RuntimeError("records are written inside a transaction, with their audit entry")


def _pointed(conn: sqlite3.Connection) -> bool:
    """Whether the audited tables have the column naming each row's sealing entry (schema 15 on)."""
    return audit.held(conn, "jz_sealed_by", lambda: 1 + any(
        r[1] == POINTER for r in conn.execute("PRAGMA table_info(visits)"))) == 2


def _seal_number(conn: sqlite3.Connection, row: dict[str, Any]) -> dict[str, Any]:
    """`row` pointing at the entry about to seal it (or as it is, in a file not yet upgraded to have the pointer).

    A pointer copied along from another row, or from another site, is never kept: only this log's number is."""
    row.pop(POINTER, None)
    if _pointed(conn):
        row[POINTER] = audit.next_seq(conn)
    return row


def _sealed(conn: sqlite3.Connection, row: dict[str, Any], seq: int) -> None:
    if _pointed(conn) and row[POINTER] != seq:
        raise RuntimeError(f"the audit entry sealing a record got number {seq}, not {row[POINTER]}")


def _stamped(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    stamp = now()
    if KEYS[table] == "id":
        out.setdefault("id", new_id())
    for col in STAMPS[table]:
        out.setdefault(col, stamp)
    return out


def _insert(conn: sqlite3.Connection, user: Any, table: str, row: Mapping[str, Any], action: str) -> str:
    full = _seal_number(conn, _stamped(table, row))
    conn.execute(f"INSERT INTO {table} ({', '.join(full)}) VALUES ({', '.join('?' * len(full))})",
                 tuple(full.values()))
    key = full[KEYS[table]]
    _sealed(conn, full, audit.append(conn, user, action, table, key, None, RawJSON(sealed_text(conn, table, key)),
                                     OF_AFTER))
    return key


def insert(conn: sqlite3.Connection, user: Any, table: str, row: Mapping[str, Any], action: str) -> dict[str, Any]:
    """Add one record with its audit entry; returns the row as stored (with its id and stamps)."""
    _check(conn, table)
    return dict(_stored(conn, table, _insert(conn, user, table, row, action)))


def insert_many(conn: sqlite3.Connection, user: Any, table: str, rows: Iterable[Mapping[str, Any]],
                action: str) -> int:
    """Add many records of one table, each with its own audit entry (bulk imports, demo data, received records).

    Unlike insert, the stored rows are not read back to be returned: nobody uses them, and a county's demo is
    millions of rows."""
    _check(conn, table)
    count = 0
    for row in rows:
        _insert(conn, user, table, row, action)
        count += 1
    return count


def _stamp(old: sqlite3.Row, changes: Mapping[str, Any]) -> str:
    """The updated_at of a record being changed: the caller's, or now; made later than the stored one (clock.after)
    unless it is another site's stamp.

    The county and the other sites take a copy only when it is newer than theirs, so each change made here must be
    stamped after the one before it, whatever this computer's clock says; a stamp the caller gives for a record made
    here too (applications.act gives the one its step carries). Not a stamp given for another site's record
    (site_id set): merge.apply writes the owner's copy with the owner's stamp, which must stay exactly the owner's,
    or the next copy from the owner could look older than this one and be passed over. (steps.follow gives one too,
    for a received application, whose copies sites compare otherwise: exchange.records.STAMPED_HERE.) A change made here to a
    received record without a stamp (a 发放 batch taking another site's 补付 line, a re-settlement) is this site's
    own and comes after the copy it changes, so that an older copy of the owner's arriving late does not undo it."""
    given = "updated_at" in changes
    stamp = changes["updated_at"] if given else now()
    received = "site_id" in old.keys() and old["site_id"] is not None
    return stamp if given and received else after(old["updated_at"], stamp)


def update(conn: sqlite3.Connection, user: Any, table: str, key: str, changes: Mapping[str, Any],
           action: str) -> dict[str, Any]:
    """Change fields of one record; writes (and audits) only if something changed. Returns the row as stored."""
    _check(conn, table)
    old = _stored(conn, table, key)
    if old is None:
        raise LookupError(f"{table} {key} does not exist")
    diff = {k: v for k, v in changes.items() if k != POINTER and old[k] != v}
    if not diff:
        return dict(old)
    if "updated_at" in old.keys():
        diff["updated_at"] = _stamp(old, changes)
    before = sealed_text(conn, table, key)
    diff = _seal_number(conn, diff)
    conn.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in diff)} WHERE {KEYS[table]} = ?",
                 (*diff.values(), key))
    _sealed(conn, diff, audit.append(conn, user, action, table, key, RawJSON(before),
                                     RawJSON(sealed_text(conn, table, key)), OF_AFTER))
    return dict(_stored(conn, table, key))


def delete(conn: sqlite3.Connection, user: Any, table: str, key: str, action: str) -> None:
    """Remove one record; its last audit entry keeps what it held and marks it deleted."""
    _check(conn, table)
    if _stored(conn, table, key) is None:
        return
    before = sealed_text(conn, table, key)
    conn.execute(f"DELETE FROM {table} WHERE {KEYS[table]} = ?", (key,))
    if table == "settings" and key in POSITIONS:
        return
    audit.append(conn, user, action, table, key, RawJSON(before), None, DELETED)


def put_setting(conn: sqlite3.Connection, user: Any, key: str, value: Any, action: str) -> None:
    """Write one setting (JSON) with its audit entry; nothing is written when the value is unchanged.

    The exchange's positions (seal.POSITIONS) are written without an entry."""
    _check(conn, "settings")
    text = json.dumps(value, ensure_ascii=False)
    old = _stored(conn, "settings", key)
    if old is not None and old["value"] == text:
        return
    before = sealed_text(conn, "settings", key) if old is not None else None
    row = {"key": key, "value": text, "updated_at": now()}
    if key not in POSITIONS:  # a position has no entry, so it points at none
        row = _seal_number(conn, row)
    conn.execute(f"INSERT INTO settings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) ON CONFLICT(key) "
                 f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in row if c != 'key')}", tuple(row.values()))
    if key in POSITIONS:
        return
    _sealed(conn, row, audit.append(conn, user, action, "settings", key, RawJSON(before) if before else None,
                                    RawJSON(sealed_text(conn, "settings", key)), OF_AFTER))
