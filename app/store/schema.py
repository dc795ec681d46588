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


_V4 = [
    """CREATE TABLE applications (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES persons(id), household_id TEXT NOT NULL
        REFERENCES households(id), region_code TEXT NOT NULL, year INTEGER NOT NULL, state TEXT NOT NULL,
        state_since TEXT NOT NULL, annual_income TEXT, low_income_standard TEXT, passes_asset_check INTEGER,
        computed_amount TEXT, approved_amount TEXT, amount_reason TEXT, notice_start TEXT, notice_end TEXT,
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    # Steps are appended, never changed: each is one decision by one user, identified by its own UUID so that
    # steps taken on different machines can be carried between sites and merged.
    """CREATE TABLE application_steps (
        id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id), seq INTEGER NOT NULL,
        state TEXT NOT NULL, action TEXT NOT NULL, to_state TEXT NOT NULL, user_id TEXT, username TEXT NOT NULL,
        display_name TEXT NOT NULL, role TEXT NOT NULL, at TEXT NOT NULL, opinion TEXT, details TEXT NOT NULL,
        UNIQUE (application_id, seq))""",
    """CREATE TABLE attachments (
        id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id), kind TEXT NOT NULL,
        filename TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, added_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX applications_state ON applications(state, region_code)",
    "CREATE INDEX application_steps_app ON application_steps(application_id, seq)",
]


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
    Migration(4, "依申请救助：申请、逐步记录（只追加）、附件", _V4),
)
LATEST = MIGRATIONS[-1].version
