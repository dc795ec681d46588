"""Blocks of the audit log sealed by one digest each, so `check` verifies millions of entries inside SQLite.

Entries are numbered in blocks of BLOCK (1..BLOCK, BLOCK+1..2·BLOCK, …). When an append completes a block, the
entries of that block are first verified one by one (their digests and links), then one more entry is appended (by
the system) whose `row_hash` is the sha256 of the whole block as SQLite writes it out (in its `form`, below, one
entry per line). That sealing entry lies in a later block, or in the tail that `check` still verifies entry by
entry, so a change to any sealed entry shows either as a block whose digest no longer matches or as a broken chain
up to the tail, exactly as with the per-entry digests. What this buys is speed: a block is one query and one sha256,
not ten thousand calls into Python.

A block that failed its verification when it was completed is marked NOT_SEALED instead; `check` then verifies it
entry by entry and names the entry. The sealing entry lists the columns it covered (every column of the log when it was
written), so a later migration that adds a column to the log leaves earlier blocks verifiable as they were sealed.

It also names how the block was written out (`form`). Up to schema 17 every column went through json_array
("json", the form of an entry that names none). Since 18 the two large columns, `before` and `after`, follow the
json_array of the others as they are, each after its type and its length in bytes ("split"): json_array escaped every
quote of their JSON, which was a sixth of `check`'s work on a county (24 ms a block against 19 ms, measured on the
benchmark county's log). The text stays unambiguous: the array ends where its brackets close, a text's byte length
says where it ends, NULL is "~", and any other type is written with its name (a value turned into a BLOB or a number
with the same bytes changes the text).

A block has one seal: the first sealing entry written for it, whatever its form, is the one `check` reads; any
later one is not one the program writes (`strays`), so a seal appended by hand to match a changed block shows
instead of hiding it. Blocks sealed before schema 18 keep their json seal (a second seal in the new form would be
exactly such a later one). For the same reason a block that failed its verification is marked at once: a seal added
to it later is a stray.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

BLOCK = 10_000
ENTITY = "audit_log"
ACTION = "审计日志分段封存"
# Every block covers at least these; the entry's own digest covers no fewer.
_REQUIRED = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "prev_hash",
             "row_hash", "hash")


def columns(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The log's columns as they are now, in table order: what a block sealed now covers."""
    return tuple(r[1] for r in conn.execute("PRAGMA table_info(audit_log)"))


# How a block is written out: "json" (up to schema 17; a sealing entry naming no form) and "split".
FORMS = ("json", "split")
FORM = "split"
# Written out after the others in "split", by length: the JSON they hold would be escaped again by json_array.
_RAW = ("before", "after")


def _entry_text(covered: tuple[str, ...], form: str) -> str:
    """SQL for one entry as the block's text holds it."""
    if form == "json":
        return f"json_array({', '.join(covered)})"
    raw = [c for c in _RAW if c in covered]
    return " || ".join([f"json_array({', '.join(c for c in covered if c not in raw)})", *map(_raw_text, raw)])


def _raw_text(column: str) -> str:
    """SQL for one raw value: "<bytes>:<text>" for text, "~" for NULL, "!<type>:<length>:<hex>" for anything else.

    Bytes, not characters (length() of a text counts characters, of a BLOB bytes: a text replaced by a BLOB could
    otherwise keep the count and move where the next value starts). The first character tells the three apart."""
    return (f"CASE typeof({column}) WHEN 'text' THEN length(CAST({column} AS BLOB)) || ':' || {column} "
            f"WHEN 'null' THEN '~' ELSE '!' || typeof({column}) || ':' || length(hex({column})) || ':' || "
            f"hex({column}) END")


def digest(conn: sqlite3.Connection, first: int, last: int, covered: tuple[str, ...], form: str = FORM) -> str:
    """The sha256 of entries first..last as SQLite writes them out (each in `form`, one entry per line, in number
    order: the rowid scan SQLite does for a seq range)."""
    text = conn.execute(f"SELECT CAST(group_concat({_entry_text(covered, form)}, char(10)) AS BLOB) "
                        f"FROM audit_log WHERE seq BETWEEN ? AND ?", (first, last)).fetchone()[0]
    return hashlib.sha256(text or b"").hexdigest()


def block_of(seq: int) -> tuple[int, int]:
    """The first and last entry number of the block that holds entry `seq`."""
    last = -(-seq // BLOCK) * BLOCK
    return last - BLOCK + 1, last


def key(first: int, last: int) -> str:
    return f"{first}-{last}"


def seal(conn: sqlite3.Connection, user: Any, first: int, last: int) -> bool:
    """Seal the block first..last if its entries verify one by one; False (and the block marked NOT_SEALED) if they
    do not."""
    from app.store import audit

    problems = audit.entry_problems(conn, first, last)
    _write_seal(conn, user, first, last, columns(conn), NOT_SEALED if problems else None)
    return not problems


# The seal of a block whose entries did not verify when it was completed: no digest is this text, so `check` verifies
# the block entry by entry and names the changed entry, and a seal written for the block later is a stray.
NOT_SEALED = "未能封存：这一段封存时已有条目与其校验值不符"


def _write_seal(conn: sqlite3.Connection, user: Any, first: int, last: int, covered: tuple[str, ...],
                value: str | None = None) -> None:
    from app.store import audit

    audit.write_entry(conn, user, ACTION, ENTITY, key(first, last), None,
                      {"from": first, "to": last, "columns": list(covered), "form": FORM},
                      value or digest(conn, first, last, covered))


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


def sealed(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[str, int, tuple[str, ...], str]]:
    """Every sealed block: (first, last) → its first sealing entry's (digest, own number, columns covered, form)."""
    return _sorted_seals(conn)[0]


def strays(conn: sqlite3.Connection) -> list[int]:
    """Numbers of sealing entries the program would not have written (made or changed by hand): one that does not
    name a block before it, a set of columns the log does not have, a form this program does not know, or a second
    seal of a block."""
    return _sorted_seals(conn)[1]


def _sorted_seals(conn: sqlite3.Connection) -> tuple[dict[tuple[int, int], tuple], list[int]]:
    """The first seal of each block, and the numbers of every other sealing entry."""
    present = set(columns(conn))
    kept: dict[tuple[int, int], tuple] = {}
    stray: list[int] = []
    for entity_id, row_hash, seq, after in conn.execute(
            "SELECT entity_id, row_hash, seq, after FROM audit_log WHERE entity = ? AND row_hash IS NOT NULL "
            "ORDER BY seq", (ENTITY,)):
        span, (covered, form) = _span(entity_id), _covered(after)
        sane = (span is not None and span[1] < seq and covered and set(_REQUIRED) <= set(covered) <= present
                and form in FORMS)
        if sane and span not in kept:
            kept[span] = (row_hash, seq, covered, form)
        else:
            stray.append(seq)
    return kept, stray


def _covered(after: str | None) -> tuple[tuple[str, ...], str | None]:
    """The columns a sealing entry covered and the form it wrote them in ((), None: unreadable)."""
    try:
        said = json.loads(after or "")
        listed, form = said.get("columns"), said.get("form", "json")
    except (ValueError, AttributeError):
        return (), None
    if not (isinstance(listed, list) and all(isinstance(c, str) for c in listed)):
        return (), None
    return tuple(listed), form if isinstance(form, str) else None


def _span(entity_id: str) -> tuple[int, int] | None:
    first, _, last = str(entity_id).partition("-")
    # ASCII digits only: str.isdigit() also takes "¹", which int() refuses.
    if not (first.isascii() and last.isascii() and first.isdigit() and last.isdigit()):
        return None
    span = int(first), int(last)
    return span if span == block_of(span[1]) and span[1] > 0 else None
