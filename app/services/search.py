"""Finding people: by ID number, by name, by pinyin initials (zs finds 张三), and by village."""

from __future__ import annotations

import re

from app.domain.idnumber import normalise
from app.domain.names import SURNAME_INITIALS
from app.services.session import Session
from app.store import reads

_COLUMNS = ("p.id, p.name, p.id_type, p.id_number, p.sex, p.birth_date, p.relation_to_head, p.household_id, "
            "h.region_code, h.address")
_TOP = "\U0010ffff"


def _prefix(column: str, value: str) -> tuple[str, tuple[str, str]]:
    # A range instead of LIKE, so the index on the column is used for any characters.
    return f"{column} >= ? AND {column} < ?", (value, value + _TOP)


def surname_readings(query: str) -> list[tuple[str, tuple]]:
    """For initials typed by a surname's own reading (zxx: 曾小贤, stored cxx), the conditions that find the names
    stored with the usual reading: each a name prefix and stored initials, both by index. Searched one by one and put
    together (search_ids): one OR over them made SQLite walk every household of a county."""
    q = normalise(query or "").lower()
    if not re.fullmatch(r"[a-z]+", q):
        return []
    out = []
    for surname, (usual, own) in SURNAME_INITIALS.items():
        if own == q[0] and usual != own:
            name, name_args = _prefix("p.name", surname)
            stored, stored_args = _prefix("p.name_initials", usual + q[1:])
            out.append((f"{name} AND {stored}", (*name_args, *stored_args)))
    return out


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
    scope = village or session.user.jurisdiction
    if scope:
        if not village and not session.user.covers(scope):
            return []
        c, p = reads.scope(scope)
        where.append(c)
        params.extend(p)
    if village and session.user.jurisdiction and not village.startswith(session.user.jurisdiction):
        return []
    clause, p, order = person_match(query)
    found = _ids(session, [clause] if clause else [], (*p,), where, params, order, limit)
    readings = surname_readings(query)
    if not readings:
        return [r[0] for r in found]
    typed = normalise(query).lower()[0]
    keyed = [(r[1], r[2], r[0]) for r in found]
    for reading, args in readings:  # each by its own index, then merged as if stored with the surname's reading
        keyed += [(typed + r[1][1:], r[2], r[0]) for r in _ids(session, [reading], args, where, params, order, limit)]
    keyed.sort()
    return [r[2] for r in keyed[:limit]]


def _ids(session: Session, match: list[str], match_args: tuple, where: list[str], params: list, order: str,
         limit: int | None) -> list[tuple]:
    """(id, initials, name) of the people matching, in `order`, at most `limit`."""
    conditions = [*match, *where]
    sql = (f"SELECT p.id, p.name_initials, p.name FROM persons p JOIN households h ON h.id = p.household_id "
           f"{'WHERE ' + ' AND '.join(conditions) if conditions else ''} ORDER BY {order}")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return session.conn.execute(sql, (*match_args, *params)).fetchall()


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
