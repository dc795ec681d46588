"""Upgrading from every released schema version: each fixture was written by that version's own code
(tests/store/make_fixtures.py), opened here as a user's old database would be, and must come out at LATEST whole."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.services import users
from app.store import backup
from app.store.check import check_database
from app.store.schema import LATEST, MIGRATIONS
from app.store.store import open_store

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures").glob("store-v*.sqlite3"),
                  key=lambda p: int(re.search(r"v(\d+)", p.name).group(1)))
# What an upgrade must leave as it was, table by table (where the old version had the table): who the people are,
# what was paid and decided, who may sign in, and the audit log (to which an upgrade may only append).
KEPT = {
    "households": ("id", "region_code", "address", "head_person_id"),
    "persons": ("id", "household_id", "name", "id_type", "id_number", "birth_date", "sex", "relation_to_head"),
    "category_periods": ("id", "person_id", "category", "valid_from", "valid_to", "certified_by"),
    "enrollments": ("id", "person_id", "year", "insurance"),
    "visits": ("id", "person_id", "hospital", "admitted_on", "discharged_on", "kind", "total_cost", "policy_covered",
               "basic_paid", "serious_illness_paid", "invoice_number"),
    "settlements": ("id", "visit_id", "person_id", "year", "basic_paid", "serious_illness_paid", "assistance_paid",
                    "tilt_assistance_paid", "personal_pay"),
    "annual_settlements": ("id", "person_id", "year", "totals"),
    "users": ("id", "username", "role", "jurisdiction", "password_hash", "active"),
    "applications": ("id", "person_id", "state", "computed_amount", "approved_amount"),
    "application_steps": ("id", "application_id", "seq", "action", "to_state", "username", "opinion"),
}
AUDIT = ("seq", "at", "username", "action", "entity", "entity_id", "hash")


def version_of(path: Path) -> int:
    return int(re.search(r"v(\d+)", path.name).group(1))


def rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> list[tuple]:
    return [tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}")]


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_there_is_a_fixture_for_every_version_up_to_the_last_release():
    versions = [version_of(p) for p in FIXTURES]
    assert versions == list(range(1, len(versions) + 1)), versions
    assert len(versions) >= len(MIGRATIONS) - 1, "a released schema version has no fixture: run tests/store/make_fixtures.py"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_upgrade_keeps_the_data_and_checks_clean(fixture: Path, tmp_path):
    version = version_of(fixture)
    db = tmp_path / fixture.name
    shutil.copyfile(fixture, db)
    old = sqlite3.connect(db)
    assert old.execute("PRAGMA user_version").fetchone()[0] == version
    kept = {t: rows(old, t, cols) for t, cols in KEPT.items() if t in tables(old)}
    audit_before = rows(old, "audit_log", AUDIT)
    old.close()
    assert kept["persons"] and kept["visits"] and kept["settlements"] and kept["users"] and audit_before

    store = open_store(db, daily_backup=False)
    conn = store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")] == [
        m.version for m in MIGRATIONS]
    for table, before in kept.items():
        assert rows(conn, table, KEPT[table]) == before, f"{table} changed in the upgrade from version {version}"
    assert rows(conn, "audit_log", AUDIT)[:len(audit_before)] == audit_before, "the upgrade rewrote the audit log"
    # The hand-registered head of household of every fixture: pinyin initials (computed by migration 2 for v1).
    assert conn.execute("SELECT name_initials FROM persons WHERE name = '张三'").fetchone()[0] == "zs"
    assert users.authenticate(conn, "admin", "fixture-admin").role == "管理员"
    saved = backup.list_backups(store.backups)
    store.close()

    assert check_database(db) == []
    if version < LATEST:
        following = min(m.version for m in MIGRATIONS if m.version > version)
        assert len(saved) == 1 and f"before-v{following}" in saved[0].name
        copy = sqlite3.connect(saved[0])
        assert copy.execute("PRAGMA user_version").fetchone()[0] == version, "the backup is the database as it was"
        copy.close()
