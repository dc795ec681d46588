"""The one seam of 政策测算: a county year's visits read in bulk, and settled under one engine, per visit tier amounts.

`settle_years` is the only place the simulation settles anything. Today it runs the per-visit engine through the
same function the stored settlements come from (bills.due_by_visit), so a simulation of "no change" is the stored
year to the fen; a batch path settling columns can take its place without the simulation changing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from app.domain.case import Visit
from app.domain.money import ZERO
from app.domain.names import DEFAULT_INSURANCE
from app.policy.engine import Engine
from app.services.bills import TIERS, due_by_visit
from app.store import reads


@dataclass(frozen=True, slots=True)
class PersonYear:
    """One person's live visits of the year, in settling order, with what the settlement needs besides them."""

    person_id: str
    region_code: str                          # the household's 12-digit code (township = first 9)
    insurance: str
    visits: tuple[Visit, ...]
    categories: tuple[tuple[str, ...], ...]   # the categories held on each visit's discharge date


@dataclass(frozen=True, slots=True)
class YearAmounts:
    """What one person's year is due under one engine: each visit's tiers (in TIERS order) and the year's own tiers."""

    category: str                                   # the category the year's last visit is settled under (就高)
    visits: tuple[tuple[Decimal, ...], ...]        # per visit: basic, serious illness, assistance, tilt
    re_assistance: Decimal = ZERO
    application: Decimal = ZERO

    def tier(self, index: int) -> Decimal:
        return sum((v[index] for v in self.visits), ZERO)


def settle_years(eng: Engine, years: Iterable[PersonYear]) -> Iterator[YearAmounts]:
    """Settle each person-year under `eng` (the policy and the county's local values), in order, writing nothing.

    A generator, so a caller can count progress and stop between two people."""
    for py in years:
        dues = due_by_visit(eng, list(py.visits), list(py.categories), py.insurance, explain=False)
        last = dues[-1].result
        yield YearAmounts(dues[-1].category, tuple(tuple(d.amounts[t] for t in TIERS) for d in dues),
                          last.re_assistance_paid, last.application_assistance_paid)


def read_year(conn: sqlite3.Connection, jurisdiction: str, year: int, until: str | None = None) -> list[PersonYear]:
    """Every person's live visits of `year` discharged up to `until` within a jurisdiction, in three queries."""
    where, param = reads.scope(jurisdiction)
    last = until or f"{year}-12-31"
    visits = conn.execute(
        "SELECT v.*, h.region_code AS household_region FROM visits v CROSS JOIN persons p ON p.id = v.person_id "
        f"CROSS JOIN households h ON h.id = p.household_id WHERE v.discharged_on BETWEEN ? AND ? "
        f"AND v.status = 'live' AND {where} ORDER BY v.person_id, v.discharged_on, v.created_at",
        (f"{year}-01-01", last, *param))
    periods: dict[str, list[tuple[str, str, str | None]]] = {}
    for r in conn.execute(
            "SELECT c.person_id, c.category, c.valid_from, c.valid_to FROM category_periods c "
            "CROSS JOIN persons p ON p.id = c.person_id CROSS JOIN households h ON h.id = p.household_id "
            f"WHERE c.valid_from <= ? AND (c.valid_to IS NULL OR c.valid_to >= ?) AND {where} ORDER BY c.category",
            (last, f"{year}-01-01", *param)):
        periods.setdefault(r[0], []).append((r[1], r[2], r[3]))
    insurance = dict(conn.execute("SELECT person_id, insurance FROM enrollments WHERE year = ?", (year,)).fetchall())
    out: list[PersonYear] = []
    person, region, rows = None, "", []

    def close() -> None:
        if person is None:
            return
        held = periods.get(person, [])
        days = [v.date.isoformat() for v in rows]
        cats = tuple(tuple(c for c, start, end in held if start <= day and (end is None or end >= day)) for day in days)
        out.append(PersonYear(person, region, insurance.get(person, DEFAULT_INSURANCE), tuple(rows), cats))

    for r in visits:
        if r["person_id"] != person:
            close()
            person, region, rows = r["person_id"], r["household_region"], []
        rows.append(reads.visit(r))
    close()
    return out
