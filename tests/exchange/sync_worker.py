"""One site's sync in its own process, one flushed line per step; it can stop itself (SIGSTOP) right after a named
step or while it holds the county's write lock, so a test places a pause or a kill by what the site has done."""

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.exchange import county_db  # noqa: E402
from app.services import sync  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.errors import StoreError  # noqa: E402
from app.store.store import open_store  # noqa: E402


def stop_here(line: str) -> None:
    print(line, flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("url")
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--stop-after", metavar="STEP", help="stop right after the first progress line of this step")
    ap.add_argument("--stop-in-lock", type=int, metavar="N", help="stop inside the N-th batch, holding the lock")
    args = ap.parse_args()
    session = Session(open_store(args.db, daily_backup=False), SYSTEM)
    stopped = []

    def progress(what: str, done: int, of: int) -> None:
        line = f"{what} {done}/{of}"
        if args.stop_after and what.startswith(args.stop_after) and not stopped:
            stopped.append(line)
            stop_here(line)
        else:
            print(line, flush=True)

    if args.stop_in_lock:
        merge, calls = county_db.merge, []

        def merge_then_stop(pg, e, rows):
            merged = merge(pg, e, rows)
            calls.append(e.table)
            if len(calls) == args.stop_in_lock:
                stop_here(f"持锁 {e.table}")  # the batch is written, its transaction not yet committed
            return merged

        county_db.merge = merge_then_stop
    try:
        report = sync.sync(session, args.url, progress=progress, batch=args.batch)
    except StoreError as exc:
        print(f"失败：{exc}", flush=True)
        return 1
    finally:
        session.store.close()
    for line in report.lines():
        print(line, flush=True)
    print("完成", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
