"""The 监测预警 test of each candidate's year read from the stored settlements, where they answer it exactly.

The list used to settle every candidate's year again with the engine, once up to the month's end and again for each
earlier month until the first that met the test (~150 s of CPU for a county month). The stored settlement rows of the
year hold the engine's figures for every visit already: every change that moves an amount (a bill recorded, voided
or corrected, a category certified, a year re-settled, a received record) settles the year again in the same
transaction. Within a year whose visits all fall under the same categories and where the policy leaves one category
to apply, the engine settles each visit from the year's earlier visits only, so the first n visits of the stored
year are exactly what the engine gives for those n visits alone — the year up to any month's end. The test itself is
the engine's own (risk_check) over those figures.

A year the stored rows cannot answer that way goes back to the engine (monitoring._entry), as before: a visit
without a stored settlement or settled under another policy or policy version; a category period that starts or
ends between the year's first and last visit (the year is settled under the categories of its last visit, and 补差
moves amounts between visits);
several categories the policy could apply (就高不就低 compares the year's totals, which a shorter year can order
differently); stored visits settled under different categories. tests/services/test_monitoring_store.py holds the
list to the engine on demo counties.

One difference remains by design: where the county changed a local value and did not re-settle the years it reaches,
this reads what was settled (and paid), as statistics do, while the engine would use the new value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import NamedTuple

from app.domain.case import CaseError
from app.policy.result import SettleResult, VisitResult
from app.policy.tiers.annual import risk_check
from app.policy.tiers.common import Run
from app.services.county import engine
from app.services.session import Session


class _Bill(NamedTuple):
    """What the 监测预警 test reads of a visit: its kind and date."""

    kind: str
    date: date


class _Bills(NamedTuple):
    """The visits of the year up to some date, as the test reads a case."""

    visits: tuple[_Bill, ...]


@dataclass(frozen=True)
class StoredYear:
    """A candidate's year up to the month's end as the stored settlements hold it, visit by visit in settling order."""

    run: Run                          # the policy, its index and values, and the one category the year applies
    bills: tuple[_Bill, ...]
    results: tuple[VisitResult, ...]
    categories: tuple[str, ...]       # held at the month's end (shown on the list beside the applied category)

    def upto(self, n: int) -> SettleResult:
        """The engine's result for the year's first n visits: the stored figures and the engine's 监测预警 test."""
        run = Run(self.run.policy, self.run.index, _Bills(self.bills[:n]), self.run.cat, self.run.value)
        out = SettleResult(run.policy.id, "", run.cat, list(self.results[:n]))
        out.risk = risk_check(run, out)
        return out

    def reached(self, month: int) -> tuple[SettleResult, int] | None:
        """The year up to the month's end and the first month the test was met; None when it is not met."""
        result = self.upto(len(self.bills))
        if result.risk is None or not result.risk.reached:
            return None
        for earlier, same in groupby(range(len(self.bills)), key=lambda i: self.bills[i].date.month):
            n = max(same) + 1
            if earlier >= month:
                break
            then = self.upto(n)
            if then.risk is not None and then.risk.reached:
                return result, earlier
        return result, month


def _held(periods: list[tuple[str, str, str | None]], day: str) -> tuple[str, ...]:
    """The categories held on a day (reads.categories_on over periods already read)."""
    return tuple(sorted(c for c, start, end in periods if start <= day and (end is None or end >= day)))


def _changes_between(periods, first: str, last: str) -> bool:
    """Whether a period starts or ends between two days, so that the categories held may differ between them."""
    return any(first < start <= last or (end is not None and first <= end < last) for _, start, end in periods)


def stored_years(session: Session, year: int, as_of: date, people: list[str]) -> dict[str, StoredYear]:
    """The candidates' years the stored settlements answer exactly (see the module's docstring); others are left out."""
    eng = engine(session)
    ids = json.dumps(people)
    periods: dict[str, list] = {}
    for row in session.conn.execute(
            "SELECT c.person_id, c.category, c.valid_from, c.valid_to FROM json_each(?) j "
            "CROSS JOIN category_periods c ON c.person_id = j.value", (ids,)):
        periods.setdefault(row[0], []).append((row[1], row[2], row[3]))
    rows = session.conn.execute(
        "SELECT v.person_id, v.discharged_on, v.kind, v.total_cost, v.policy_covered, s.policy_id, s.policy_version, "
        "s.applied_category, s.basic_paid, s.serious_illness_paid, s.assistance_paid, s.tilt_assistance_paid "
        "FROM json_each(?) j CROSS JOIN visits v ON v.person_id = j.value "
        "LEFT JOIN settlements s ON s.visit_id = v.id "
        "WHERE v.discharged_on BETWEEN ? AND ? AND v.status = 'live' "
        "ORDER BY v.person_id, v.discharged_on, v.created_at", (ids, f"{year}-01-01", as_of.isoformat()))
    found = {}
    for person_id, visits in groupby(rows, key=lambda r: r[0]):
        visits = list(visits)
        held = periods.get(person_id, ())
        applied = {v[7] for v in visits}
        if (len(applied) != 1 or _changes_between(held, visits[0][1], visits[-1][1])
                or any(v[5] != eng.policy.id or v[6] != eng.loaded.version for v in visits)):
            continue
        try:
            candidates = eng.index.candidates(_held(held, visits[0][1]), None)
        except CaseError:  # a category the policy does not know: the engine says so, as before
            continue
        if candidates != [*applied]:
            continue
        found[person_id] = StoredYear(
            Run(eng.policy, eng.index, None, candidates[0], eng.resolver.value),
            tuple(_Bill(v[2], date.fromisoformat(v[1])) for v in visits),
            tuple(VisitResult(person_id, Decimal(v[3]), Decimal(v[4]), Decimal(v[8]), Decimal(v[9]), Decimal(v[10]),
                              Decimal(v[11])) for v in visits),
            _held(held, as_of.isoformat()))
    return found
