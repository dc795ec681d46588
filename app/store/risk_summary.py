"""Per person and month, what the 监测预警 test reads of the settled visits, kept by triggers for the monitoring list.

The monitoring list for a county month read every candidate's visits joined to their settlements (~70 s of CPU on a
two-million-visit county). This table holds, per (year, person, month, visit kind, applied category, policy and its
version), the number of live visits, their amounts summed in whole fen and the first and last day discharged, so
the list is one read of a narrow table (app/services/monitoring_summary.py). A visit without a settlement has a row
with NULL category and policy (the list hands such a year to the engine). An amount that is not plain "1234.56"-style
text makes its sum NULL (summary.fen), and the list then takes the exact Decimal path for that person.

Triggers made here (migration 16) rebuild the person-month a change touches in the same transaction: a visit added,
removed, voided or moved to another day, person or kind; a settlement added, changed or removed. Rebuilding the
month rather than adding and subtracting keeps first/last day exact after a void. Nothing else writes the table; it
holds no record of its own (never exported, never sealed) and rebuild() makes it again from the records.
"""

from __future__ import annotations

import sqlite3

from app.store.summary import fen

AMOUNTS = ("tc", "pc", "bp", "sp", "ap", "tp")
_SOURCES = ("v.total_cost", "v.policy_covered", "s.basic_paid", "s.serious_illness_paid", "s.assistance_paid",
            "s.tilt_assistance_paid")
COLUMNS = ("year", "person_id", "month", "kind", "category", "policy_id", "policy_version", "visits", *AMOUNTS,
           "first_day", "last_day")

TABLE = f"""CREATE TABLE risk_months (
    year INTEGER NOT NULL, person_id TEXT NOT NULL, month INTEGER NOT NULL, kind TEXT NOT NULL, category TEXT,
    policy_id TEXT, policy_version TEXT, visits INTEGER NOT NULL, {', '.join(f'{a} INTEGER' for a in AMOUNTS)},
    first_day TEXT NOT NULL, last_day TEXT NOT NULL)"""
# The list reads a year person by person from this index alone (every column, so no row is looked up: a county year
# is ~1.7 million rows); the triggers find a person's month by its first three columns.
INDEX = f"CREATE INDEX risk_months_year ON risk_months({', '.join(COLUMNS)})"


def _select(where: str) -> str:
    """The rows of risk_months the live visits selected by `where` (over visits v) make."""
    # A sum is NULL when any of its amounts is not plain text (count() skips NULLs), never a partial sum.
    sums = ", ".join(f"CASE WHEN count({fen(c)}) = count(*) THEN sum({fen(c)}) END" for c in _SOURCES)
    return (f"SELECT CAST(substr(v.discharged_on, 1, 4) AS INTEGER), v.person_id, "
            f"CAST(substr(v.discharged_on, 6, 2) AS INTEGER), v.kind, s.applied_category, s.policy_id, "
            f"s.policy_version, count(*), {sums}, min(v.discharged_on), max(v.discharged_on) "
            f"FROM visits v LEFT JOIN settlements s ON s.visit_id = v.id WHERE v.status = 'live' AND {where} "
            f"GROUP BY 1, 2, 3, v.kind, s.applied_category, s.policy_id, s.policy_version")


def _month(person: str, day: str) -> str:
    """The statements making the month of `day` for `person` again (both SQL expressions; NULL does nothing)."""
    return (f"DELETE FROM risk_months WHERE person_id = {person} AND year = CAST(substr({day}, 1, 4) AS INTEGER) "
            f"AND month = CAST(substr({day}, 6, 2) AS INTEGER); "
            f"INSERT INTO risk_months ({', '.join(COLUMNS)}) "
            + _select(f"v.person_id = {person} AND v.discharged_on >= substr({day}, 1, 7) || '-01' "
                      f"AND v.discharged_on <= substr({day}, 1, 7) || '-31'") + ";")


def _of_settlement(s: str) -> str:
    return _month(f"(SELECT person_id FROM visits WHERE id = {s}.visit_id)",
                  f"(SELECT discharged_on FROM visits WHERE id = {s}.visit_id)")


def _trigger(name: str, event: str, body: str) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW BEGIN {body} END"


TRIGGERS = [
    _trigger("risk_visit_insert", "INSERT ON visits", _month("NEW.person_id", "NEW.discharged_on")),
    _trigger("risk_visit_delete", "DELETE ON visits", _month("OLD.person_id", "OLD.discharged_on")),
    _trigger("risk_visit_update", "UPDATE OF discharged_on, total_cost, policy_covered, person_id, status, kind ON visits",
             _month("OLD.person_id", "OLD.discharged_on") + " " + _month("NEW.person_id", "NEW.discharged_on")),
    _trigger("risk_settlement_insert", "INSERT ON settlements", _of_settlement("NEW")),
    _trigger("risk_settlement_delete", "DELETE ON settlements", _of_settlement("OLD")),
    _trigger("risk_settlement_update", "UPDATE ON settlements", _of_settlement("OLD") + " " + _of_settlement("NEW")),
]


def rebuild(conn: sqlite3.Connection) -> None:
    """Fill the table afresh from the records (inside the caller's transaction)."""
    conn.execute("DELETE FROM risk_months")
    conn.execute(f"INSERT INTO risk_months ({', '.join(COLUMNS)}) {_select('true')}")


def drift(conn: sqlite3.Connection) -> list[str]:
    """For `check`: whether the rows differ from what the records make (a trigger lost, a hand edit)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'risk_months'").fetchone():
        return []
    kept, expected = f"SELECT {', '.join(COLUMNS)} FROM risk_months", _select("true")
    differ = conn.execute(f"SELECT (SELECT count(*) FROM ({kept} EXCEPT {expected})) "
                          f"+ (SELECT count(*) FROM ({expected} EXCEPT {kept}))").fetchone()[0]
    return [f"监测预警汇总与就诊、结算记录不一致（{differ} 行），监测预警名单可能有误；请联系县里的技术人员重建"] if differ else []


def create(conn: sqlite3.Connection) -> None:
    """The table, its index and triggers, and its rows from the records already there (migration 16)."""
    for statement in (TABLE, INDEX, *TRIGGERS):
        conn.execute(statement)
    rebuild(conn)
