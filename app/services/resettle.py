"""Re-settlement of a county year with the batch path: read, settle in columns, write only the people that changed.

Every person of the year is settled from columns (simulation_settle.settle_part: the batch path, and its
visit-by-visit form for years whose categories change within them) and compared with what is stored: each bill's
four tiers, personal pay, applied category and policy version, and the year's category, version and warnings. A
person whose stored settlement already agrees is not touched. A person who differs is re-settled by bills.store_year
in their own transaction: the per-visit engine writes the explanation, the audited write path (app/store/records.py)
the rows, and payments.reconcile the 补付/追回 lines for amounts already paid — exactly as a single re-settlement does.

Stopping between two yields (cancel) leaves every person fully re-settled or untouched; running again finishes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np

from app.domain.names import ORDINARY
from app.services.county import engine
from app.services.session import Session
from app.services.simulation_settle import Settled, settle_part
from app.services.year_columns import TIERS, YearData, chunks, connection, read_ranges, read_year
from app.store import reads

# People read and compared per step: big enough that the columns pay off, small enough to report progress often.
CHUNK = 20_000
NO_WARNINGS = "[]"


def people_of_year(session: Session, year: int) -> list[str]:
    """Everyone in the user's jurisdiction with a bill (live or voided) discharged in the year, by id."""
    where, param = reads.scope(session.user.jurisdiction)
    # The distinct people first (from the visits index alone), then only they are joined to their households.
    return [r[0] for r in session.conn.execute(
        "SELECT v.person_id FROM (SELECT DISTINCT person_id FROM visits WHERE discharged_on BETWEEN ? AND ?) v "
        f"CROSS JOIN persons p ON p.id = v.person_id CROSS JOIN households h ON h.id = p.household_id WHERE {where} "
        "ORDER BY v.person_id", (f"{year}-01-01", f"{year}-12-31", *param))]


def changed_people(session: Session, year: int, chunk: int = CHUNK) -> Iterator[tuple[int, list[str]]]:
    """Per chunk of the year's people: how many were compared, and those whose stored settlement differs from what
    settling them now gives (in id order). Reads only."""
    people = people_of_year(session, year)
    eng = engine(session)
    names = list(dict.fromkeys([*(c.name for c in eng.policy.categories), ORDINARY]))
    version = f"{eng.policy.id} {eng.loaded.version}"
    # Each chunk read, settled and compared in a worker process when the file is big (both cores), only whom to
    # re-settle coming back.
    pieces = [(session.user.jurisdiction, year, first, last, people[at:at + count], names, version, eng)
              for at, (first, last, count) in zip(range(0, len(people), chunk), chunks(people, chunk))]
    for piece, differ in zip(pieces, read_ranges(session.conn, session.store.path, pieces, _compare)):
        yield len(piece[4]), differ


def _compare(where, piece: tuple) -> list[str]:
    """A task for year_columns.read_ranges: of one chunk's people (jurisdiction, year, first, last, the people, the
    category names and policy version compared, the engine), those whose stored settlement differs, in id order."""
    jurisdiction, year, first, last, people, names, version, eng = piece
    with connection(where) as conn:
        data = read_year(conn, jurisdiction, year, first=first, last=last, stored=(names, version))
        mine = set(people)
        # People with no live bill left in the year (all voided) are settled per visit: their rows go to zero.
        differ = mine - set(data.person_ids)
        differ |= data.stored.stale & mine
        if data.people:
            settled = settle_part(eng, data, annual=True)
            bad = _visits_differ(data, settled, names) | _years_differ(conn, year, data, settled, version)
            differ |= {data.person_ids[n] for n in np.flatnonzero(bad).tolist()}
    return sorted(differ)


def _visits_differ(data: YearData, settled: Settled, names: list[str]) -> np.ndarray:
    """Per person-year: whether any of its bills' stored settlement differs (or is missing)."""
    stored = data.stored
    bad = (stored.amounts[:len(TIERS)] != settled.tiers).any(axis=0)
    bad |= stored.amounts[len(TIERS)] != data.total_cost - settled.tiers.sum(axis=0)
    bad |= ~stored.current
    code = {name: i for i, name in enumerate(names)}
    category = np.array([code.get(c, -2) for c in settled.category], np.int64)[data.case]
    for visit, name in settled.visit_category.items():
        category[visit] = code.get(name, -2)
    bad |= stored.category != category
    return np.bincount(data.case[bad], minlength=data.people) > 0


def _years_differ(conn: sqlite3.Connection, year: int, data: YearData, settled: Settled, version: str) -> np.ndarray:
    """Per person-year: whether its stored annual settlement differs in category, version or warnings.

    Its totals follow from its bills' rows (compared already) and, for 依申请 and 再救助, from amounts only a case
    that applied has; a person who applied is re-settled by the per-visit path whenever anything of theirs differs."""
    stored = {r[0]: tuple(r[1:]) for r in conn.execute(
        "SELECT person_id, applied_category, policy_id || ' ' || policy_version, warnings FROM annual_settlements "
        "WHERE year = ? AND person_id BETWEEN ? AND ?", (year, data.person_ids[0], data.person_ids[-1]))}
    out = np.zeros(data.people, bool)
    for n, pid in enumerate(data.person_ids):
        kept = stored.get(pid)
        out[n] = (kept is None or kept[0] != settled.category[n] or kept[1] != version
                  or kept[2] != settled.warnings.get(n, NO_WARNINGS))
    return out
