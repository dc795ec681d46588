"""Identity-list import: a 100,000-row 民政 roster (.xlsx, messy cells) read, validated and compared with a registry.

The registry is the demo county's generator (real village codes, invented people) at 20,000 people, without bills;
the list names all of them, with the rest of its rows about people the registry does not hold, as a county-wide
roster does for a township's registry. Cells are as exported lists carry them: a title row and an empty row before
the header, full-width digits and spaces inside ID numbers, spaces inside names, start dates as Excel serial
numbers, date cells, 2023-05, 2023年5月 and 202305, empty rows between blocks, repeated rows, wrong check digits
and unknown categories. The timer covers reading the file, validating every row and comparing with the registry
(compare writes nothing); building the registry and writing the file are outside it.
"""

from __future__ import annotations

import argparse
import calendar
import random
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain.idnumber import check_digit  # noqa: E402
from app.exchange.identity_lists import read_list  # noqa: E402
from app.services import demo, identity_import  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402
from bench.report import emit, machine  # noqa: E402

TARGET_ROWS_PER_SECOND = 20_000
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CATEGORIES = ("低保", "农村低保", "城市低保", "特困", "特困供养", "低保边缘")


def build_registry(path: Path, people: int) -> tuple[Session, list[str]]:
    """A demo county of about `people` people (households of the demo's sizes), without bills."""
    session = Session(open_store(path, daily_backup=False), SYSTEM)
    demo.start_demo(session)
    households = max(people * 10 // 34, 1)  # the demo's households hold 3.4 people on average
    for _ in demo.build_demo(session, households, year=2025, mean_visits=0):
        pass
    numbers = [r[0] for r in session.conn.execute("SELECT id_number FROM persons ORDER BY rowid")]
    return session, numbers


def _start(rng: random.Random) -> object:
    """A start date in one of the ways lists write them."""
    day = date(rng.randint(2015, 2025), rng.randint(1, 12), 1)
    form = rng.randrange(6)
    if form == 0:
        return (day - date(1899, 12, 30)).days          # an Excel serial number
    if form == 1:
        return datetime(day.year, day.month, day.day)   # a date cell
    if form == 2:
        return f"{day.year}-{day.month:02d}"
    if form == 3:
        return f"{day.year}年{day.month}月"
    if form == 4:
        return f"{day.year}{day.month:02d}"
    return f"{day.year}.{day.month}.{day.day}"


def _messy_id(rng: random.Random, number: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return number.translate(FULL_WIDTH)
    if roll < 0.08:
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    if roll < 0.10:
        return f" {number} "
    return number


def _unknown_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        born = date(rng.randint(1930, 2020), rng.randint(1, 12), rng.randint(1, 28))
        body = f"{demo.COUNTY_CODE}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + check_digit(body)
        if number not in taken:
            taken.add(number)
            return number


def write_list(path: Path, rows: int, known: list[str], seed: int = 1) -> int:
    """Write a 民政 roster of `rows` data rows (plus the empty ones) with openpyxl's write-only mode; returns lines."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    taken = set(known)
    book = Workbook(write_only=True)
    ws = book.create_sheet("花名册")
    ws.append(["南陵县城乡低保、特困人员花名册（2025 年 6 月）"])
    ws.append([])
    ws.append(["序号", "户主姓名", "成员姓名", "身份证号码", "救助类别", "起始保障年月", "终止保障年月", "备注"])
    order = list(known) + [None] * max(rows - len(known), 0)
    rng.shuffle(order)
    lines = 3
    previous: list = []
    for n, number in enumerate(order[:rows], start=1):
        if n % 500 == 0:
            ws.append([None] * 8)  # blocks of a roster are separated by empty rows
            lines += 1
        number = number or _unknown_id(rng, taken)
        name = rng.choice("张王李赵刘陈杨黄周吴") + rng.choice(("伟", "芳", "秀英", "敏", "静", "丽", "强", "磊"))
        if rng.random() < 0.05:
            name = f" {name[0]} {name[1:]}"
        category = rng.choice(CATEGORIES)
        start = _start(rng)
        end = None
        roll = rng.random()
        if roll < 0.1:
            year, month = rng.randint(2025, 2026), rng.randint(1, 12)
            end = f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]}"  # an end names its day (a month alone is refused)
        elif roll < 0.11:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit
        elif roll < 0.115:
            category = "五保"  # a category the list's department no longer uses
        if previous and rng.random() < 0.005:
            ws.append(previous)  # a repeated row
            lines += 1
        previous = [n, name, name, _messy_id(rng, number), category, start, end, None]
        ws.append(previous)
        lines += 1
    book.save(path)
    return lines


def run(rows: int = 100_000, people: int = 20_000, seed: int = 1) -> dict:
    """Build the registry and the file in a temporary folder, then time reading + validating + comparing."""
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-import-") as tmp:
        t0 = time.perf_counter()
        session, known = build_registry(Path(tmp) / "county.sqlite3", people)
        registry_seconds = time.perf_counter() - t0
        path = Path(tmp) / "低保花名册.xlsx"
        t0 = time.perf_counter()
        lines = write_list(path, rows, known, seed)
        write_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        parsed = read_list(path)
        read_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        changes = identity_import.compare(session, parsed)
        compare_seconds = time.perf_counter() - t0
        session.store.close()
        kinds: dict[str, int] = {}
        for c in changes:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        data_rows = len(parsed.rows) + len(parsed.rejected)
        seconds = read_seconds + compare_seconds
        return {"registry_people": len(known), "registry_seconds": registry_seconds, "file_lines": lines,
                "file_mb": path.stat().st_size / 1e6 if path.exists() else 0.0, "write_seconds": write_seconds,
                "data_rows": data_rows, "understood": len(parsed.rows), "rejected": len(parsed.rejected),
                "changes": kinds, "read_seconds": read_seconds, "compare_seconds": compare_seconds,
                "seconds": seconds, "rows_per_second": data_rows / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows in the list")
    parser.add_argument("--people", type=int, default=20_000, help="people in the registry")
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    r = run(args.rows, args.people)
    print(f"machine: {machine()}; one process")
    print(f"registry: {r['registry_people']:,} people (built in {r['registry_seconds']:.1f} s); "
          f"list: {r['file_lines']:,} lines, {r['file_mb']:.1f} MB (written in {r['write_seconds']:.1f} s)")
    print(f"rows: {r['data_rows']:,} ({r['understood']:,} understood, {r['rejected']:,} rejected with a reason); "
          f"compare: {', '.join(f'{identity_import.KIND_NAMES[k]} {n:,}' for k, n in r['changes'].items())}")
    emit([(f"identity list import: {r['data_rows']:,} rows read, validated and compared with "
           f"{r['registry_people']:,} people", f"{r['rows_per_second']:,.0f} rows/s (read + validate "
           f"{r['read_seconds']:.2f} s, compare {r['compare_seconds']:.2f} s)", f"≥ {TARGET_ROWS_PER_SECOND:,} rows/s")],
         args.json)


if __name__ == "__main__":
    main()
