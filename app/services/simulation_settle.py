"""The one seam of 政策测算: a county year's visits read as columns (integer fen), settled under one engine, per-visit
tier amounts back as columns.

`settle_part` is the only place the simulation settles anything: the batch path (app/policy/batch.py, settle_columns,
held to the per-visit engine's fen by its differential test) for person-years whose categories hold all year, and its
visit-by-visit form of the function the stored settlements come from (bills.due_by_visit; app/policy/batch_changing.py)
for those whose categories change within it, so a simulation of "no change" is the stored year to the fen.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from app.domain.names import DEFAULT_INSURANCE, HOSPITAL_LEVELS, VISIT_KINDS
from app.policy import batch
from app.policy.batch_changing import settle_changing
from app.policy.engine import Engine
from app.services.bills import TIERS
from app.store import reads

KIND = {k: i for i, k in enumerate(VISIT_KINDS)}
LEVEL = {lv: i for i, lv in enumerate(HOSPITAL_LEVELS)}


@dataclass
class YearData:
    """Person-years (sorted by person id) and their live visits in settling order, as columns; amounts in int64 fen,
    -1 in basic_paid / serious_illness_paid where the slip has no figure (the engine computes it). The visit columns
    are those of the batch path's YearColumns."""

    person_ids: list[str]
    regions: list[str]                     # the household's 12-digit code
    insurance: list[str]
    categories: list[tuple[str, ...]]      # held on the person's visit dates when they do not change in the year
    changing: dict[int, list[tuple[str, ...]]]   # person-years whose categories change: those held on each visit
    case: np.ndarray                       # per visit: index of its person-year
    date: np.ndarray                       # datetime64[D], the discharge date
    kind: np.ndarray                       # int8 index in VISIT_KINDS
    total_cost: np.ndarray
    policy_covered: np.ndarray
    basic_paid: np.ndarray
    serious_illness_paid: np.ndarray
    referred: np.ndarray
    in_province: np.ndarray
    major_disease: np.ndarray
    hospital_level: np.ndarray             # int8 index in HOSPITAL_LEVELS, -1 where the bill has none
    ids: list[str] | None = None           # per visit: the id an explanation names (default v1, v2 …)
    later: np.ndarray | None = None        # bool, one row per batch.LATER_FLAGS (急诊, 参保地, 备案); None: defaults

    @property
    def people(self) -> int:
        return len(self.person_ids)

    @property
    def visits(self) -> int:
        return len(self.case)

    @property
    def starts(self) -> np.ndarray:
        """Each person-year's first visit (every person-year has one)."""
        return np.searchsorted(self.case, np.arange(self.people))

    def part(self, lo: int, hi: int) -> YearData:
        """Person-years lo..hi (their visits are contiguous), renumbered from 0."""
        a, b = np.searchsorted(self.case, [lo, hi])
        cut = slice(int(a), int(b))
        return YearData(self.person_ids[lo:hi], self.regions[lo:hi], self.insurance[lo:hi], self.categories[lo:hi],
                        {n - lo: c for n, c in self.changing.items() if lo <= n < hi}, self.case[cut] - lo,
                        self.date[cut], self.kind[cut], self.total_cost[cut], self.policy_covered[cut],
                        self.basic_paid[cut], self.serious_illness_paid[cut], self.referred[cut],
                        self.in_province[cut], self.major_disease[cut], self.hospital_level[cut],
                        self.ids[a:b] if self.ids is not None else None,
                        self.later[:, cut] if self.later is not None else None)


@dataclass
class Settled:
    """What a part's person-years are due under one engine: each visit's four tiers (int64 fen, TIERS order), each
    person-year's applied category and its own 再救助 and 依申请救助."""

    tiers: np.ndarray            # shape (4, visits)
    category: list[str]
    re_assistance: np.ndarray
    application: np.ndarray


def settle_part(eng: Engine, data: YearData) -> Settled:
    """Settle every person-year of `data` under `eng` (the policy and the county's local values), writing nothing.

    The batch path settles the person-years whose categories hold all year; one whose categories change within the
    year is settled as its stored settlement is, visit by visit under the categories of each visit's date
    (bills.due_by_visit), in columns too (app/policy/batch_changing.py)."""
    out = Settled(np.zeros((len(TIERS), data.visits), np.int64), [""] * data.people, np.zeros(data.people, np.int64),
                  np.zeros(data.people, np.int64))
    changing = np.array(sorted(data.changing), np.int64)
    steady = np.setdiff1d(np.arange(data.people), changing)
    changing_visits = np.isin(data.case, changing)
    for people, visits, settle in ((steady, ~changing_visits, _steady), (changing, changing_visits, _changing)):
        if not len(people):
            continue
        tiers, category, re_assistance, application = settle(eng, data, people, visits)
        out.tiers[:, visits] = tiers
        for k, n in enumerate(people.tolist()):
            out.category[n] = category[k]
        out.re_assistance[people] = re_assistance
        out.application[people] = application
    return out


def _steady(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray) -> tuple:
    result = batch.settle_columns(eng, _columns(data, people, visits))
    return (np.stack(result.tiers()), result.applied_category, result.re_assistance_paid,
            result.application_assistance_paid)


def _changing(eng: Engine, data: YearData, people: np.ndarray, visits: np.ndarray) -> tuple:
    held = [c for n in people.tolist() for c in data.changing[n]]
    result = settle_changing(eng, _columns(data, people, visits), held)
    return result.tiers, result.category, result.re_assistance, result.application


def _columns(data: YearData, people: np.ndarray, visits: np.ndarray) -> batch.YearColumns:
    """The batch path's columns for some person-years of `data` (their visits selected by `visits`)."""
    case = data.case[visits]
    return batch.YearColumns(
        categories=[data.categories[n] for n in people.tolist()], insurance=[data.insurance[n] for n in people.tolist()],
        application=np.zeros(len(people), bool), case=np.searchsorted(people, case), date=data.date[visits],
        kind=data.kind[visits], total_cost=data.total_cost[visits], policy_covered=data.policy_covered[visits],
        basic_paid=data.basic_paid[visits], serious_illness_paid=data.serious_illness_paid[visits],
        referred=data.referred[visits], in_province=data.in_province[visits],
        major_disease=data.major_disease[visits], hospital_level=data.hospital_level[visits],
        ids=[data.ids[i] for i in np.flatnonzero(visits).tolist()] if data.ids is not None else None,
        **({} if data.later is None else {f: data.later[j][visits] for j, f in enumerate(batch.LATER_FLAGS)}))


def join(parts: list[Settled]) -> Settled:
    """The parts of one column, in order, as one."""
    return Settled(np.concatenate([p.tiers for p in parts], axis=1), [c for p in parts for c in p.category],
                   np.concatenate([p.re_assistance for p in parts]), np.concatenate([p.application for p in parts]))


def _fen(column: str) -> str:
    # Amounts are stored as text with exactly two places (money.fmt), so the digits without the point are the fen.
    return f"CAST(replace({column}, '.', '') AS INTEGER)"


def _code(column: str, names: tuple[str, ...]) -> str:
    return f"CASE {column} " + " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(names)) + " ELSE -1 END"


# The visit columns in SQL: everything but the person as an integer, so that the rows become arrays cheaply; the
# date as days since 1970-01-01 (datetime64[D]'s own count).
_VISIT_COLUMNS = ", ".join([
    "person_id", "CAST(julianday(discharged_on) - 2440587.5 AS INTEGER)", _code("kind", VISIT_KINDS),
    _fen("total_cost"), _fen("policy_covered"), f"coalesce({_fen('basic_paid')}, -1)",
    f"coalesce({_fen('serious_illness_paid')}, -1)", "referred", "in_province", "major_disease",
    _code("hospital_level", HOSPITAL_LEVELS), *batch.LATER_FLAGS])


def read_year(conn: sqlite3.Connection, jurisdiction: str, year: int, until: str | None = None) -> YearData:
    """Every person's live visits of `year` discharged up to `until` within a jurisdiction, as columns, in four
    queries (the jurisdiction's people, their visits, category periods, enrollments)."""
    where, param = reads.scope(jurisdiction)
    first, last = f"{year}-01-01", until or f"{year}-12-31"
    region = dict(conn.execute("SELECT p.id, h.region_code FROM persons p CROSS JOIN households h "
                               f"ON h.id = p.household_id WHERE {where}", param).fetchall())
    rows = conn.execute(f"SELECT {_VISIT_COLUMNS} FROM visits WHERE discharged_on BETWEEN ? AND ? AND status = 'live' "
                        "ORDER BY person_id, discharged_on, created_at", (first, last)).fetchall()
    people: list[str] = []
    case: list[int] = []
    keep: list[int] = []
    for i, r in enumerate(rows):
        pid = r[0]
        if not people or pid != people[-1]:
            if pid not in region:
                continue   # outside the jurisdiction
            people.append(pid)
        case.append(len(people) - 1)
        keep.append(i)
    if len(keep) < len(rows):
        rows = [rows[i] for i in keep]
    column = list(zip(*rows)) if rows else [()] * (11 + len(batch.LATER_FLAGS))
    data = YearData(
        people, [region[p] for p in people], [], [], {}, np.array(case, np.int64),
        np.array(column[1], np.int64).astype("datetime64[D]"), np.array(column[2], np.int8),
        *(np.array(column[k], np.int64) for k in (3, 4, 5, 6)),
        *(np.array(column[k], bool) for k in (7, 8, 9)), np.array(column[10], np.int8), None,
        np.array(column[11:], bool).reshape(len(batch.LATER_FLAGS), len(case)))
    _held(conn, data, where, param, first, last)
    enrolled = dict(conn.execute("SELECT person_id, insurance FROM enrollments WHERE year = ?", (year,)).fetchall())
    data.insurance = [enrolled.get(p, DEFAULT_INSURANCE) for p in people]
    return data


def _held(conn: sqlite3.Connection, data: YearData, where: str, param: tuple, first: str, last: str) -> None:
    """Each person-year's categories: those held on its visits' dates, per visit where they change in the year."""
    periods: dict[str, list[tuple[str, str, str | None]]] = {}
    for r in conn.execute(
            "SELECT c.person_id, c.category, c.valid_from, c.valid_to FROM category_periods c "
            "CROSS JOIN persons p ON p.id = c.person_id CROSS JOIN households h ON h.id = p.household_id "
            f"WHERE c.valid_from <= ? AND (c.valid_to IS NULL OR c.valid_to >= ?) AND {where} ORDER BY c.category",
            (last, first, *param)):
        periods.setdefault(r[0], []).append((r[1], r[2], r[3]))
    starts = np.searchsorted(data.case, np.arange(data.people + 1)).tolist()
    dates = data.date.astype("U10").tolist() if periods else []
    data.categories.extend([()] * data.people)
    for n, pid in enumerate(data.person_ids):
        held = periods.get(pid)
        if not held:
            continue
        days = dates[starts[n]:starts[n + 1]]
        each = [tuple(c for c, start, end in held if start <= day and (end is None or end >= day)) for day in days]
        data.categories[n] = each[-1]
        if len(set(each)) > 1:
            data.changing[n] = each
