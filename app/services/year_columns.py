"""A county year's bills read as batch columns (app/policy/batch.py), with what each bill's settlement stores now.

One pass over the year's live visits in settling order (person, discharge date, entry), the stored settlement beside
each; the people's categories and schemes from one query each. Amounts become integer fen in SQL: they are stored
with two decimals and below 10^12 元, so the double SQLite computes is within 0.03 fen of the whole fen it rounds to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.names import DEFAULT_INSURANCE, HOSPITAL_LEVEL_ALIASES, HOSPITAL_LEVELS, VISIT_KINDS
from app.policy.batch import COND_BIT, YearColumns
from app.policy.tiers.common import COND_FIELD
from app.services.session import Session
from app.store import reads

TIERS = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")
_LEVEL = {alias: HOSPITAL_LEVELS.index(level) for alias, level in HOSPITAL_LEVEL_ALIASES.items()}
# The visit's yes/no fields in one integer, a bit per condition (the visits columns are named as the Visit fields).
_FLAGS_SQL = " + ".join(f"{COND_BIT[cond]} * v.{name}" for cond, name in COND_FIELD.items())
_KIND_SQL = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(VISIT_KINDS))


def _fen(column: str) -> str:
    return f"CASE WHEN {column} IS NULL THEN -1 ELSE CAST(round({column} * 100) AS INTEGER) END"


@dataclass
class CountyYear:
    """The year's people (one person-year each) as batch columns, and each visit's stored settlement."""

    year: int
    cols: YearColumns
    person_ids: list[str]          # per person-year
    visit_ids: list[str]           # per visit
    mixed: np.ndarray              # per person-year: categories change between the year's visits (settled per visit)
    stored: dict[str, np.ndarray]  # per visit: the stored tiers and personal_pay in fen, -1 where none is stored
    stored_category: list[str | None]   # per visit
    stored_version: list[str | None]    # per visit: policy_id + " " + policy_version


def read_year(session: Session, year: int, first: str = "", last: str = "\U0010ffff",
              people: set[str] | None = None) -> CountyYear:
    """The user's jurisdiction's live bills of `year` of people with ids from `first` to `last` (a chunk); given
    `people` (already within the jurisdiction), only theirs, without joining each bill to its household."""
    conn = session.conn
    where, param = reads.scope(session.user.jurisdiction)
    start, end = f"{year}-01-01", f"{year}-12-31"
    joins = "JOIN persons p ON p.id = v.person_id JOIN households h ON h.id = p.household_id "
    if people is not None:
        joins, where, param = "", "1", ()
    rows = conn.execute(
        f"SELECT v.id, v.person_id, v.discharged_on, CASE v.kind {_KIND_SQL} END, {_fen('v.total_cost')}, "
        f"{_fen('v.policy_covered')}, {_fen('v.basic_paid')}, {_fen('v.serious_illness_paid')}, "
        f"{_FLAGS_SQL}, v.hospital_level, "
        f"{', '.join(_fen('s.' + t) for t in (*TIERS, 'personal_pay'))}, s.applied_category, "
        "s.policy_id || ' ' || s.policy_version "
        f"FROM visits v {joins}LEFT JOIN settlements s ON s.visit_id = v.id "
        f"WHERE v.person_id BETWEEN ? AND ? AND v.discharged_on BETWEEN ? AND ? AND v.status = 'live' AND {where} "
        "ORDER BY v.person_id, v.discharged_on, v.created_at", (first, last, start, end, *param)).fetchall()
    if people is not None:
        rows = [r for r in rows if r[1] in people]
    columns = list(zip(*rows)) if rows else [()] * 17
    pids = columns[1]
    new_case = np.r_[True, np.array(pids[1:]) != np.array(pids[:-1])] if rows else np.zeros(0, bool)
    case = np.cumsum(new_case) - 1
    person_ids = [p for p, new in zip(pids, new_case) if new]
    dates = np.array(columns[2], "datetime64[D]")
    flags = np.array(columns[8], np.int64)
    periods = _periods(session, year, first, last, where, param)
    insurance = dict(conn.execute("SELECT person_id, insurance FROM enrollments WHERE year = ? AND person_id "
                                  "BETWEEN ? AND ?", (year, first, last)).fetchall())
    first_day = np.zeros(len(person_ids), "datetime64[D]")
    last_day = np.zeros(len(person_ids), "datetime64[D]")
    if rows:
        first_day[case[::-1]] = dates[::-1]
        last_day[case] = dates
    categories, mixed = [], np.zeros(len(person_ids), bool)
    for n, pid in enumerate(person_ids):
        cats, changes = _held(periods.get(pid, ()), str(first_day[n]), str(last_day[n]))
        categories.append(cats)
        mixed[n] = changes
    cols = YearColumns(
        categories=categories, insurance=[insurance.get(p, DEFAULT_INSURANCE) for p in person_ids],
        application=np.zeros(len(person_ids), bool), case=case.astype(np.int64), date=dates,
        kind=np.array(columns[3], np.int8), total_cost=np.array(columns[4], np.int64),
        policy_covered=np.array(columns[5], np.int64), basic_paid=np.array(columns[6], np.int64),
        serious_illness_paid=np.array(columns[7], np.int64),
        **{name: (flags & COND_BIT[cond]) > 0 for cond, name in COND_FIELD.items()},
        hospital_level=np.array([_LEVEL.get(lv, -1) if lv else -1 for lv in columns[9]], np.int8),
        ids=list(columns[0]))
    stored = {t: np.array(columns[10 + i], np.int64) for i, t in enumerate((*TIERS, "personal_pay"))}
    return CountyYear(year, cols, person_ids, list(columns[0]), mixed, stored, list(columns[15]), list(columns[16]))


def _periods(session: Session, year: int, first: str, last: str, where: str,
             param: tuple) -> dict[str, list[tuple[str, str, str | None]]]:
    """Each person's category periods that reach into the year: (category, valid_from, valid_to)."""
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for pid, cat, start, stop in session.conn.execute(
            "SELECT c.person_id, c.category, c.valid_from, c.valid_to FROM category_periods c "
            "JOIN persons p ON p.id = c.person_id JOIN households h ON h.id = p.household_id "
            f"WHERE c.person_id BETWEEN ? AND ? AND c.valid_from <= ? AND (c.valid_to IS NULL OR c.valid_to >= ?) "
            f"AND {where}", (first, last, f"{year}-12-31", f"{year}-01-01", *param)):
        out.setdefault(pid, []).append((cat, start, stop))
    return out


def _held(periods, first: str, last: str) -> tuple[tuple[str, ...], bool]:
    """The categories held on the year's last visit (as reads.categories_on gives them), and whether any period
    begins or ends between the first and the last visit (then each visit has its own categories)."""
    held = tuple(sorted(c for c, start, stop in periods if start <= last and (stop is None or stop >= last)))
    changes = any(first < start <= last or (stop is not None and first <= stop < last) for _, start, stop in periods)
    return held, changes


def chunks(ids: list[str], size: int) -> list[tuple[str, str, int]]:
    """The sorted person ids cut into ranges of about `size` people: (first, last, count)."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1], min(size, len(ids) - i)) for i in range(0, len(ids), size)]

