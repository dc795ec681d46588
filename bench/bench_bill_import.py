"""Bulk bill import: a 50,000-row one-stop settlement list (.xlsx) read, validated and compared with a registry,
then a part of it recorded and settled.

The registry is the demo county's generator at 20,000 people, without bills (as bench_import.py builds it). The list
is as a 医保 system exports a month of a county: a title row, the header in one of its variants, amounts as numbers
and as text with thousands separators, dates as date cells and text; a few rows per thousand are bad (an unknown
person, a wrong name, covered costs above the total, an unknown 就诊类别, an invoice twice). The target figure times
reading the file, validating every row and comparing with the records (the preview: it writes nothing); building the
registry and writing the file are outside it. Beside the wall-clock figure the process's own CPU time is given: on a
machine shared with other work the wall clock measures the others too. Recording (apply: every bill, its hospital payment line, one
settlement of each person's year, all audited) is timed on the first --apply-rows rows and reported beside it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import bill_import  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.bench_import import build_registry  # noqa: E402
from bench.report import emit, machine  # noqa: E402

TARGET_ROWS_PER_SECOND = 20_000
HOSPITALS = (("南陵县医院", "县级"), ("南陵县中医院", "县级"), ("芜湖市第一人民医院", "市级"), ("籍山镇卫生院", "乡镇"),
             ("安徽省立医院", "省级"))


def write_bills(path: Path, rows: int, people: list[tuple[str, str]], seed: int = 1) -> None:
    """Write the list with openpyxl's write-only mode."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    ws = book.create_sheet("结算清单")
    ws.append(["南陵县医疗保障一站式结算清单（2025 年）"])
    ws.append(["序号", "患者姓名", "公民身份号码", "定点医疗机构名称", "医院等级", "医疗类别", "入院时间", "出院时间",
               "总费用", "合规费用", "统筹基金支付", "大病保险支付", "票据号"])
    for n in range(1, rows + 1):
        name, number = rng.choice(people)
        hospital, level = rng.choice(HOSPITALS)
        kind = rng.choice(("住院", "住院", "门诊慢特病", "普通门诊"))
        out = date(2025, 1, 1) + timedelta(days=rng.randrange(360))
        stay = timedelta(days=rng.randrange(0, 15) if kind == "住院" else 0)
        total = round(rng.uniform(200, 60000), 2)
        covered = round(total * rng.uniform(0.7, 0.95), 2)
        basic = round(covered * 0.6, 2)
        roll = rng.random()
        if roll < 0.001:
            number = number[:6] + "19000101" + number[14:]     # not a registered person (nor a valid number)
        elif roll < 0.002:
            name = name + "某"                                   # another name
        elif roll < 0.003:
            covered = total + 100                               # covered above the total
        elif roll < 0.004:
            kind = "体检"                                        # no such kind
        amount = f"{total:,.2f}" if rng.random() < 0.2 else total
        admitted = datetime.combine(out - stay, datetime.min.time()) if rng.random() < 0.5 else (out - stay).isoformat()
        invoice = f"NL{n:08d}" if rng.random() > 0.001 else f"NL{max(n - 1, 1):08d}"   # now and then the same twice
        ws.append([n, name, number, hospital, level, kind, admitted, out.isoformat(), amount, covered, basic, 0,
                   invoice])
    book.save(path)


def run(rows: int = 50_000, people: int = 20_000, apply_rows: int = 2_000, seed: int = 1,
        county: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-bills-") as tmp:
        t0 = time.perf_counter()
        if county is None:
            session, numbers = build_registry(Path(tmp) / "county.sqlite3", people)
            registered = len(numbers)
        else:  # a county with its bills: the recorded invoices the list is compared with are a county's, not none
            session = Session(open_store(county, daily_backup=False), SYSTEM)
            registered = session.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        registry_seconds = time.perf_counter() - t0
        # A one-stop list of the office's people: those holding a category all year (others' rows would be refused).
        pairs = [(r[0], r[1]) for r in session.conn.execute(
            "SELECT DISTINCT p.name, p.id_number FROM persons p JOIN category_periods c ON c.person_id = p.id "
            "WHERE c.valid_from <= '2025-01-01' AND (c.valid_to IS NULL OR c.valid_to >= '2025-12-31') ORDER BY 2")]
        clerk = session  # the command line's user: the whole county (a township caseworker sees one township)
        path = Path(tmp) / "结算清单.xlsx"
        t0 = time.perf_counter()
        write_bills(path, rows, pairs, seed)
        write_seconds = time.perf_counter() - t0
        visits = session.conn.execute("SELECT count(*) FROM visits").fetchone()[0]  # what the list is compared with
        t0, c0 = time.perf_counter(), time.process_time()
        result = bill_import.import_bills(clerk, path, today=date(2025, 12, 31))
        preview_seconds, preview_cpu = time.perf_counter() - t0, time.process_time() - c0
        part = bill_import.BillImport(result.path, ready=result.ready[:apply_rows])
        t0 = time.perf_counter()
        recorded = bill_import.apply(clerk, part) if apply_rows else 0
        apply_seconds = time.perf_counter() - t0
        session.store.close()
        return {"people": registered, "listed": len(pairs), "registry_seconds": registry_seconds, "write_seconds": write_seconds,
                "rows": rows, "visits": visits, "ready": len(result.ready), "rejected": len(result.rejected),
                "preview_seconds": preview_seconds, "rows_per_second": rows / preview_seconds,
                "preview_cpu": preview_cpu, "rows_per_cpu_second": rows / preview_cpu,
                "recorded": recorded, "apply_seconds": apply_seconds,
                "applied_per_second": recorded / max(apply_seconds, 1e-9)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="data rows in the list")
    parser.add_argument("--people", type=int, default=20_000, help="people in the registry")
    parser.add_argument("--apply-rows", type=int, default=2_000, help="rows recorded and settled in the apply timing")
    parser.add_argument("--county", type=Path, metavar="DB", help="compare with this county's people and bills "
                        "instead of a registry without bills (a copy: with --apply-rows above 0 it is written to)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    r = run(args.rows, args.people, args.apply_rows, county=args.county)
    print(f"machine: {machine()}; one process")
    print(f"registry: {r['people']:,} people (built in {r['registry_seconds']:.1f} s), {r['listed']:,} of them holding "
          f"a category all year and named in the list; list written in "
          f"{r['write_seconds']:.1f} s; {r['ready']:,} rows ready, {r['rejected']:,} refused with a reason")
    emit([(f"bill list import: {r['rows']:,} rows read, validated and compared with {r['people']:,} people "
           f"and {r['visits']:,} bills",
           f"{r['rows_per_second']:,.0f} rows/s ({r['preview_seconds']:.2f} s; on the CPU {r['preview_cpu']:.2f} s, "
           f"{r['rows_per_cpu_second']:,.0f} rows/s)", f"≥ {TARGET_ROWS_PER_SECOND:,} rows/s"),
          (f"bill list import: {r['recorded']:,} bills recorded, paid lines and years settled, audited",
           f"{r['recorded'] / max(r['apply_seconds'], 1e-9):,.0f} bills/s ({r['apply_seconds']:.2f} s)", "—")],
         args.json)


if __name__ == "__main__":
    main()
