"""Test helpers for anchors: record bills (each one audited), take a plain copy of a database, put a copy back."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

from app.services import bills
from app.services.session import Session


def record_bills(session: Session, n: int, tag: str) -> None:
    """`n` bills in 2025 for people insured that year, with invoice numbers starting with `tag`."""
    if n == 0:
        return
    people = [r[0] for r in session.conn.execute(
        "SELECT person_id FROM enrollments WHERE year = 2025 ORDER BY person_id LIMIT ?", (n,))]
    assert people, "the database needs people insured in 2025"
    for i in range(n):
        bills.record_bill(session, people[i % len(people)], bills.BillInput(
            "南陵县医院", "2025-06-01", "2025-06-03", "住院", "12000.00", "10000.00", f"{tag}{i:04d}", "县级",
            "6000.00", "0.00"), today=date(2026, 1, 1))


def snapshot(conn: sqlite3.Connection, to: Path) -> Path:
    """A consistent copy of the live database, kept outside the backups folder (as someone's older copy would be)."""
    dest = sqlite3.connect(to)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return to


def put_back(older: Path, db: Path) -> None:
    """Replace the (closed) database file with an older copy, as a person copying files by hand would."""
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    shutil.copy(older, db)


def audit_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        conn.close()
