"""Records from other sites waiting here for a parent record that has not arrived yet, tried again on every pull."""

from __future__ import annotations

import base64
import json
import sqlite3

from app.exchange.records import BINARY, Entity
from app.store.clock import newer, now

# Why a record waits: a site's push is many county transactions, and a pull between two of them sees the first
# (households) without the second (their people). The rest arrives with a later pull, never by itself.
PARENT_MISSING = "它所属的上级记录（家庭、人员或申请）还没有收到，已暂存，下次同步时自动补上"
HEAD_MISSING = "户主的人员记录还没有收到，这一户已暂存，下次同步时自动补上"


def hold(conn: sqlite3.Connection, e: Entity, record: dict, source: str, reason: str) -> None:
    """Keep one record (a dict by wire column) aside, whole, in the caller's transaction; a newer copy replaces it,
    an older one (a package imported after a later one) leaves the waiting copy as it is."""
    text = json.dumps({c: (base64.b64encode(v).decode("ascii") if c in BINARY and isinstance(v, bytes) else v)
                       for c, v in record.items() if c in e.wire}, ensure_ascii=False)
    waiting = conn.execute("SELECT json_extract(record, '$.updated_at') FROM sync_held WHERE entity = ? "
                           "AND entity_id = ?", (e.table, record["id"])).fetchone()
    # Both copies here are the owner's (unlike an application in the table, which this site stamps): newer wins.
    keep = waiting is not None and "updated_at" in e.wire and not newer(record.get("updated_at"), waiting[0])
    stamp = now()
    # sync_held is a waiting room, not a record: what it holds is audited when it is finally written.
    conn.execute("INSERT INTO sync_held (entity, entity_id, site_id, record, source, reason, first_at, last_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity, entity_id) DO UPDATE SET "
                 f"{'' if keep else 'record = excluded.record, '}source = excluded.source, reason = excluded.reason, "
                 "last_at = excluded.last_at, tries = sync_held.tries + 1",
                 (e.table, record["id"], record.get("site_id"), text, source, reason, stamp, stamp))


def take(conn: sqlite3.Connection, e: Entity) -> list[tuple]:
    """Every record of this kind waiting here (in e.wire order), taken out to be tried again: one that still cannot
    be written is held again by the caller, and all of it rolls back with the caller's transaction."""
    rows = conn.execute("SELECT record FROM sync_held WHERE entity = ? ORDER BY first_at, entity_id",
                        (e.table,)).fetchall()
    if not rows:
        return []
    conn.execute("DELETE FROM sync_held WHERE entity = ?", (e.table,))
    out = []
    for (text,) in rows:
        record = json.loads(text)
        out.append(tuple(base64.b64decode(record[c]) if c in BINARY and record.get(c) is not None else record.get(c)
                         for c in e.wire))
    return out


def settle(conn: sqlite3.Connection, entities: list[Entity]) -> None:
    """Drop what waits for a record now written here in the same version (a newer copy that arrived meanwhile)."""
    for e in entities:
        stamp = "AND t.updated_at = json_extract(h.record, '$.updated_at')" if "updated_at" in e.columns else ""
        conn.execute(f"DELETE FROM sync_held WHERE entity = ? AND entity_id IN (SELECT h.entity_id FROM sync_held h "
                     f"JOIN {e.table} t ON t.id = h.entity_id WHERE h.entity = ? {stamp})", (e.table, e.table))


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many records of each kind wait here."""
    return dict(conn.execute("SELECT entity, count(*) FROM sync_held GROUP BY entity").fetchall())


def ids(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT entity_id FROM sync_held WHERE entity = ?", (table,))}
