"""Printed documents: 1,000 一站式结算单, pages per second and peak memory.

Reads the demo county (bench/out/county.sqlite3, built by bench_store.py). First one slip per visit, each its own
PDF, as a caseworker prints a bill's slip from its page; peak memory after 100 and after 1,000 slips (flat: nothing
accumulates). Then a disbursement batch's print (disbursement.slips_pdf): the year's slip of each of 1,000 people
in one file, read and rendered as that function does (paperwork.slip_content, forms.settlement_slips).
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

from app.documents import forms  # noqa: E402
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
    at_end = peak_mb()
    years = session.conn.execute("SELECT person_id, year FROM annual_settlements ORDER BY random() LIMIT ?",
                                 (args.slips,)).fetchall()
    start = time.perf_counter()
    batch = forms.settlement_slips(out / "batch.pdf", paperwork.place(session),
                                   (paperwork.slip_content(session, person_id=p, year=y) for p, y in years), "bench")
    batch_seconds = time.perf_counter() - start
    batch_pages = len(PdfReader(str(batch)).pages)
    print(f"machine: {machine()}; one process")
    emit([(f"PDF: {len(ids):,} settlement slips read and rendered", f"{pages / seconds:.0f} pages/s ({pages} pages "
           f"in {seconds:.1f} s)", "≥ 100 pages/s"),
          (f"PDF peak memory after {len(ids) // 10} / {len(ids)} slips", f"{at_tenth:.0f} MB / {at_end:.0f} MB",
           "flat"),
          (f"PDF: a batch's print, the year's slips of {len(years):,} people in one file (read and rendered)",
           f"{batch_pages / batch_seconds:.0f} pages/s ({batch_pages} pages in {batch_seconds:.1f} s; "
           f"peak memory then {peak_mb():.0f} MB)", "≥ 100 pages/s")], args.json)


if __name__ == "__main__":
    main()
