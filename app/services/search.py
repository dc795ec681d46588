"""Finding people: by ID number, by name, by pinyin initials (zs finds 张三), and by village."""

from __future__ import annotations

import re

from app.domain.idnumber import normalise
from app.services.session import Session
from app.store import reads

_COLUMNS = ("p.id, p.name, p.id_type, p.id_number, p.sex, p.birth_date, p.relation_to_head, p.household_id, "
            "h.region_code, h.address")
_TOP = "\U0010ffff"


def _prefix(column: str, value: str) -> tuple[str, tuple[str, str]]:
    # A range instead of LIKE, so the index on the column is used for any characters.
    return f"{column} >= ? AND {column} < ?", (value, value + _TOP)


def person_match(query: str) -> tuple[str, tuple, str]:
    """The condition on persons `p` a query means (ID number, pinyin initials or name prefix), its parameters, and
    the indexed order that lets LIMIT stop early; an empty query matches everyone."""
    q = normalise(query or "")
    if re.fullmatch(r"\d{4,17}[\dX]?", q):
        return (*_prefix("p.id_number", q), "p.id_number")
    if re.fullmatch(r"[a-zA-Z]+", q):
        return (*_prefix("p.name_initials", q.lower()), "p.name_initials, p.name")
    if q:
        return (*_prefix("p.name", q), "p.name")
    return "", (), "p.name"


def search_ids(session: Session, query: str, village: str | None = None, limit: int | None = 200) -> list[str]:
    """Person ids matching the query within the user's jurisdiction (and the village, if given), by name."""
    where, params = [], []
    clause, p, order = person_match(query)
    if clause:
        where.append(clause)
        params.extend(p)
    scope = village or session.user.jurisdiction
    if scope:
        if not village and not session.user.covers(scope):
            return []
        c, p = reads.scope(scope)
        where.append(c)
        params.extend(p)
    if village and session.user.jurisdiction and not village.startswith(session.user.jurisdiction):
        return []
    sql = (f"SELECT p.id FROM persons p JOIN households h ON h.id = p.household_id "
           f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order}")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [r[0] for r in session.conn.execute(sql, params)]


def fetch_people(session: Session, ids: list[str]) -> list[dict]:
    """The display rows for some person ids, in the order given."""
    if not ids:
        return []
    rows = session.store.db.query(f"SELECT {_COLUMNS} FROM persons p JOIN households h ON h.id = p.household_id "
                                  f"WHERE p.id IN ({', '.join('?' * len(ids))})", ids)
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def search_people(session: Session, query: str, village: str | None = None, limit: int = 50) -> list[dict]:
    """Rows for the first `limit` people matching the query."""
    return fetch_people(session, search_ids(session, query, village, limit))
