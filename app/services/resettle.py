"""Re-settlement of a county year with the batch path: read, settle in columns, write only the people that changed.

Every person of the year is settled by app/policy/batch.py and compared with what is stored (each bill's four
tiers, personal pay, applied category and policy version; the year's warnings). A person whose stored settlement
already agrees is not touched. A person who differs is re-settled by bills.store_year in their own transaction:
the per-visit engine writes the explanation, the audited write path (app/store/records.py) the rows, and
payments.reconcile the 补付/追回 lines for amounts already paid — exactly as a single re-settlement does. People whose
categories change within the year, and people with voided bills still holding amounts, go that way directly.

Stopping between two yields (cancel) leaves every person fully re-settled or untouched; running again finishes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from app.policy.batch import BatchResult, YearColumns, settle_columns
from app.services.county import engine
from app.services.session import Session
from app.services.year_columns import TIERS, CountyYear, chunks, read_year
from app.store import reads

# People read and compared per step: big enough that the columns pay off, small enough to report progress often.
CHUNK = 20_000
ZERO_FEN = "0.00"


def people_of_year(session: Session, year: int) -> list[str]:
    """Everyone in the user's jurisdiction with a bill (live or voided) discharged in the year, by id."""
    where, param = reads.scope(session.user.jurisdiction)
    return [r[0] for r in session.conn.execute(
        "SELECT DISTINCT v.person_id FROM visits v JOIN persons p ON p.id = v.person_id "
        f"JOIN households h ON h.id = p.household_id WHERE v.discharged_on BETWEEN ? AND ? AND {where} "
        "ORDER BY v.person_id", (f"{year}-01-01", f"{year}-12-31", *param))]


def changed_people(session: Session, year: int, chunk: int = CHUNK) -> Iterator[tuple[int, list[str]]]:
    """Per chunk of the year's people: how many were compared, and those whose stored settlement differs from what
    settling them now gives (in id order). Reads only."""
    people = people_of_year(session, year)
    at = 0
    for first, last, count in chunks(people, chunk):
        mine = set(people[at:at + count])
        at += count
        county = read_year(session, year, first, last, mine)
        # People with no live bill left in the year (all voided) are settled per visit: their rows go to zero.
        differ = mine - set(county.person_ids)
        differ |= _stale_voids(session, year, first, last)
        differ |= _differing(session, county)
        yield count, sorted(differ)


def _stale_voids(session: Session, year: int, first: str, last: str) -> set[str]:
    """People with a voided bill whose settlement still holds an amount (a re-settlement zeroes it)."""
    amounts = " OR ".join(f"s.{t} != '{ZERO_FEN}'" for t in (*TIERS, "personal_pay"))
    return {r[0] for r in session.conn.execute(
        "SELECT DISTINCT s.person_id FROM settlements s JOIN visits v ON v.id = s.visit_id "
        f"WHERE s.year = ? AND s.person_id BETWEEN ? AND ? AND v.status != 'live' AND ({amounts})",
        (year, first, last))}


def _differing(session: Session, county: CountyYear) -> set[str]:
    """The people of `county` whose stored settlement is not what the batch gives now."""
    cols = county.cols
    eng = engine(session)
    if not cols.cases:
        return set()
    settle = ~county.mixed
    result = settle_columns(eng, _subset(cols, settle)) if settle.any() else None
    differ = county.mixed.copy()
    if result is not None:
        in_subset = np.flatnonzero(settle)
        visit_rows = np.isin(cols.case, in_subset)
        differ[in_subset] |= _visits_differ(county, result, visit_rows, eng)
        differ[in_subset] |= _years_differ(session, county, result, in_subset, eng)
    return {county.person_ids[n] for n in np.flatnonzero(differ).tolist()}


def _subset(cols, keep: np.ndarray):
    """The columns of the person-years in `keep` (numbered again from 0)."""
    if keep.all():
        return cols
    rows = keep[cols.case]
    renumber = np.cumsum(keep) - 1
    idx = np.flatnonzero(keep).tolist()
    return YearColumns(
        categories=[cols.categories[n] for n in idx], insurance=[cols.insurance[n] for n in idx],
        application=cols.application[keep], case=renumber[cols.case[rows]], date=cols.date[rows],
        kind=cols.kind[rows], total_cost=cols.total_cost[rows], policy_covered=cols.policy_covered[rows],
        basic_paid=cols.basic_paid[rows], serious_illness_paid=cols.serious_illness_paid[rows],
        referred=cols.referred[rows], in_province=cols.in_province[rows], major_disease=cols.major_disease[rows],
        hospital_level=cols.hospital_level[rows], emergency=cols.emergency[rows],
        in_insured_area=cols.in_insured_area[rows], filed_remote=cols.filed_remote[rows],
        ids=[cols.ids[i] for i in np.flatnonzero(rows).tolist()] if cols.ids is not None else None)


def _visits_differ(county: CountyYear, result: BatchResult, rows: np.ndarray, eng) -> np.ndarray:
    """Per settled person-year: whether any of its bills' stored settlement differs (or is missing)."""
    tiers = result.tiers()
    stored = county.stored
    bad = np.zeros(len(tiers[0]), bool)
    for name, new in zip(TIERS, tiers):
        bad |= stored[name][rows] != new
    personal = county.cols.total_cost[rows] - sum(tiers)
    bad |= stored["personal_pay"][rows] != personal
    local = _local_case(county.cols.case[rows])
    where = np.flatnonzero(rows).tolist()
    bad |= np.array([county.stored_category[i] for i in where], object) != np.array(result.applied_category,
                                                                                    object)[local]
    bad |= np.array([county.stored_version[i] for i in where], object) != f"{eng.policy.id} {eng.loaded.version}"
    out = np.zeros(len(result.applied_category), bool)
    out[local[bad]] = True
    return out


def _local_case(case: np.ndarray) -> np.ndarray:
    """Person-year numbers of a subset's rows, numbered again from 0 in order."""
    new = np.r_[True, case[1:] != case[:-1]] if len(case) else np.zeros(0, bool)
    return np.cumsum(new) - 1


def _years_differ(session: Session, county: CountyYear, result: BatchResult, in_subset: np.ndarray,
                  eng) -> np.ndarray:
    """Per settled person-year: whether its stored annual settlement differs in category, version or warnings.

    Its totals follow from its bills' rows (compared already) and, for 依申请 and 再救助, from amounts only a case
    that applied has; a person who applied is re-settled by the per-visit path whenever anything of theirs differs."""
    ids = [county.person_ids[n] for n in in_subset.tolist()]
    stored = {r[0]: r[1:] for r in session.conn.execute(
        "SELECT person_id, applied_category, policy_id || ' ' || policy_version, warnings FROM annual_settlements "
        "WHERE year = ? AND person_id BETWEEN ? AND ?", (county.year, ids[0], ids[-1]))}
    version = f"{eng.policy.id} {eng.loaded.version}"
    warnings = result.warnings
    out = np.zeros(len(ids), bool)
    for n, pid in enumerate(ids):
        kept = stored.get(pid)
        if kept is None or kept[0] != result.applied_category[n] or kept[1] != version:
            out[n] = True
            continue
        out[n] = kept[2] != warnings.as_json(n)
    return out
