"""Taking records made at other sites into this one: merge by UUID, follow new steps, re-settle, audit once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from app.exchange import held, steps, territory
from app.exchange.merge import Applied, apply, drop_headless
from app.exchange.records import NAMES, Entity, entities, site_id
from app.services.session import Session
from app.store import audit


def receive(session: Session, batches: Callable[[Entity], Iterable[list[tuple]]], source: str,
            progress: Callable[[str, int], None] | None = None,
            sites: territory.Bounds | None = None) -> dict[str, Applied]:
    """Merge every batch, parents first, inside the caller's transaction; returns what happened per kind. `sites`:
    the registered jurisdictions known here (the county database's at a sync, this installation's register for a
    package), outside which a site's records are refused (territory.py).

    What waits here for a parent (sync_held) is tried first, kind by kind, so a parent that arrives now lets its
    children in during the same pass; what still cannot be written waits again."""
    conn = session.conn
    me = site_id(conn)
    kinds = entities(conn)
    out: dict[str, Applied] = {}
    for e in kinds:
        done = out[e.table] = Applied()
        waiting = held.take(conn, e)
        for rows in chain([waiting] if waiting else [], batches(e)):
            done.add(apply(conn, session.user, e, rows, me, source, sites))
            if progress:
                progress(e.name, done.added + done.updated + done.same + done.conflicts + done.held)
    households = out["households"]
    refused, waiting = drop_headless(conn, session.user, next(e for e in kinds if e.table == "households"),
                                     households.households_added, source)
    households.added -= refused + waiting
    households.conflicts += refused
    households.held += waiting
    held.settle(conn, kinds)
    touched_apps = set().union(*(a.applications_touched for a in out.values()))
    followed = sum(steps.follow(conn, session.user, app_id) for app_id in sorted(touched_apps))
    if any(a.locals_changed for a in out.values()):
        session._cache.pop("engine", None)  # settle from here on with the values that arrived
    _resettle(session, set().union(*(a.persons_touched for a in out.values())))
    summary = {NAMES[t]: {"新增": a.added, "更新": a.updated, "已有": a.same, "冲突": a.conflicts,
                          "暂存": a.held}
               for t, a in out.items() if a.added or a.updated or a.same or a.conflicts or a.held}
    if summary:
        audit.append(conn, session.user, f"接收其他站点的记录（{source}）", "sync", me, None,
                     {"summary": summary, "applications_followed": followed})
    return out


def _resettle(session: Session, persons: set[str]) -> None:
    """Bills of people whose categories arrived are settled again here, as a category entered here would."""
    from app.services.bills import store_year

    for person_id in sorted(persons):
        # Settlements of another site's bills are that site's to make (it receives the category too); settling
        # them here would make second settlements of the same bills, owned here, and send them to the county.
        if session.conn.execute("SELECT 1 FROM visits WHERE person_id = ? AND site_id IS NOT NULL LIMIT 1",
                                (person_id,)).fetchone():
            continue
        years = session.conn.execute("SELECT DISTINCT substr(discharged_on, 1, 4) FROM visits WHERE person_id = ?",
                                     (person_id,)).fetchall()
        for (year,) in years:
            store_year(session, person_id, int(year))
