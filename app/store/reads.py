"""Named reads the services share: a person's visits of a year, categories on a date, insurance, jurisdiction scope."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import Case, Household, Visit
from app.domain.names import DEFAULT_INSURANCE


def year_visits(conn: sqlite3.Connection, person_id: str, year: int, until: str | None = None) -> list[dict]:
    """The person's live (not voided) visits of the year discharged up to `until` (the year's end if None), in
    settling order."""
    return [dict(r) for r in year_visit_rows(conn, person_id, year, until)]


def year_visit_rows(conn: sqlite3.Connection, person_id: str, year: int, until: str | None = None) -> list:
    """year_visits as the connection's rows, for readers that change none (a dict per row cost the monitoring list
    ~0.6 s of a county month's 8,000 years settled again)."""
    return conn.execute("SELECT * FROM visits WHERE person_id = ? AND discharged_on BETWEEN ? AND ? "
                        "AND status = 'live' ORDER BY discharged_on, created_at",
                        (person_id, f"{year}-01-01", until or f"{year}-12-31")).fetchall()


def visit(row: Any) -> Visit:
    """A stored visit row as the engine's Visit."""
    money = lambda v: Decimal(v) if v is not None else None  # noqa: E731
    return Visit(id=row["id"], date=date.fromisoformat(row["discharged_on"]), kind=row["kind"],
                 total_cost=Decimal(row["total_cost"]), policy_covered=Decimal(row["policy_covered"]),
                 basic_paid=money(row["basic_paid"]), serious_illness_paid=money(row["serious_illness_paid"]),
                 referred=bool(row["referred"]), in_province=bool(row["in_province"]),
                 hospital_level=row["hospital_level"], major_disease=bool(row["major_disease"]),
                 emergency=bool(row["emergency"]), in_insured_area=bool(row["in_insured_area"]),
                 filed_remote=bool(row["filed_remote"]))


def application_case(conn: sqlite3.Connection, a: Any, policy: str, passes_asset_check: bool | None) -> Case | None:
    """An application's year as the engine settles it for 依申请救助 (None: no live bill of the year here), the
    household as declared and `passes_asset_check` as 民政 found it."""
    rows = year_visits(conn, a["person_id"], a["year"])
    if not rows:
        return None
    return Case(policy=policy, visits=tuple(visit(r) for r in rows),
                categories=categories_on(conn, a["person_id"], rows[-1]["discharged_on"]),
                insurance=insurance(conn, a["person_id"], a["year"]), application=True,
                household=Household(Decimal(a["annual_income"]), Decimal(a["low_income_standard"]),
                                    passes_asset_check))


def categories_on(conn: sqlite3.Connection, person_id: str, day: str) -> tuple[str, ...]:
    """The categories a person held on a date."""
    rows = conn.execute("SELECT category FROM category_periods WHERE person_id = ? AND valid_from <= ? "
                        "AND (valid_to IS NULL OR valid_to >= ?) ORDER BY category", (person_id, day, day))
    return tuple(r["category"] for r in rows)


def insurance(conn: sqlite3.Connection, person_id: str, year: int) -> str:
    """The person's insurance scheme of the year (城乡居民医保 when none is recorded)."""
    row = conn.execute("SELECT insurance FROM enrollments WHERE person_id = ? AND year = ?", (person_id, year)).fetchone()
    return row["insurance"] if row else DEFAULT_INSURANCE


def bill_recorders(conn: sqlite3.Connection, person_id: str, year: int) -> list[str]:
    """Who recorded or corrected a bill of the person's year here, as this site's audit log shows (users' ids)."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT user_id FROM audit_log WHERE entity = 'visits' AND user_id IS NOT NULL AND entity_id IN "
        "(SELECT id FROM visits WHERE person_id = ? AND discharged_on BETWEEN ? AND ?)",
        (person_id, f"{year}-01-01", f"{year}-12-31"))]


def bounds(jurisdiction: str) -> tuple[str, str]:
    """The region codes within a jurisdiction are those from its prefix up to (not including) this upper bound."""
    return jurisdiction, jurisdiction + "\U0010ffff"


def scope(jurisdiction: str, column: str = "h.region_code") -> tuple[str, tuple[str, str]]:
    """The SQL condition (and its parameters) that keeps rows within a jurisdiction, a region-code prefix.

    Every query that lists records for a user takes its jurisdiction filter from here. A range rather than LIKE,
    because SQLite's LIKE is case-insensitive and so cannot use the region-code index."""
    return f"({column} >= ? AND {column} < ?)", bounds(jurisdiction)


def dated_locals(conn: sqlite3.Connection) -> dict[str, list[dict]]:
    """The county's local values changed from a date: per key, [{"from", "value"}] in date order.

    Two sites may each set the same key from the same date (the county office and a township before they synced):
    the later setting stands, as the later of two decisions on paper would."""
    out: dict[str, dict[str, str]] = {}
    for r in conn.execute("SELECT key, valid_from, value FROM local_values ORDER BY key, valid_from, updated_at, id"):
        out.setdefault(r["key"], {})[r["valid_from"]] = r["value"]
    return {k: [{"from": d, "value": v} for d, v in sorted(days.items())] for k, days in out.items()}
