"""Blocks of the audit log sealed by one digest each, so `check` verifies millions of entries inside SQLite.

Entries are numbered in blocks of BLOCK (1..BLOCK, BLOCK+1..2·BLOCK, …). When an append completes a block, the
entries of that block are first verified one by one (their digests and links), then one more entry is appended (by
the system) whose `row_hash` is the sha256 of the whole block as SQLite writes it out (json_array of every column,
one entry per line). That sealing entry lies in a later block, or in the tail that `check` still verifies entry by
entry, so a change to any sealed entry shows either as a block whose digest no longer matches or as a broken chain
up to the tail, exactly as with the per-entry digests. What this buys is speed: a block is one query and one sha256,
not ten thousand calls into Python.

A block that failed its verification when it was completed is left unsealed; `check` then verifies it entry by
entry and names the entry.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

BLOCK = 10_000
ENTITY = "audit_log"
ACTION = "审计日志分段封存"
_COLUMNS = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "prev_hash",
            "row_hash", "hash", "digest_version")
# One row, the block's entries in number order (the rowid scan SQLite does for a seq range), one per line.
_TEXT = (f"SELECT CAST(group_concat(json_array({', '.join(_COLUMNS)}), char(10)) AS BLOB) FROM audit_log "
         f"WHERE seq BETWEEN ? AND ?")


def digest(conn: sqlite3.Connection, first: int, last: int) -> str:
    """The sha256 of entries first..last as SQLite writes them out."""
    text = conn.execute(_TEXT, (first, last)).fetchone()[0]
    return hashlib.sha256(text or b"").hexdigest()


def block_of(seq: int) -> tuple[int, int]:
    """The first and last entry number of the block that holds entry `seq`."""
    last = -(-seq // BLOCK) * BLOCK
    return last - BLOCK + 1, last


def key(first: int, last: int) -> str:
    return f"{first}-{last}"


def seal(conn: sqlite3.Connection, user: Any, first: int, last: int) -> bool:
    """Seal the block first..last if its entries verify one by one; False (and nothing written) if they do not."""
    from app.store import audit

    if audit.entry_problems(conn, first, last):
        return False
    audit.write_entry(conn, user, ACTION, ENTITY, key(first, last), None, {"from": first, "to": last},
                      digest(conn, first, last))
    return True


def seal_complete(conn: sqlite3.Connection, user: Any = "system") -> int:
    """Seal every complete block not yet sealed (an upgrade of a log written before blocks); how many were sealed."""
    done = set(sealed(conn))
    made = 0
    k = 1
    while k * BLOCK <= conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]:
        if (k * BLOCK - BLOCK + 1, k * BLOCK) not in done:
            made += seal(conn, user, k * BLOCK - BLOCK + 1, k * BLOCK)
        k += 1
    return made


def sealed(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[str, int]]:
    """Every sealing entry: (first, last) → (digest, its own number). Keys that are not a block are left out here
    and reported by `strays`."""
    out = {}
    for entity_id, row_hash, seq in conn.execute(
            "SELECT entity_id, row_hash, seq FROM audit_log WHERE entity = ? AND row_hash IS NOT NULL", (ENTITY,)):
        span = _span(entity_id)
        if span is not None and span[1] < seq:
            out[span] = (row_hash, seq)
    return out


def strays(conn: sqlite3.Connection) -> list[int]:
    """Numbers of sealing entries that do not name a block before them (made by hand, not by the program)."""
    return [seq for entity_id, seq in conn.execute(
        "SELECT entity_id, seq FROM audit_log WHERE entity = ? AND row_hash IS NOT NULL", (ENTITY,))
        if (span := _span(entity_id)) is None or span[1] >= seq]


def _span(entity_id: str) -> tuple[int, int] | None:
    first, _, last = str(entity_id).partition("-")
    if not (first.isdigit() and last.isdigit()):
        return None
    span = int(first), int(last)
    return span if span == block_of(span[1]) and span[1] > 0 else None
