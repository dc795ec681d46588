"""People counted by the months they had a settled visit in, kept by triggers on stat_people, for 人数 in a blink.

统计 counts distinct people over a range of months: by category, by township and, month by month, in the
jurisdiction. stat_people holds one row per person, year and category (about 900,000 for a county year), and
reading them all took most of the screen's time. Here the same rows are counted per (year, category, village,
month pattern): `mask` has bit m − 1 set when the person had a settled visit in month m, and `people` is how many
rows of stat_people have that pattern. A person has a visit in the months asked for when the pattern shares a bit
with the range's, so each figure is a sum over these cells: a few hundred thousand on the benchmark county, whatever
its size in visits.

Triggers (migration 17) follow every change to stat_people, itself kept by the triggers of app/store/summary.py in
the settlement's own transaction: a new row, a month's count leaving or reaching zero, a person's village changing.
A row whose count reaches zero stays (as in stat_cells); it counts nothing. Nothing else writes the table; it holds no
record of its own (never exported, never sealed) and rebuild() makes it again from stat_people.

A table without rowid, in key order: a year's cells of one category lie together on disk, so each query reads one
range and no row is looked up.
"""

from __future__ import annotations

import sqlite3

from app.store.summary import MONTHS

TABLE = """CREATE TABLE stat_masks (
    year INTEGER NOT NULL, category TEXT NOT NULL, region_code TEXT NOT NULL, mask INTEGER NOT NULL,
    people INTEGER NOT NULL, PRIMARY KEY (year, category, region_code, mask)) WITHOUT ROWID"""
COLUMNS = "year, category, region_code, mask, people"


def mask(row: str = "") -> str:
    """SQL for the month pattern of a stat_people row (`row` the alias, NEW or OLD; none for the table itself)."""
    at = f"{row}." if row else ""
    return " | ".join(f"(({at}m{m} > 0) << {m - 1})" for m in MONTHS)


def months_mask(first: int, last: int) -> int:
    """The pattern of the months first..last (1–12): what a row must share a bit with to count in them."""
    return sum(1 << (m - 1) for m in range(first, last + 1))


def _count(sign: str, row: str) -> str:
    """The statement adding (sign "1") or taking away ("-1") the stat_people row `row` from its cell."""
    return (f"INSERT INTO stat_masks ({COLUMNS}) SELECT {row}.year, {row}.category, {row}.region_code, {mask(row)}, "
            f"{sign} WHERE ({mask(row)}) != 0 "
            f"ON CONFLICT (year, category, region_code, mask) DO UPDATE SET people = people + excluded.people;")


TRIGGERS = [
    f"CREATE TRIGGER stat_masks_insert AFTER INSERT ON stat_people FOR EACH ROW BEGIN {_count('1', 'NEW')} END",
    f"CREATE TRIGGER stat_masks_delete AFTER DELETE ON stat_people FOR EACH ROW BEGIN {_count('-1', 'OLD')} END",
    # Most updates add a visit to a month that had one already: the pattern stays, and nothing is done.
    f"CREATE TRIGGER stat_masks_update AFTER UPDATE ON stat_people FOR EACH ROW "
    f"WHEN ({mask('OLD')}) != ({mask('NEW')}) OR OLD.region_code IS NOT NEW.region_code "
    f"OR OLD.year IS NOT NEW.year OR OLD.category IS NOT NEW.category "
    f"BEGIN {_count('-1', 'OLD')} {_count('1', 'NEW')} END",
]


def expected() -> str:
    """The rows stat_masks holds, made from stat_people, less the cells counted down to zero."""
    return (f"SELECT year, category, region_code, {mask()} AS mask, count(*) FROM stat_people "
            f"WHERE ({mask()}) != 0 GROUP BY year, category, region_code, mask")


def present(conn: sqlite3.Connection) -> bool:
    """Whether the database has the table (from schema 17)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'stat_masks'").fetchone() is not None


def rebuild(conn: sqlite3.Connection) -> None:
    """Fill the table afresh from stat_people (inside the caller's transaction)."""
    conn.execute("DELETE FROM stat_masks")
    conn.execute(f"INSERT INTO stat_masks ({COLUMNS}) {expected()} ORDER BY 1, 2, 3, 4")


def create(conn: sqlite3.Connection) -> None:
    """The table, its triggers, and its cells from the stat_people rows already there (migration 17)."""
    for statement in (TABLE, *TRIGGERS):
        conn.execute(statement)
    rebuild(conn)
