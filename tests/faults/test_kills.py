"""SIGKILL the real command line at 20 seeded points of each operation, each a seeded delay after one of the
command's progress lines: after every kill the database is whole (check, audit verify, the invariants of state.py
and the operation's own), and running the command again ends in the same content as an uninterrupted run on a
copy."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest

from .killing import CAN_KILL, Reference, app, cli, kill_after_line, run_to_end
from .operations import OPERATIONS, Operation
from .state import consistency, known_ids, snapshot

KILLS = 20
MIN_IN_THE_WORK = 4  # kills that must land while the command writes, or the test proves little
pytestmark = [pytest.mark.faults, pytest.mark.skipif(not CAN_KILL, reason="SIGKILL is POSIX")]


def copy_db(src: Path, folder: Path) -> Path:
    """A copy of a closed database (with its WAL, should one be left) and of every other file beside it (the inputs
    `prepare` wrote, which a command may change too), in a folder of its own."""
    shutil.copytree(src.parent, folder, ignore=shutil.ignore_patterns("*-shm", "backups", "*.backups", "*.log"))
    return folder / src.name


def place(rng: random.Random, ref: Reference) -> tuple[int, float]:
    """A seeded kill point: after one of the progress lines, within the time the uninterrupted run took from that
    line to the next (a slower machine only makes the kill land earlier in the same step)."""
    line = rng.randint(1, len(ref.marks) - 1)
    return line, ref.gap_after(line) * rng.random()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_sigkill_anywhere_leaves_a_whole_database_and_running_again_finishes(op: Operation, demo_county, tmp_path):
    started = time.perf_counter()
    base = copy_db(demo_county, tmp_path / "base")
    op.prepare(base)
    known = known_ids(base)
    before = snapshot(base, known)
    assert consistency(base) == []
    reference = copy_db(base, tmp_path / "reference")
    ref = run_to_end(app(*op.argv(reference, reference.parent)), tmp_path / "reference.log", op.progress)
    assert len(ref.marks) > 1, f"{op.name} printed no progress line:\n{ref.output}"
    after = snapshot(reference, known)
    assert after.tables != before.tables, "the command must change something for a kill to interrupt"
    assert consistency(reference) == []
    rng = random.Random(f"{op.name}-kills")  # deterministic: the same 20 lines and delays in every run
    landed = []
    for k in range(KILLS):
        db = copy_db(base, tmp_path / f"kill-{k:02d}")
        line, delay = place(rng, ref)
        kill = kill_after_line(app(*op.argv(db, db.parent)), op.progress, line, delay, tmp_path / f"kill-{k:02d}.log")
        killed = snapshot(db, known)
        state = ("before" if killed.tables == before.tables else "after" if killed.tables == after.tables
                 else "partial")
        where = f"kill {k} {delay:.3f}s after progress line {line} of {len(ref.marks) - 1} (state {state})"
        assert consistency(db) == [], where
        assert op.invariant(before, after, killed) == [], where
        code, out, err = cli(*op.argv(db, db.parent))
        assert code == 0, f"{where}: running again failed: {err}"
        assert snapshot(db, known).tables == after.tables, f"{where}: running again did not end as an uninterrupted run"
        landed.append(not kill.finished and op.mid_work(kill, state))
    assert sum(landed) >= MIN_IN_THE_WORK, f"only {sum(landed)} of {KILLS} kills landed while {op.name} was writing"
    print(f"{op.name}: uninterrupted {ref.took:.2f}s, {sum(landed)}/{KILLS} kills mid-work, "
          f"{time.perf_counter() - started:.1f}s in all")
