"""A household's year at a glance: members, their categories, the three tiers' totals and warnings."""

from __future__ import annotations

import json
from decimal import Decimal

from app.domain.money import ZERO, fmt
from app.services.registry import household as _household
from app.services.session import Session

_TOTAL_KEYS = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid",
               "application_assistance_paid", "re_assistance_paid", "personal_pay")


def household_year(session: Session, household_id: str, year: int) -> dict:
    """Members with their categories in force during the year, per-member and household totals, warnings."""
    household = _household(session, household_id)
    conn = session.conn
    members = []
    household_totals = {k: ZERO for k in _TOTAL_KEYS}
    household_totals["total_cost"] = ZERO
    for p in conn.execute("SELECT * FROM persons WHERE household_id = ? ORDER BY relation_to_head != '户主', "
                          "birth_date", (household_id,)):
        cats = [dict(r) for r in conn.execute(
            "SELECT category, valid_from, valid_to, certified_by FROM category_periods WHERE person_id = ? "
            "AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) ORDER BY valid_from",
            (p["id"], f"{year}-12-31", f"{year}-01-01"))]
        annual = conn.execute("SELECT * FROM annual_settlements WHERE person_id = ? AND year = ?",
                              (p["id"], year)).fetchone()
        visits = conn.execute("SELECT count(*) FROM visits "
                              "WHERE person_id = ? AND discharged_on BETWEEN ? AND ? AND status = 'live'",
                              (p["id"], f"{year}-01-01", f"{year}-12-31")).fetchone()
        total_cost = sum((Decimal(r[0]) for r in conn.execute(
            "SELECT total_cost FROM visits WHERE person_id = ? AND discharged_on BETWEEN ? AND ? "
            "AND status = 'live'",
            (p["id"], f"{year}-01-01", f"{year}-12-31"))), ZERO)
        totals = {k: Decimal(v) for k, v in json.loads(annual["totals"]).items()} if annual else {}
        for k in _TOTAL_KEYS:
            household_totals[k] += totals.get(k, ZERO)
        household_totals["total_cost"] += total_cost
        members.append({
            "person_id": p["id"], "name": p["name"], "relation_to_head": p["relation_to_head"],
            "categories": cats, "visits": visits[0], "total_cost": fmt(total_cost),
            "applied_category": annual["applied_category"] if annual else None,
            "totals": {k: fmt(v) for k, v in totals.items()},
            "warnings": json.loads(annual["warnings"]) if annual else [],
        })
    return {"household_id": household_id, "address": household["address"], "region_code": household["region_code"],
            "year": year, "members": members, "totals": {k: fmt(v) for k, v in household_totals.items()}}
