"""Taking records made at other sites into this one: merge by UUID, follow new steps, re-settle, audit once."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.exchange import steps
from app.exchange.merge import Applied, apply, drop_headless
from app.exchange.records import NAMES, Entity, entities, site_id
from app.services.session import Session
from app.store import audit


def receive(session: Session, batches: Callable[[Entity], Iterable[list[tuple]]], source: str,
            progress: Callable[[str, int], None] | None = None) -> dict[str, Applied]:
    """Merge every batch, parents first, inside the caller's transaction; returns what happened per kind."""
    conn = session.conn
    me = site_id(conn)
    out: dict[str, Applied] = {}
    for e in entities(conn):
        done = out[e.table] = Applied()
        for rows in batches(e):
            done.add(apply(conn, session.user, e, rows, me, source))
            if progress:
                progress(e.name, done.added + done.updated + done.same + done.conflicts)
    dropped = drop_headless(conn, session.user, out["households"].households_added, source)
    out["households"].added -= dropped
    out["households"].conflicts += dropped
    touched_apps = set().union(*(a.applications_touched for a in out.values()))
    followed = sum(steps.follow(conn, session.user, app_id) for app_id in sorted(touched_apps))
    _resettle(session, set().union(*(a.persons_touched for a in out.values())))
    summary = {NAMES[t]: {"新增": a.added, "更新": a.updated, "已有": a.same, "冲突": a.conflicts}
               for t, a in out.items() if a.added or a.updated or a.same or a.conflicts}
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
