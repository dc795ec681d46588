"""SIGKILL a process recording 10,000 bills at several points: the database stays whole and the work resumes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store.check import check_database

WORKER = Path(__file__).with_name("crash_worker.py")
TOTAL, PEOPLE = 10_000, 100


def start(db: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), str(db), str(TOTAL), str(PEOPLE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def counts(db: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(db)
    try:
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        settled = conn.execute("SELECT count(*) FROM settlements").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT invoice_number) FROM visits").fetchone()[0]
    finally:
        conn.close()
    return visits, settled, distinct


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_sigkill_mid_recording_leaves_no_half_bill_and_resumes(tmp_path):
    db = tmp_path / "crash.sqlite3"
    recorded = []
    for delay in (0.6, 1.3, 2.1, 2.9):
        proc = start(db)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert check_database(db) == [], f"after a kill at {delay}s"
        visits, settled, distinct = counts(db)
        assert visits == settled == distinct, "every recorded bill is settled, none twice"
        recorded.append(visits)
    assert recorded[-1] < TOTAL, "the kills must land before the work is done"
    assert recorded == sorted(recorded)
    proc = start(db)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert check_database(db) == []
    assert counts(db) == (TOTAL, TOTAL, TOTAL)
