"""SIGKILL a process recording 10,000 bills at several points: the database stays whole and the work resumes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .killing import CAN_KILL, kill_after, run_to_end
from .state import consistency

WORKER = Path(__file__).with_name("crash_worker.py")
TOTAL, PEOPLE = 10_000, 100
pytestmark = [pytest.mark.faults, pytest.mark.skipif(not CAN_KILL, reason="SIGKILL is POSIX")]


def counts(db: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(db)
    try:
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        settled = conn.execute("SELECT count(*) FROM settlements").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT invoice_number) FROM visits").fetchone()[0]
    finally:
        conn.close()
    return visits, settled, distinct


def test_sigkill_mid_recording_leaves_no_half_bill_and_resumes(tmp_path):
    db = tmp_path / "crash.sqlite3"
    argv = [str(WORKER), str(db), str(TOTAL), str(PEOPLE)]
    recorded = []
    for delay in (0.6, 1.3, 2.1, 2.9):
        kill = kill_after(argv, delay, tmp_path / "worker.log")
        assert not kill.finished, "the kills must land before the work is done"
        assert consistency(db) == [], f"after a kill at {delay}s"
        visits, settled, distinct = counts(db)
        assert visits == settled == distinct, "every recorded bill is settled, none twice"
        recorded.append(visits)
    assert recorded[-1] < TOTAL, "the kills must land before the work is done"
    assert recorded == sorted(recorded)
    run_to_end(argv, tmp_path / "worker.log")
    assert consistency(db) == []
    assert counts(db) == (TOTAL, TOTAL, TOTAL)
