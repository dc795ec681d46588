"""The one write path: no module but app/store/records.py writes an audited table, and what it writes is audited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.store import records, seal
from app.store.db import transaction
from app.store.seal import SEALED
from app.store.seal_check import broken_seals
from app.store.store import open_store

APP = Path(__file__).resolve().parents[2] / "app"
# Migrations shape the schema (and seal what is there at the upgrade); county_db writes the county's PostgreSQL.
ALLOWED = {"store/records.py", "store/schema.py", "exchange/county_db.py"}
WRITE = re.compile(r"\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"'`]?(\{?\w+\}?)",
                   re.IGNORECASE)


def _writes(source: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in WRITE.finditer(source)]


def test_no_service_writes_an_audited_table_by_hand():
    offenders = []
    for path in sorted([*APP.rglob("*.py"), *(APP.parent / "bench").rglob("*.py")]):
        rel = path.relative_to(APP).as_posix() if path.is_relative_to(APP) else path.relative_to(APP.parent).as_posix()
        if rel in ALLOWED:
            continue
        for verb, table in _writes(path.read_text(encoding="utf-8")):
            # A table named by a variable could be any of them, so it counts as audited.
            if table in SEALED or table.startswith("{"):
                offenders.append(f"{rel}: {verb} {table}")
    assert offenders == [], "write audited tables through app/store/records.py:\n" + "\n".join(offenders)


def test_the_scan_finds_what_it_looks_for():
    assert _writes('conn.execute("UPDATE settlements SET x = 1")') == [("UPDATE", "settlements")]
    assert _writes("f\"INSERT INTO {table} (a) VALUES (?)\"") == [("INSERT INTO", "{table}")]
    assert _writes("DELETE FROM households WHERE id = ?") == [("DELETE FROM", "households")]


@pytest.fixture
def conn(tmp_path):
    store = open_store(tmp_path / "w.sqlite3", daily_backup=False)
    yield store.conn
    store.close()


def test_each_write_leaves_an_entry_with_before_after_and_seal(conn):
    with transaction(conn):
        row = records.insert(conn, "tester", "users", {"username": "u1", "display_name": "甲", "role": "乡镇经办",
                                                       "jurisdiction": "340223100", "password_hash": "secret-hash",
                                                       "active": 1}, "新增用户")
        records.update(conn, "tester", "users", row["id"], {"role": "县级审批"}, "修改用户")
        records.update(conn, "tester", "users", row["id"], {"role": "县级审批"}, "修改用户")  # no change: no entry
    entries = conn.execute("SELECT * FROM audit_log WHERE entity = 'users' ORDER BY seq").fetchall()
    assert [e["action"] for e in entries] == ["新增用户", "修改用户"]
    assert '"role":"乡镇经办"' in entries[1]["before"] and '"role":"县级审批"' in entries[1]["after"]
    assert all("secret-hash" not in (e["after"] or "") for e in entries)
    # The seal is the entry's own `after`; the entry no longer repeats its sha256 (schema 15).
    assert [e["row_hash"] for e in entries] == [seal.OF_AFTER, seal.OF_AFTER]
    assert broken_seals(conn) == []
    with transaction(conn):
        records.delete(conn, "tester", "users", row["id"], "删除")
    assert broken_seals(conn) == []


def test_writes_outside_a_transaction_are_refused(conn):
    with pytest.raises(RuntimeError):
        records.insert(conn, "tester", "settings", {"key": "x", "value": "1"}, "x")
