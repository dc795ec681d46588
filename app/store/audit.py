"""The audit log: append-only, hash-chained, with a head record so a deleted tail is noticed too.

An entry that wrote a record is marked a sealing entry by `row_hash` (app/store/seal.py: the sha256 of its `after`;
from schema 12 OF_AFTER, standing for it), so `check` can tell a row changed outside the program from one the log
accounts for.

Digests. Entries written before schema 6 (digest_version NULL) hash a JSON list of their fields. Entries from schema
6 on (digest_version 2) hash their fields each written as `length:text` (or `N` for NULL) by entry_digest.
Entries from schema 11 on (digest_version 3) also record, and hash, the operating-system user and the computer that
made them (ORIGIN): an entry says which account of the program acted, and from whose desk. Each entry is verified
by the digest of its own version, so older entries stay verifiable as they were written; an entry is written in the
newest version the log's columns allow (a migration running before schema 11 writes version 2). Every
complete block of 10,000 entries is also sealed by one digest (app/store/audit_blocks.py), which is what `check`
verifies: millions of entries in SQLite, not a loop over Python rows.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import sqlite3
from collections.abc import Callable
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


# Checks a list of sealed_spans and returns the problems found, as sealed_block_problems does.
BlockCheck = Callable[[list[tuple]], list[str]]


def canonical(value: Any) -> str | None:
    """The JSON text stored and hashed for a before/after value."""
    if value is None or isinstance(value, RawJSON):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest_v1(fields: list[Any]) -> str:
    # Written before seals existed: the fields up to prev_hash, without row_hash.
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def entry_digest(*values: Any) -> str:
    """The digest of an entry from its FIELDS in order: each written `length:text`, or `N` for NULL.

    The same function makes an entry's digest and verifies it."""
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


def _digest_version(conn: sqlite3.Connection) -> int:
    """The newest digest version the log's columns allow."""
    def newest() -> int:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
        return max(v for v, fields in DIGESTED_FIELDS.items() if set(fields) <= columns)

    return held(conn, "jz_log_version", newest)


def held(conn: sqlite3.Connection, name: str, compute: Callable[[], int]) -> int:
    """A positive number about the schema, computed once and held on the connection itself, until a migration on the
    connection calls columns_changed. Reading the columns costs far more than writing an entry; the number is held by
    an SQL function, which lives and dies with the connection (registered once, never replaced: SQLite refuses to
    replace a function while a statement runs)."""
    try:
        known = conn.execute(f"SELECT {name}(NULL)").fetchone()[0]
    except sqlite3.OperationalError:  # first use on this connection
        conn.create_function(name, 1, _held())
        known = None
    if known is None:
        known = compute()
        conn.execute(f"SELECT {name}(?)", (known,))
    return known


def _held():
    """One value held for SQL: name(NULL) reads it, (0) forgets it, (n) sets it."""
    held: list[int | None] = [None]

    def version(value: int | None) -> int | None:
        if value is not None:
            held[0] = value or None
        return held[0]

    return version


HELD = ("jz_log_version", "jz_sealed_by")


def columns_changed(conn: sqlite3.Connection) -> None:
    """A migration may have added columns: the next write on this connection looks at them again."""
    for name in HELD:
        try:
            conn.execute(f"SELECT {name}(0)")
        except sqlite3.OperationalError:  # not used on this connection yet: nothing held
            pass


def next_seq(conn: sqlite3.Connection) -> int:
    """The number the next entry will have (a record written now points at the entry that seals it)."""
    head = conn.execute("SELECT count FROM audit_head WHERE id = 1").fetchone()
    return (head[0] if head else 0) + 1


def write_entry(conn: sqlite3.Connection, user: Any, action: str, entity: str, entity_id: str,
                before: Any = None, after: Any = None, row_hash: str | None = None) -> int:
    """Chain one entry onto the log and move the head; its number. `append` is what callers use."""
    assert conn.in_transaction, "audit entries are written in the same transaction as the change"
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    count, prev = (head[0], head[1]) if head else (0, GENESIS)
    seq = count + 1
    at = now()
    b, a = canonical(before), canonical(after)
    user_id = getattr(user, "id", None)
    username = getattr(user, "username", None) or str(user)
    version = _digest_version(conn)
    fields = DIGESTED_FIELDS[version]
    values = [seq, at, user_id, username, action, entity, entity_id, b, a, prev, row_hash, *origin()][:len(fields)]
    digest = entry_digest(*values)
    conn.execute(f"INSERT INTO audit_log ({', '.join(fields)}, hash, digest_version) "
                 f"VALUES ({', '.join('?' * (len(values) + 2))})", (*values, digest, version))
    conn.execute("INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET count = excluded.count, hash = excluded.hash", (seq, digest))
    return seq


def append(conn: sqlite3.Connection, user: Any, action: str, entity: str, entity_id: str,
           before: Any = None, after: Any = None, row_hash: str | None = None) -> int:
    """Record one change; call inside the transaction that makes the change, so both land or neither.

    Records are written through app/store/records.py, which calls this with the row's seal; a direct call is for an
    event that changes no record (a refusal, an export, a login). The entry that completes a block of the log also
    seals the block (app/store/audit_blocks.py)."""
    from app.store import audit_blocks

    seq = write_entry(conn, user, action, entity, entity_id, before, after, row_hash)
    if seq % audit_blocks.BLOCK == 0:
        audit_blocks.seal(conn, "system", *audit_blocks.block_of(seq))
    return seq


def _columns(conn: sqlite3.Connection) -> set[str]:
    """The log's columns (with digest_version from schema 6 on, the origin from schema 11 on)."""
    return {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}


def entry_problems(conn: sqlite3.Connection, first: int, last: int) -> list[str]:
    """Entries first..last checked one by one: each digest against its content, and each link to the one before.

    The digests are computed here, not by a function registered in SQLite: registering one again while a statement
    is reading (an upgrade streaming records and sealing a block of the log as it appends) is refused by SQLite.
    Each entry is checked by the digest of its own version."""
    columns = _columns(conn)
    v2 = "digest_version" in columns
    problems = [f"审计日志第 {seq} 条与前一条衔接不上（前一条被修改或删除）" for (seq,) in conn.execute(
        f"SELECT a.seq FROM audit_log a LEFT JOIN audit_log b ON b.seq = a.seq - 1 WHERE a.seq BETWEEN ? AND ? "
        f"AND a.prev_hash IS NOT coalesce(b.hash, '{GENESIS}') LIMIT {LISTED + 1}", (first, last))]
    v1 = FIELDS[:FIELDS.index("row_hash")]
    read = FIELDS + tuple(f for f in ORIGIN if f in columns) if v2 else v1
    known = {v: len(fields) for v, fields in DIGESTED_FIELDS.items() if set(fields) <= set(read)}
    version = "digest_version" if v2 else "NULL"
    for stored, kind, *fields in conn.execute(
            f"SELECT hash, {version}, {', '.join(read)} FROM audit_log WHERE seq BETWEEN ? AND ? "
            f"ORDER BY seq", (first, last)):
        if kind is None:
            # A field a version does not cover must be empty: an older entry cannot be given an origin later.
            good = _digest_v1(fields[:len(v1)]) == stored and not any(fields[len(FIELDS):])
        elif kind in known:
            good = entry_digest(*fields[:known[kind]]) == stored and not any(fields[known[kind]:])
        else:
            good = False
        if not good:
            problems.append(f"审计日志第 {fields[0]} 条内容与其校验值不符（被修改）")
            if len(problems) > LISTED:
                break
    return problems


def chain_problems(conn: sqlite3.Connection) -> list[str]:
    """Gaps and broken links over the whole log, named by the entries around them."""
    # The counts and a join on the previous number cost a fraction of the window query, which only runs to name the
    # entries when one is wrong.
    count, first, last = conn.execute("SELECT count(*), min(seq), max(seq) FROM audit_log").fetchone()
    unlinked = conn.execute(f"SELECT EXISTS (SELECT 1 FROM audit_log a LEFT JOIN audit_log b ON b.seq = a.seq - 1 "
                            f"WHERE a.prev_hash IS NOT coalesce(b.hash, '{GENESIS}'))").fetchone()[0]
    if not unlinked and not (count and (first != 1 or last != count)):
        return []
    problems: list[str] = []
    for seq, prev_hash, before_seq, before_hash in conn.execute(
            f"SELECT * FROM (SELECT seq, prev_hash, lag(seq) OVER w AS before_seq, lag(hash) OVER w AS before_hash "
            f"FROM audit_log WINDOW w AS (ORDER BY seq)) WHERE seq != coalesce(before_seq, 0) + 1 "
            f"OR prev_hash IS NOT coalesce(before_hash, '{GENESIS}') LIMIT {LISTED + 1}"):
        expected_seq = (before_seq or 0) + 1
        if seq != expected_seq:
            problems.append(f"审计日志第 {expected_seq} 条至第 {seq - 1} 条缺失（被删除）")
        if prev_hash != (before_hash or GENESIS):
            problems.append(f"审计日志第 {seq} 条与前一条衔接不上（前一条被修改或删除）")
        if len(problems) > LISTED:
            break
    return problems


def sealed_spans(conn: sqlite3.Connection, last: int) -> list[tuple]:
    """The sealed blocks up to entry `last`, each as (first, last, digest, sealing entry's number, columns covered,
    form): what `sealed_block_problems` checks, in one piece or in several side by side."""
    from app.store import audit_blocks as blocks

    sealed = blocks.sealed(conn)
    spans = [blocks.block_of(k * blocks.BLOCK) for k in range(1, last // blocks.BLOCK + 1)]
    return [(*span, *sealed[span]) for span in spans if span in sealed]


def sealed_block_problems(conn: sqlite3.Connection, spans: list[tuple]) -> list[str]:
    """Each sealed block by its one digest; entry by entry (to name the entry) only if it no longer matches."""
    from app.store import audit_blocks as blocks

    problems: list[str] = []
    for first, end, digest, seal_seq, covered, form in spans:
        try:
            same = blocks.digest(conn, first, end, covered, form) == digest
        except sqlite3.OperationalError:  # json_array refuses a BLOB, which the program never writes into the log
            same = False
        if not same:
            named = entry_problems(conn, first, end)
            problems.extend(named or [f"审计日志第 {first} 条至第 {end} 条的内容与第 {seal_seq} 条分段封存"
                                      f"时的校验值不符（其中有条目被修改）"])
        if len(problems) > LISTED:
            break
    return problems


def _content_problems(conn: sqlite3.Connection, last: int, blocks_checked: BlockCheck | None,
                      anchored: int | None = None) -> list[str]:
    """Every entry's content: the sealed blocks (by `blocks_checked` if given, which may run them elsewhere), the
    rest entry by entry; so are blocks sealed after the `anchored` entry (see verify)."""
    from app.store import audit_blocks as blocks

    problems = _stray_seals(conn)
    spans = [s for s in sealed_spans(conn, last) if anchored is None or s[3] <= anchored]
    problems.extend(blocks_checked(spans) if blocks_checked else sealed_block_problems(conn, spans))
    done = {(s[0], s[1]) for s in spans}
    loose = [blocks.block_of(k * blocks.BLOCK) for k in range(1, last // blocks.BLOCK + 1)]
    loose = [s for s in loose if s not in done] + [(last // blocks.BLOCK * blocks.BLOCK + 1, last)]
    for span in loose:
        if len(problems) > LISTED:
            break
        if span[0] <= span[1]:
            problems.extend(entry_problems(conn, *span))
    return problems


def _stray_seals(conn: sqlite3.Connection) -> list[str]:
    from app.store import audit_blocks as blocks

    return [f"审计日志第 {seq} 条是程序不会写的分段封存记录（在程序之外添加或改动）" for seq in blocks.strays(conn)]


def verify(conn: sqlite3.Connection, full: bool = False, blocks_checked: BlockCheck | None = None,
           anchored: int | None = None) -> list[str]:
    """Walk the chain; every problem is a line in Chinese naming the entry (empty list: the chain is intact).

    `full` checks every entry's own digest too, not only each sealed block's (the same evidence, slower).
    `blocks_checked` checks the sealed blocks given to it (`check` spreads them over worker processes).
    `anchored`: how many entries a record outside the file has seen (the newest backup's head). A block sealed after
    that is verified entry by entry too: an entry changed while it was in the unsealed tail, then entries appended to
    complete its block and a seal written to match, would pass its block's digest (a day's entries at most, as
    backups are daily)."""
    v2 = "digest_version" in _columns(conn)
    last = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
    if full or not v2:
        problems = chain_problems(conn)
        # A seal of a block in the log is an entry like any other here, but one made by hand is still named.
        found = (_stray_seals(conn) if v2 else []) + (entry_problems(conn, 1, last) if len(problems) <= LISTED else [])
    else:
        # A sealed block's links were verified one by one before it was sealed, and its digest covers every link and
        # every number in it; the tail and unsealed blocks are verified entry by entry, links included. So the links
        # of the whole log are walked only to name what is wrong once something is.
        found = _content_problems(conn, last, blocks_checked, anchored)
        problems = chain_problems(conn) if found else []
    # A block that no longer matches is checked entry by entry, which names a broken link found above again.
    problems.extend(p for p in dict.fromkeys(found) if p not in problems)
    if len(problems) > LISTED:
        return problems[:LISTED] + ["……问题过多，其余从略"]
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    count, prev = (row[0], row[1]) if row else (0, GENESIS)
    head = conn.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        if count:
            problems.append("审计日志的链头记录缺失")
    elif head[0] != count or head[1] != prev:
        problems.append(f"审计日志末尾被删除或改动：链头记载 {head[0]} 条，现有 {count} 条")
    return problems
