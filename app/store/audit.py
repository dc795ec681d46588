"""The audit log: append-only, hash-chained, with a head record so a deleted tail is noticed too.

An entry that wrote a record also carries `row_hash`, the seal of the record's content as written (app/store/seal.py),
so `check` can tell a row changed outside the program from one the log accounts for.

Digests. Entries written before schema 6 (digest_version NULL) hash a JSON list of their fields. Entries from schema
6 on (digest_version 2) hash their fields each written as `length:text` (or `N` for NULL) by entry_digest, which
SQLite calls while it scans the log: verifying millions of entries is one query, not a loop over Python rows.
Entries from schema 9 on (digest_version 3) also record, and hash, the operating-system user and the computer that
made them (ORIGIN): an entry says which account of the program acted, and from whose desk. Each entry is verified
by the digest of its own version, so older entries stay verifiable as they were written.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import sqlite3
from functools import cache
from typing import Any

from app.store.clock import now

GENESIS = "0" * 64
DIGEST_VERSION = 3
FIELDS = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "prev_hash",
          "row_hash")
ORIGIN = ("os_user", "host")
# The fields each digest version covers (version 1 is the JSON list of _digest_v1).
DIGESTED_FIELDS = {2: FIELDS, 3: FIELDS + ORIGIN}
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


@cache
def origin() -> tuple[str, str]:
    """The operating-system user running the program and this computer's name, as each audit entry records them."""
    try:
        os_user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment (a service account without one)
        os_user = "（未知）"
    return os_user[:128], (socket.gethostname() or "（未知）")[:255]


def append(conn: sqlite3.Connection, user: Any, action: str, entity: str, entity_id: str,
           before: Any = None, after: Any = None, row_hash: str | None = None, *,
           digest_version: int = DIGEST_VERSION) -> int:
    """Record one change; call inside the transaction that makes the change, so both land or neither.

    Records are written through app/store/records.py, which calls this with the row's seal; a direct call is for an
    event that changes no record (a refusal, an export, a login). A migration writing entries before the log has the
    current version's columns passes the `digest_version` of the schema it runs on."""
    assert conn.in_transaction, "audit entries are written in the same transaction as the change"
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    count, prev = (head["count"], head["hash"]) if head else (0, GENESIS)
    seq = count + 1
    at = now()
    b, a = canonical(before), canonical(after)
    user_id = getattr(user, "id", None)
    username = getattr(user, "username", None) or str(user)
    fields = DIGESTED_FIELDS[digest_version]
    values = [seq, at, user_id, username, action, entity, entity_id, b, a, prev, row_hash, *origin()][:len(fields)]
    digest = entry_digest(*values)
    conn.execute(f"INSERT INTO audit_log ({', '.join(fields)}, hash, digest_version) "
                 f"VALUES ({', '.join('?' * (len(values) + 2))})", (*values, digest, digest_version))
    conn.execute("INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET count = excluded.count, hash = excluded.hash", (seq, digest))
    return seq


def verify(conn: sqlite3.Connection) -> list[str]:
    """Walk the chain; every problem is a line in Chinese naming the entry (empty list: the chain is intact)."""
    for fields in DIGESTED_FIELDS.values():
        conn.create_function("jz_entry_digest", len(fields), entry_digest, deterministic=True)
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
        known = {version: fields for version, fields in DIGESTED_FIELDS.items() if set(fields) <= columns}
        # A field an entry's version does not cover must be empty: an older entry cannot be given an origin later.
        wrong = " ".join(f"WHEN {version} THEN hash IS NOT jz_entry_digest({', '.join(fields)})"
                         + "".join(f" OR {f} IS NOT NULL" for f in ORIGIN if f in columns and f not in fields)
                         for version, fields in known.items())
        for row in conn.execute(f"SELECT seq FROM audit_log WHERE digest_version IS NOT NULL AND "
                                f"CASE digest_version {wrong} ELSE 1 END ORDER BY seq LIMIT {LISTED + 1}"):
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
