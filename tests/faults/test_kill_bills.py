"""SIGKILL a process recording bills at several points: the database stays whole and the work resumes."""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path

import pytest

from .killing import CAN_KILL, kill_after_line, run_to_end
from .state import consistency

WORKER = Path(__file__).with_name("crash_worker.py")
TOTAL, PEOPLE = 2_000, 100
BILL = re.compile(r"^bill K\d+$")  # the worker's line after each bill it committed
KILLS, MIN_IN_THE_WORK = 4, 2
pytestmark = [pytest.mark.faults, pytest.mark.skipif(not CAN_KILL, reason="SIGKILL is POSIX")]


def counts(db: Path) -> tuple[int, int, int]:
    """Visits, settlements and distinct invoices; a database not made yet holds none (the state before any work)."""
    if not db.exists():
        return 0, 0, 0
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
    rng = random.Random("bill-kills")  # the same lines and delays in every run
    recorded = [0]
    landed = 0
    for k in range(KILLS):
        # After the K-th bill of this run, and a delay of up to a few bills' time: the kill falls inside a bill's
        # transaction as often as between two. Each run resumes, so the kills together cover under half the work.
        line, delay = rng.randint(20, 200), rng.uniform(0, 0.03)
        kill = kill_after_line(argv, BILL, line, delay, tmp_path / f"worker-{k}.log")
        where = f"kill {k} at {delay:.3f}s after bill line {line}"
        if db.exists():
            assert consistency(db) == [], where
        visits, settled, distinct = counts(db)
        assert visits == settled == distinct, f"{where}: every recorded bill is settled, none twice"
        assert visits >= recorded[-1] + line, f"{where}: the bills the worker said it recorded are kept"
        landed += not kill.finished and recorded[-1] < visits < TOTAL
        recorded.append(visits)
    assert landed >= MIN_IN_THE_WORK, f"only {landed} of {KILLS} kills landed while bills were being recorded"
    run_to_end(argv, tmp_path / "worker.log")
    assert consistency(db) == []
    assert counts(db) == (TOTAL, TOTAL, TOTAL)
