"""A second process for the monitoring list of a county: it examines the people of one range of ids on its own
read-only connection and hands back its share of the list's entries, sorted (RiskEntry holds plain values, amounts in
whole fen, so ~180,000 of them pickle cheaply)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path

from app.services.session import Session
from app.store import check_parts
from app.store.store import Store
from app.workflow.permissions import User

# The second process's share of the people. It starts a process and imports the program (about a second and a half)
# while the first is already at work, so it takes less than half: on the benchmark county (December 2025, warm) the
# second finished 1.8 s after the first at 0.47 and first at 0.42. The whole list moves by ±20% from run to run on
# the benchmark machine: alternating runs of the code before this split and after it, 11.1 / 12.5 / 8.4 s against
# 10.8 / 10.0 / 7.8 s.
SHARE = 0.42


def workers_for(session: Session) -> int:
    """Two processes for a county-sized file on a machine with two cores or more, else one."""
    path = session.store.path
    if path is None or str(path) == ":memory:":
        return 1
    return min(2, check_parts.workers_for(Path(path)))


def split(session: Session) -> str | None:
    """The person id from which the second process's share starts (None: nobody). Counted over the persons' key,
    which takes milliseconds, rather than over the year's summary rows (a second on a county): the people with bills
    are spread over the ids as the people are."""
    people = session.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    row = session.conn.execute("SELECT id FROM persons ORDER BY id LIMIT 1 OFFSET ?",
                               (int(people * (1 - SHARE)),)).fetchone()
    return row[0] if row else None


class Helper:
    """The second process at work; result() waits for its share, cancel() ends it if it is still running."""

    def __init__(self, args: tuple):
        self.pool = get_context("spawn").Pool(1)  # spawn: a forked copy of a process holding SQLite is not safe
        self.pending = self.pool.apply_async(run, args)

    def result(self) -> tuple[int, list, list]:
        return self.pending.get()

    def cancel(self) -> None:
        self.pool.terminate()
        self.pool.join()


def start(session: Session, year: int, month: int, as_of: date, floor: Decimal, within: tuple[str, str | None]) -> Helper:
    return Helper((str(session.store.path), session.user, year, month, as_of, floor, within))


def run(path: str, user: User, year: int, month: int, as_of: date, floor: Decimal,
        within: tuple[str, str | None]) -> tuple[int, list, list]:
    """In the second process: how many were examined, the entries the summary lists (sorted) and the other entries."""
    from app.services import monitoring  # the parent imported this module from monitoring

    conn = check_parts.connect(Path(path))
    try:
        found: list = []
        for _ in monitoring.examine(Session(Store(conn, Path(path)), user), year, month, as_of, floor, within, found):
            pass
        return found[0]
    finally:
        conn.close()
