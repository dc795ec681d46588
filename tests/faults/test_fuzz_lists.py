"""Fuzzing the identity-list reader: random workbooks (headers from the real variants and noise, cells of every
type openpyxl stores, merged ranges, title rows) and files that are not workbooks at all. The reader either
returns rows and rejected rows with Chinese reasons, or refuses the file with a ListError; nothing else."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from app.domain.idnumber import check_digit
from app.exchange.identity_lists import (
    CATEGORY_WORDS,
    HEADERS,
    MONITOR_CATEGORIES,
    ListError,
    ListRow,
    read_list,
)

from .conftest import FUZZ

pytestmark = pytest.mark.faults
CJK = re.compile(r"[\u4e00-\u9fff]")

header_words = st.sampled_from([w for names in HEADERS.values() for w in names] + ["序号", "备注", "", "住址"])
id_like = st.builds(lambda body: body + check_digit(body), st.from_regex(r"34022319[5-9][0-9](0[1-9]|1[0-2])[0-2][1-9][0-9]{3}",
                                                                         fullmatch=True))
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
cells = st.one_of(
    st.none(), text, id_like, id_like.map(lambda s: s.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    st.sampled_from(list(CATEGORY_WORDS) + list(MONITOR_CATEGORIES) + ["是", "否", "2023-05", "202305", "2023年5月",
                                                                       "2023-13", "2023-02-30", "0000-00", "99999999"]),
    st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.dates(date(1900, 1, 1), date(2100, 1, 1)), st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)),
    st.times(), st.timedeltas(timedelta(days=-1000), timedelta(days=1000)),
    st.integers(20000, 80000), st.floats(20000, 80000),
)


@st.composite
def sheets(draw) -> dict:
    """A sheet as rows of cells and merged ranges (shown as such when a case fails)."""
    width = draw(st.integers(1, 9))
    rows = [[draw(st.one_of(st.none(), text)) for _ in range(draw(st.integers(0, width)))]
            for _ in range(draw(st.integers(0, 3)))]  # title rows, blank rows
    if draw(st.booleans()):
        rows.append([draw(header_words) for _ in range(width)])
    rows += [[draw(cells) for _ in range(draw(st.integers(0, width + 2)))] for _ in range(draw(st.integers(0, 12)))]
    merges = []
    for _ in range(draw(st.integers(0, 3))):
        top, left = draw(st.integers(1, 8)), draw(st.integers(1, width))
        merges.append((top, left, top + draw(st.integers(0, 3)), left + draw(st.integers(1, 3))))
    return {"rows": rows, "merges": merges}


FIELDS = ("name", "id_number", "category", "monitor_type", "start", "end", "risk_cleared")
plausible = {
    "name": st.sampled_from(["张三", " 李 四", "王五", "", "欧阳小明"]),
    "id_number": id_like,
    "category": st.sampled_from([*CATEGORY_WORDS, "", "五保"]),
    "monitor_type": st.sampled_from([*MONITOR_CATEGORIES, "", "一般户"]),
    "start": st.sampled_from(["2023-05", "202305", "2023年5月", "2023.5.6", "2023-13", "2023-02-30", "2023-5-",
                              "０", "0000-00", "20231", "2023年13月", 44927, 45000.5, 1.5, -3, ""]),
    "end": st.sampled_from([None, "2024-06", "2022-01", "2024年6月30日", "99999999", "明年"]),
    "risk_cleared": st.sampled_from(["是", "否", "", "已消除", 1, True]),
}


@st.composite
def lists(draw) -> dict:
    """A list under a real header (variant names, shuffled columns): each cell plausible for its column, or noise."""
    extra = draw(st.lists(st.sampled_from(FIELDS[2:]), unique=True))
    fields = draw(st.permutations(["name", "id_number", *extra]))
    header = [draw(st.sampled_from(HEADERS[f])) for f in fields]
    noise = draw(st.floats(0, 0.3))  # the share of cells that are anything at all
    rows = [header] + [[draw(cells) if draw(st.floats(0, 1)) < noise else draw(plausible[f]) for f in fields]
                       for _ in range(draw(st.integers(1, 8)))]
    return {"rows": rows, "merges": []}


def workbook(spec: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in spec["rows"]:
        sheet.append(row)
    for top, left, bottom, right in spec["merges"]:
        try:
            sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
        except ValueError:
            pass  # overlapping ranges: openpyxl refuses them as Excel does
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(tmp_path: Path, data: bytes, name: str = "名单.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        parsed = read_list(path)
    except ListError as exc:
        assert CJK.search(str(exc)) and path.name in str(exc), str(exc)
        return None
    for row in parsed.rows:
        assert isinstance(row, ListRow) and len(row.id_number) == 18 and row.id_number.isascii()
        assert isinstance(row.valid_from, date) and (row.valid_to is None or row.valid_to >= row.valid_from)
    for rejected in parsed.rejected:
        assert CJK.search(rejected.reason), f"line {rejected.line}: {rejected.reason!r} is not a reason in Chinese"
    return parsed


@FUZZ
@given(sheets())
def test_any_workbook_is_read_or_refused_in_chinese(tmp_path_factory, spec):
    read(tmp_path_factory.mktemp("wb"), workbook(spec))


@FUZZ
@given(lists())
def test_a_list_under_a_real_header_is_read_row_by_row_in_chinese(tmp_path_factory, spec):
    read(tmp_path_factory.mktemp("list"), workbook(spec))


@FUZZ
@given(st.binary(max_size=2000))
def test_bytes_that_are_no_workbook_are_refused(tmp_path_factory, data):
    assert read(tmp_path_factory.mktemp("bin"), data) is None


@FUZZ
@given(sheets(), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_damaged_workbook_is_read_or_refused(tmp_path_factory, spec, flips):
    damaged = bytearray(workbook(spec))
    for at, value in flips:
        damaged[at % len(damaged)] = value
    read(tmp_path_factory.mktemp("flip"), bytes(damaged))


@FUZZ
@given(st.dictionaries(st.sampled_from(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                                        "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/styles.xml"]),
                       st.one_of(st.binary(max_size=200), st.sampled_from([b"<?xml version='1.0'?><a>", b"<x/>",
                                                                          b"\xef\xbb\xbf<?xml"])), min_size=1))
def test_a_zip_with_broken_workbook_parts_is_refused(tmp_path_factory, parts):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in parts.items():
            z.writestr(name, content)
    assert read(tmp_path_factory.mktemp("zip"), out.getvalue()) is None
