"""Printed documents: 1,000 一站式结算单 in one batch, pages per second and peak memory.

Reads visits from the demo county (bench/out/county.sqlite3, built by bench_store.py) and renders one slip per
visit, each its own PDF, as a caseworker's batch print would. Peak memory is taken after 100 and after 1,000
slips: a flat figure means the batch does not accumulate.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader  # noqa: E402

from app.services import paperwork  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.report import emit, machine  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/out/county.sqlite3")
    parser.add_argument("--slips", type=int, default=1000)
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    session = Session(open_store(Path(args.db), daily_backup=False), SYSTEM)
    ids = [r[0] for r in session.conn.execute("SELECT visit_id FROM settlements ORDER BY random() LIMIT ?",
                                              (args.slips,))]
    out = Path(tempfile.mkdtemp(prefix="jiuzhu-slips-"))
    pages = 0
    at_tenth = 0.0
    start = time.perf_counter()
    for n, visit_id in enumerate(ids, start=1):
        path = paperwork.settlement_slip(session, out / f"{n:04d}.pdf", visit_id=visit_id)
        pages += len(PdfReader(str(path)).pages)
        if n == len(ids) // 10:
            at_tenth = peak_mb()
    seconds = time.perf_counter() - start
    print(f"machine: {machine()}; one process")
    emit([(f"PDF: {len(ids):,} settlement slips read and rendered", f"{pages / seconds:.0f} pages/s ({pages} pages "
           f"in {seconds:.1f} s)", "≥ 100 pages/s"),
          (f"PDF peak memory after {len(ids) // 10} / {len(ids)} slips", f"{at_tenth:.0f} MB / {peak_mb():.0f} MB",
           "flat")], args.json)


if __name__ == "__main__":
    main()
