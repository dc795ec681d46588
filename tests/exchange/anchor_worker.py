"""Records bills, syncs with the county, records more, says so and waits to be killed: a crash before a checkpoint."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.services import sync  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402
from tests.store.anchoring import record_bills  # noqa: E402


def main(db: str, url: str) -> None:
    store = open_store(db, daily_backup=False)
    # Everything this process commits stays in the WAL until it is killed, as between a crash and the next checkpoint.
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    session = Session(store, SYSTEM)
    record_bills(session, 3, "W")
    sync.sync(session, url)
    print("synced", flush=True)
    record_bills(session, 2, "X")
    print("recorded", flush=True)
    sys.stdin.read()  # the test kills this process here


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
