"""Summary rows of the settled visits, kept by triggers in the same transaction as every change, for 统计 in a second.

A county year is two million settled visits; joining and summing them took about 19 s. These two tables hold what
the statistics need, derived from visits, settlements, persons and households and nothing else:

- stat_cells: per (year, month, village region code, applied category) the number of settled visits and each
  amount summed in whole fen (the 7 of app/services/statistics.py: visit total_cost and policy_covered, the
  settlement's four tiers paid and personal_pay). An amount that is not plain "1234.56"-style text counts in `bad`
  (and 0 in the sum), so that statistics can fall back to the exact Decimal path when a selected cell has one.
- stat_people: per (year, applied category, person) how many of the person's settled visits fall in each month
  (m1 … m12) and the person's current village: counting people ("人数", distinct) over any range of months. Each
  person's year also has a row under category ANY ("*") counting all their visits, so that people by township and
  by month are counted without grouping by person (a person settled under two categories is one person).

Triggers (made here, created by migration 11) keep both exact on every insert, update and delete of a settlement,
a change to a settled visit's date, amounts or person, a person moving household and a household changing its
region: each subtracts the row's old contribution and adds its new one. Nothing else writes these tables; they
hold no record of their own (never exported, never sealed) and can be rebuilt from the records at any time
(rebuild()). Dates are ISO text, as everywhere in the store: year and month are read from discharged_on.
"""

from __future__ import annotations

import sqlite3

MONTHS = tuple(range(1, 13))
ANY = "*"  # stat_people's row of a person's year under any category: people by township and month, read directly
AMOUNT_COLUMNS = ("a0", "a1", "a2", "a3", "a4", "a5", "a6")


def fen(column: str) -> str:
    """SQL for exact integer fen of a text amount, NULL when it is not plain decimal text with 0–2 places."""
    # The app writes "1234.56"; databases filled by earlier demo builds hold some "100" or "100.5". Anything else
    # (more decimals, an exponent, a space) comes out NULL, never REAL arithmetic on money.
    c = column
    return (f"CASE WHEN {c} GLOB '*[^0-9.-]*' OR {c} NOT GLOB '*[0-9]' THEN NULL "
            f"WHEN instr({c}, '.') = 0 THEN CAST({c} AS INTEGER) * 100 "
            f"WHEN length({c}) - instr({c}, '.') = 2 THEN CAST(replace({c}, '.', '') AS INTEGER) "
            f"WHEN length({c}) - instr({c}, '.') = 1 THEN CAST(replace({c}, '.', '') AS INTEGER) * 10 END")


TABLES = [
    f"""CREATE TABLE stat_cells (
        year INTEGER NOT NULL, month INTEGER NOT NULL, region_code TEXT NOT NULL, category TEXT NOT NULL,
        visits INTEGER NOT NULL, {', '.join(f'{a} INTEGER NOT NULL' for a in AMOUNT_COLUMNS)}, bad INTEGER NOT NULL,
        PRIMARY KEY (year, month, region_code, category))""",
    f"""CREATE TABLE stat_people (
        year INTEGER NOT NULL, person_id TEXT NOT NULL, category TEXT NOT NULL, region_code TEXT NOT NULL,
        {', '.join(f'm{m} INTEGER NOT NULL' for m in MONTHS)},
        PRIMARY KEY (year, category, person_id))""",
]

# The columns every source below yields for one settled visit.
_SOURCE_COLUMNS = ("y", "m", "region", "category", "person", "tc", "pc", "bp", "sp", "ap", "tp", "pp")
_AMOUNTS = ("tc", "pc", "bp", "sp", "ap", "tp", "pp")


def _visit_columns(v: str, s: str, region: str) -> str:
    return (f"CAST(substr({v}.discharged_on, 1, 4) AS INTEGER) AS y, "
            f"CAST(substr({v}.discharged_on, 6, 2) AS INTEGER) AS m, {region} AS region, "
            f"{s}.applied_category AS category, {v}.person_id AS person, {v}.total_cost AS tc, "
            f"{v}.policy_covered AS pc, {s}.basic_paid AS bp, {s}.serious_illness_paid AS sp, "
            f"{s}.assistance_paid AS ap, {s}.tilt_assistance_paid AS tp, {s}.personal_pay AS pp")


def _apply(sign: str, source: str) -> str:
    """The statements adding (sign "1") or taking away ("-1") the settled visits `source` selects."""
    fens = [fen(a) for a in _AMOUNTS]
    cells = (f"INSERT INTO stat_cells (year, month, region_code, category, visits, {', '.join(AMOUNT_COLUMNS)}, bad) "
             f"SELECT y, m, region, category, {sign}, "
             f"{', '.join(f'{sign} * coalesce({f}, 0)' for f in fens)}, "
             f"{sign} * ({' OR '.join(f'({f}) IS NULL' for f in fens)}) FROM ({source}) WHERE true "
             f"ON CONFLICT (year, month, region_code, category) DO UPDATE SET visits = visits + excluded.visits, "
             f"{', '.join(f'{a} = {a} + excluded.{a}' for a in AMOUNT_COLUMNS)}, bad = bad + excluded.bad;")
    people = " ".join(
        f"INSERT INTO stat_people (year, person_id, category, region_code, {', '.join(f'm{m}' for m in MONTHS)}) "
        f"SELECT y, person, {category}, region, {', '.join(f'{sign} * (m = {m})' for m in MONTHS)} "
        f"FROM ({source}) WHERE true "
        f"ON CONFLICT (year, category, person_id) DO UPDATE SET region_code = excluded.region_code, "
        f"{', '.join(f'm{m} = m{m} + excluded.m{m}' for m in MONTHS)};" for category in ("category", f"'{ANY}'"))
    return f"{cells} {people}"


def _of_settlement(s: str) -> str:
    return (f"SELECT {_visit_columns('v', s, 'h.region_code')} FROM visits v JOIN persons p ON p.id = v.person_id "
            f"JOIN households h ON h.id = p.household_id WHERE v.id = {s}.visit_id AND v.status = 'live'")


def _of_visit(v: str) -> str:
    return (f"SELECT {_visit_columns(v, 's', 'h.region_code')} FROM settlements s "
            f"JOIN persons p ON p.id = {v}.person_id JOIN households h ON h.id = p.household_id "
            f"WHERE s.visit_id = {v}.id AND {v}.status = 'live'")


def _of_household(h: str) -> str:
    return (f"SELECT {_visit_columns('v', 's', f'{h}.region_code')} FROM persons p "
            f"JOIN visits v ON v.person_id = p.id JOIN settlements s ON s.visit_id = v.id WHERE p.household_id = {h}.id "
            f"AND v.status = 'live'")


def _of_person(p: str) -> str:
    return (f"SELECT {_visit_columns('v', 's', 'h.region_code')} FROM visits v JOIN settlements s ON s.visit_id = v.id "
            f"JOIN households h ON h.id = {p}.household_id WHERE v.person_id = {p}.id AND v.status = 'live'")


# A voided bill (status 'void', issue 13) is kept with its settlement but counts nowhere: every source below takes live
# bills only, and voiding one is an update of visits that takes it away.
def _trigger(name: str, event: str, body: str, when: str | None = None) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW {f'WHEN {when} ' if when else ''}BEGIN {body} END"


TRIGGERS = [
    _trigger("stat_settlement_insert", "INSERT ON settlements", _apply("1", _of_settlement("NEW"))),
    _trigger("stat_settlement_delete", "DELETE ON settlements", _apply("-1", _of_settlement("OLD"))),
    _trigger("stat_settlement_update", "UPDATE ON settlements",
             _apply("-1", _of_settlement("OLD")) + " " + _apply("1", _of_settlement("NEW"))),
    _trigger("stat_visit_update",
             "UPDATE OF discharged_on, total_cost, policy_covered, person_id, status ON visits",
             _apply("-1", _of_visit("OLD")) + " " + _apply("1", _of_visit("NEW"))),
    _trigger("stat_person_move", "UPDATE OF household_id ON persons",
             _apply("-1", _of_person("OLD")) + " " + _apply("1", _of_person("NEW")),
             when="OLD.household_id IS NOT NEW.household_id"),
    _trigger("stat_household_region", "UPDATE OF region_code ON households",
             _apply("-1", _of_household("OLD")) + " " + _apply("1", _of_household("NEW")),
             when="OLD.region_code IS NOT NEW.region_code"),
]


_ALL = (f"SELECT {_visit_columns('v', 's', 'h.region_code')} FROM settlements s JOIN visits v ON v.id = s.visit_id "
        f"JOIN persons p ON p.id = v.person_id JOIN households h ON h.id = p.household_id WHERE v.status = 'live'")
_CELL_COLUMNS = f"year, month, region_code, category, visits, {', '.join(AMOUNT_COLUMNS)}, bad"
_PEOPLE_COLUMNS = f"year, person_id, category, region_code, {', '.join(f'm{m}' for m in MONTHS)}"


def _expected_cells() -> str:
    fens = [fen(a) for a in _AMOUNTS]
    return (f"SELECT y, m, region, category, count(*), {', '.join(f'sum(coalesce({f}, 0))' for f in fens)}, "
            f"sum({' OR '.join(f'({f}) IS NULL' for f in fens)}) FROM ({_ALL}) GROUP BY y, m, region, category")


def _expected_people() -> list[str]:
    return [f"SELECT y, person, {category}, max(region), {', '.join(f'sum(m = {m})' for m in MONTHS)} "
            f"FROM ({_ALL}) GROUP BY {key}"
            for category, key in (("category", "y, person, category"), (f"'{ANY}'", "y, person"))]


def rebuild(conn: sqlite3.Connection) -> None:
    """Fill both tables afresh from the records (inside the caller's transaction)."""
    # Ordinary rowid tables: `check` and the damage test at start read every table's first and last row by rowid.
    conn.execute("DELETE FROM stat_cells")
    conn.execute("DELETE FROM stat_people")
    conn.execute(f"INSERT INTO stat_cells ({_CELL_COLUMNS}) {_expected_cells()}")
    for select in _expected_people():
        conn.execute(f"INSERT INTO stat_people ({_PEOPLE_COLUMNS}) {select}")
    from app.store import stat_masks

    if stat_masks.present(conn):  # its triggers followed the rows above one by one; made afresh all the same
        stat_masks.rebuild(conn)


def drift(conn: sqlite3.Connection) -> list[str]:
    """For `check`: where the summary rows differ from what the records make (a trigger lost, a hand edit)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'stat_cells'").fetchone():
        return []
    # What a rebuild would make, once, in TEMP tables (a read-only connection may still write its TEMP schema).
    conn.execute(f"CREATE TEMP TABLE expected_cells AS {_expected_cells()}")
    conn.execute(f"CREATE TEMP TABLE expected_people AS {' UNION ALL '.join(_expected_people())}")
    # Rows the triggers brought to zero stay; they say nothing and a rebuild does not make them.
    kept_cells = f"SELECT {_CELL_COLUMNS} FROM stat_cells WHERE visits != 0 OR bad != 0"
    kept_people = f"SELECT {_PEOPLE_COLUMNS} FROM stat_people WHERE {' OR '.join(f'm{m} != 0' for m in MONTHS)}"
    compared = [("统计汇总（人次、金额）", kept_cells, "SELECT * FROM temp.expected_cells"),
                ("统计汇总（人数）", kept_people, "SELECT * FROM temp.expected_people")]
    from app.store import stat_masks

    if stat_masks.present(conn):  # made from stat_people, which the line above compares with the records
        compared.append(("统计汇总（按月份的人数）", f"SELECT {stat_masks.COLUMNS} FROM stat_masks WHERE people != 0",
                         stat_masks.expected()))
    problems = []
    try:
        for what, kept, expected in compared:
            differ = conn.execute(
                f"SELECT (SELECT count(*) FROM ({kept} EXCEPT {expected})) "
                f"+ (SELECT count(*) FROM ({expected} EXCEPT {kept}))").fetchone()[0]
            if differ:
                problems.append(f"{what}与就诊、结算记录不一致（{differ} 行），统计数字可能有误；"
                                f"请联系县里的技术人员重建统计汇总")
    finally:
        conn.execute("DROP TABLE temp.expected_cells")
        conn.execute("DROP TABLE temp.expected_people")
    return problems


def create(conn: sqlite3.Connection) -> None:
    """The tables, their triggers, and their rows from the records already there (migration 11)."""
    for statement in (*TABLES, *TRIGGERS):
        conn.execute(statement)
    rebuild(conn)
