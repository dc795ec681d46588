"""The audit log: append-only, hash-chained, with a head record so a deleted tail is noticed too.

An entry that wrote a record also carries `row_hash`, the seal of the record's content as written (app/store/seal.py),
so `check` can tell a row changed outside the program from one the log accounts for.

Digests. Entries written before schema 6 (digest_version NULL) hash a JSON list of their fields. Entries from schema
6 on (digest_version 2) hash their fields each written as `length:text` (or `N` for NULL) by entry_digest, which
SQLite calls while it scans the log: verifying millions of entries is one query, not a loop over Python rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from app.store.clock import now

GENESIS = "0" * 64
DIGEST_VERSION = 2
FIELDS = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "prev_hash",
          "row_hash")
# At most this many problems are listed; the rest are summed up.
LISTED = 20


class RawJSON(str):
    """JSON text made elsewhere (SQLite's json_object for sealed values), stored exactly as it is."""


def canonical(value: Any) -> str | None:
    """The JSON text stored and hashed for a before/after value."""
    if value is None or isinstance(value, RawJSON):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest_v1(row: sqlite3.Row) -> str:
    # Written before seals existed: the fields up to prev_hash, without row_hash.
    fields = [row[f] for f in FIELDS[:FIELDS.index("row_hash")]]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def entry_digest(*values: Any) -> str:
    """The digest of an entry from its FIELDS in order: each written `length:text`, or `N` for NULL.

    Registered in SQLite as jz_entry_digest, so the same function makes an entry's digest and verifies it."""
    parts = []
    for value in values:
        if value is None:
            parts.append("N")
        else:
            text = str(value)
            parts.append(f"{len(text)}:{text}")
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


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
    values = [seq, at, user_id, username, action, entity, entity_id, b, a, prev, row_hash]
    digest = entry_digest(*values)
    conn.execute("INSERT INTO audit_log (seq, at, user_id, username, action, entity, entity_id, before, after, "
                 "prev_hash, row_hash, hash, digest_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 (*values, digest, DIGEST_VERSION))
    conn.execute("INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET count = excluded.count, hash = excluded.hash", (seq, digest))
    return seq


def verify(conn: sqlite3.Connection) -> list[str]:
    """Walk the chain; every problem is a line in Chinese naming the entry (empty list: the chain is intact)."""
    conn.create_function("jz_entry_digest", len(FIELDS), entry_digest, deterministic=True)
    problems: list[str] = []
    columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
    v2 = "digest_version" in columns
    # Gaps and broken links, found by SQLite: each entry against the one before it.
    for row in conn.execute(f"SELECT * FROM (SELECT seq, prev_hash, lag(seq) OVER w AS before_seq, lag(hash) OVER w "
                            f"AS before_hash FROM audit_log WINDOW w AS (ORDER BY seq)) WHERE seq != "
                            f"coalesce(before_seq, 0) + 1 OR prev_hash IS NOT coalesce(before_hash, '{GENESIS}') "
                            f"LIMIT {LISTED + 1}"):
        expected_seq = (row["before_seq"] or 0) + 1
        if row["seq"] != expected_seq:
            problems.append(f"审计日志第 {expected_seq} 条至第 {row['seq'] - 1} 条缺失（被删除）")
        if row["prev_hash"] != (row["before_hash"] or GENESIS):
            problems.append(f"审计日志第 {row['seq']} 条与前一条衔接不上（前一条被修改或删除）")
        if len(problems) > LISTED:
            break
    old = "SELECT * FROM audit_log" + (" WHERE digest_version IS NULL" if v2 else "") + " ORDER BY seq"
    for row in conn.execute(old):
        if _digest_v1(row) != row["hash"]:
            problems.append(f"审计日志第 {row['seq']} 条内容与其校验值不符（被修改）")
            if len(problems) > LISTED:
                break
    if v2:
        for row in conn.execute(f"SELECT seq FROM audit_log WHERE digest_version IS NOT NULL AND "
                                f"(digest_version != {DIGEST_VERSION} OR hash IS NOT jz_entry_digest({', '.join(FIELDS)})) "
                                f"ORDER BY seq LIMIT {LISTED + 1}"):
            problems.append(f"审计日志第 {row['seq']} 条内容与其校验值不符（被修改）")
    if len(problems) > LISTED:
        return problems[:LISTED] + ["……问题过多，其余从略"]
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    count, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        if count:
            problems.append("审计日志的链头记录缺失")
    elif head["count"] != count or head["hash"] != prev:
        problems.append(f"审计日志末尾被删除或改动：链头记载 {head['count']} 条，现有 {count} 条")
    return problems
