"""The audit log: append-only, hash-chained, with a head record so a deleted tail is noticed too.

An entry that wrote a record also carries `row_hash`, the seal of the record's content as written (app/store/seal.py),
so `check` can tell a row changed outside the program from one the log accounts for."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from app.store.clock import now

GENESIS = "0" * 64


def canonical(value: Any) -> str | None:
    """The JSON text stored and hashed for a before/after value."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest(seq: int, at: str, user_id: str | None, username: str, action: str, entity: str, entity_id: str,
            before: str | None, after: str | None, prev_hash: str, row_hash: str | None = None) -> str:
    fields = [seq, at, user_id, username, action, entity, entity_id, before, after, prev_hash]
    # Entries written before seals existed have none; leaving it out keeps their digests as they were written.
    if row_hash is not None:
        fields.append(row_hash)
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, user: Any, action: str, entity: str, entity_id: str,
           before: Any = None, after: Any = None, row_hash: str | None = None) -> int:
    """Record one change; call inside the transaction that makes the change, so both land or neither.

    Records are written through app/store/records.py, which calls this with the row's seal; a direct call is for an
    event that changes no record (a refusal, an export, a login)."""
    assert conn.in_transaction, "audit entries are written in the same transaction as the change"
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    count, prev = (head["count"], head["hash"]) if head else (0, GENESIS)
    seq = count + 1
    at = now()
    b, a = canonical(before), canonical(after)
    user_id = getattr(user, "id", None)
    username = getattr(user, "username", None) or str(user)
    digest = _digest(seq, at, user_id, username, action, entity, entity_id, b, a, prev, row_hash)
    conn.execute("INSERT INTO audit_log (seq, at, user_id, username, action, entity, entity_id, before, after, "
                 "prev_hash, hash, row_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 (seq, at, user_id, username, action, entity, entity_id, b, a, prev, digest, row_hash))
    conn.execute("INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET count = excluded.count, hash = excluded.hash", (seq, digest))
    return seq


def verify(conn: sqlite3.Connection) -> list[str]:
    """Walk the chain; every problem is a line in Chinese naming the entry (empty list: the chain is intact)."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for row in conn.execute("SELECT * FROM audit_log ORDER BY seq"):
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(f"审计日志第 {expected_seq} 条至第 {seq - 1} 条缺失（被删除）")
        if row["prev_hash"] != prev:
            problems.append(f"审计日志第 {seq} 条与前一条衔接不上（前一条被修改或删除）")
        digest = _digest(seq, row["at"], row["user_id"], row["username"], row["action"], row["entity"],
                         row["entity_id"], row["before"], row["after"], row["prev_hash"], _row_hash(row))
        if digest != row["hash"]:
            problems.append(f"审计日志第 {seq} 条内容与其校验值不符（被修改）")
        prev = row["hash"]
        expected_seq = seq + 1
        if len(problems) > 20:
            problems.append("……问题过多，其余从略")
            return problems
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    count = expected_seq - 1
    if head is None:
        if count:
            problems.append("审计日志的链头记录缺失")
    elif head["count"] != count or head["hash"] != prev:
        problems.append(f"审计日志末尾被删除或改动：链头记载 {head['count']} 条，现有 {count} 条")
    return problems


def _row_hash(row: sqlite3.Row) -> str | None:
    # A database not yet upgraded to seals has no such column.
    return row["row_hash"] if "row_hash" in row.keys() else None
