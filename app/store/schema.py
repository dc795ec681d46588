"""Numbered migrations: each runs in one transaction that also records the schema version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

_V1 = [
    """CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)""",
    """CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE users (
        id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        role TEXT NOT NULL, jurisdiction TEXT NOT NULL, password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE households (
        id TEXT PRIMARY KEY, region_code TEXT NOT NULL CHECK (length(region_code) = 12),
        address TEXT NOT NULL, head_person_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE persons (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL REFERENCES households(id),
        name TEXT NOT NULL, id_type TEXT NOT NULL, id_number TEXT NOT NULL,
        birth_date TEXT, sex TEXT, relation_to_head TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (id_type, id_number))""",
    """CREATE TABLE category_periods (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), category TEXT NOT NULL,
        valid_from TEXT NOT NULL, valid_to TEXT, certified_by TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE enrollments (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        insurance TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (person_id, year))""",
    """CREATE TABLE visits (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id),
        hospital TEXT NOT NULL, hospital_level TEXT, admitted_on TEXT NOT NULL, discharged_on TEXT NOT NULL,
        kind TEXT NOT NULL, total_cost TEXT NOT NULL, policy_covered TEXT NOT NULL,
        basic_paid TEXT, serious_illness_paid TEXT, invoice_number TEXT NOT NULL,
        referred INTEGER NOT NULL, in_province INTEGER NOT NULL, major_disease INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (hospital, invoice_number))""",
    """CREATE TABLE settlements (
        id TEXT PRIMARY KEY, visit_id TEXT NOT NULL UNIQUE REFERENCES visits(id),
        person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        policy_id TEXT NOT NULL, policy_version TEXT NOT NULL, applied_category TEXT NOT NULL,
        basic_paid TEXT NOT NULL, serious_illness_paid TEXT NOT NULL, assistance_paid TEXT NOT NULL,
        tilt_assistance_paid TEXT NOT NULL, personal_pay TEXT NOT NULL, steps TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE annual_settlements (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), year INTEGER NOT NULL,
        policy_id TEXT NOT NULL, policy_version TEXT NOT NULL, applied_category TEXT NOT NULL,
        totals TEXT NOT NULL, warnings TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (person_id, year))""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user_id TEXT, username TEXT NOT NULL,
        action TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
        before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
    """CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX households_region ON households(region_code)",
    "CREATE INDEX persons_household ON persons(household_id)",
    "CREATE INDEX persons_name ON persons(name)",
    "CREATE INDEX persons_id_number ON persons(id_number)",
    "CREATE INDEX category_periods_person ON category_periods(person_id, valid_from)",
    "CREATE INDEX visits_person ON visits(person_id, discharged_on)",
    "CREATE INDEX settlements_person ON settlements(person_id, year)",
]


def initials(name: str) -> str:
    """Pinyin initials of a name, lower case: 张三 → zs (heteronyms take pypinyin's usual reading)."""
    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


def _v2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE persons ADD COLUMN name_initials TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT id, name FROM persons").fetchall()
    conn.executemany("UPDATE persons SET name_initials = ? WHERE id = ?", [(initials(r["name"]), r["id"]) for r in rows])
    conn.execute("CREATE INDEX persons_initials ON persons(name_initials)")


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, what it does, and the statements or function that do it."""

    version: int
    name: str
    apply: list[str] | Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "户、人员、身份类别、参保、就诊、结算、用户、审计日志", _V1),
    Migration(2, "姓名拼音首字母检索（zs 找到 张三），为已有人员补算", _v2),
    # A short initials prefix matches thousands; with (initials, name) the index returns them already in
    # display order, so a search stops after the first page instead of sorting every match.
    Migration(3, "拼音首字母检索按姓名排序的索引", ["DROP INDEX persons_initials",
                                               "CREATE INDEX persons_initials_name ON persons(name_initials, name)"]),
)
LATEST = MIGRATIONS[-1].version
