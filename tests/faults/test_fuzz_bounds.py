"""Bounded importers (issue 14, item 6): workbooks, packages and settle cases beyond the limits are refused whole,
with a Chinese message naming the limit, before any reader allocates for them; within the limits they are read."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exchange import bounds, package
from app.exchange.county_db import local_entities
from app.exchange.identity_lists import ListError, read_list
from app.services import packages, registry
from app.services.session import SYSTEM, Session
from app.store.errors import StoreError
from app.store.store import open_store
from tests.exchange.sealing import county_for, export_inner, reseal

from . import hostile
from .conftest import FUZZ
from .killing import cli

pytestmark = pytest.mark.faults


@pytest.fixture
def no_reading(monkeypatch):
    """Fail the test if the workbook reader is reached, or if any member is inflated."""
    import python_calamine

    def reached(*args, **kwargs):
        raise AssertionError("read past the limits")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", reached)
    return reached


def test_the_far_cell_workbook_of_the_issue_is_refused(tmp_path, no_reading):
    path = tmp_path / "名单.xlsx"
    hostile.far_cell(path)
    assert path.stat().st_size < 1700
    with pytest.raises(ListError, match=r"XFD1048576.*超过上限 64 列"):
        read_list(path)


def test_a_gigabyte_zip_bomb_is_refused_by_its_declared_size_before_anything_is_inflated(tmp_path, no_reading,
                                                                                       monkeypatch):
    path = tmp_path / "名单.xlsx"
    hostile.bomb(path, size=1 << 30)
    assert path.stat().st_size < 8 << 20
    monkeypatch.setattr(bounds, "inflate", no_reading)
    with pytest.raises(ListError, match="解压后有 1,024 MB，超过上限 200 MB"):
        read_list(path)


def test_a_bomb_below_the_size_limit_is_refused_by_its_ratio(tmp_path, no_reading, monkeypatch):
    path = tmp_path / "名单.xlsx"
    hostile.bomb(path, size=150 << 20)
    monkeypatch.setattr(bounds, "inflate", no_reading)
    with pytest.raises(ListError, match=r"压缩比为 [\d,]+ 倍，超过上限 200 倍"):
        read_list(path)


def test_a_bomb_that_lies_about_its_size_is_stopped_where_the_lie_ends(tmp_path, no_reading):
    path = tmp_path / "名单.xlsx"
    hostile.bomb(path, size=1 << 30, lie=True)
    with pytest.raises(ListError, match="实际解压大小超过它声明的"):
        read_list(path)


def _cells(rows: int, cols: int, refs: bool) -> bytes:
    """A header row, then a cell at the far corner (by reference) or a row of `cols` cells placed by position."""
    head = '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号</t>' \
           '</is></c><c r="C1" t="inlineStr"><is><t>起始时间</t></is></c><c r="D1" t="inlineStr"><is><t>救助类别</t>' \
           '</is></c></row>'
    if refs:
        name = bounds._cell_name(rows, cols) if cols <= 18278 else f"ZZZZ{rows}"
        far = f'<row r="{rows}"><c r="{name}"><v>1</v></c></row>'
    else:
        far = "<row>" + "<c><v>1</v></c>" * cols + "</row>"
    return (head + far).encode()


@FUZZ
@given(rows=st.one_of(st.integers(2, 40), st.integers(1_000_000, 1_100_000), st.integers(2, 10**10)),
       cols=st.one_of(st.integers(1, 80), st.integers(60, 70), st.integers(1, 20000)),
       refs=st.booleans(), declared=st.one_of(st.none(), st.just("A1:B2"), st.just("A1:XFD1048576")))
def test_a_sheet_beyond_the_limits_is_refused_and_one_within_them_is_read(tmp_path_factory, rows, cols, refs,
                                                                            declared):
    if not refs:
        rows, cols = 2, min(cols, 2000)  # cells placed by position sit in row 2
    path = tmp_path_factory.mktemp("sheet") / "名单.xlsx"
    hostile.workbook(path, _cells(rows, cols, refs), declared)
    big = declared == "A1:XFD1048576" or rows > bounds.MAX_ROWS or cols > bounds.MAX_COLUMNS \
        or rows * cols > bounds.MAX_CELLS
    if big:
        with pytest.raises(ListError, match=r"超过上限 [\d,]+ (行|列|个单元格)"):
            read_list(path)
    elif rows * cols <= 10_000:
        parsed = read_list(path)  # read, whatever its rows say
        assert len(parsed.rows) + len(parsed.rejected) <= 1
    else:
        bounds.check_workbook(path, "x")  # accepted; reading it whole is the benchmark's work


# Packages ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bounded-package")
    session = Session(open_store(folder / "site.sqlite3", daily_backup=False), SYSTEM)
    registry.register_household(session, "340223100201", "第一户", registry.PersonInput("张三", "340223198001010017"))
    path = folder / "p.jzpkg"
    export_inner(session, path)  # the package inside its envelope, as a registered site gone bad would edit it
    yield session, path
    session.store.close()


def _rewritten(src, dst, manifest_change=None, member=None, data=None) -> None:
    """A package edited and given correct checksums again, as someone who read the format would."""
    with zipfile.ZipFile(src) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    manifest = json.loads(files["manifest.json"])
    if member:
        files[member] = data
        manifest["files"][member].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
                                         rows=data.count(b"\n"))
    if manifest_change:
        manifest_change(manifest)
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    files["manifest.sha256"] = hashlib.sha256(files["manifest.json"]).hexdigest().encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for n, d in files.items():
            zout.writestr(n, d)


def _import_changes_nothing(session, path) -> str:
    """Import at another site; return the refusal, after checking the database is as it was."""
    other = county_for(session, path.parent / f"other-{path.stem}")  # the county, which the site's key signs to
    try:
        sealed = path.with_name(path.name + ".sealed")
        reseal(path, sealed, session, other)
        before = other.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        with pytest.raises(StoreError) as refused:
            packages.import_here(other, sealed)
        assert other.conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 0
        assert other.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before
    finally:
        other.store.close()
    return str(refused.value)


@settings(FUZZ, max_examples=FUZZ.max_examples // 6)  # each example writes and checks a megabyte package
@given(length=st.one_of(st.integers(bounds.MAX_LINE - 300, bounds.MAX_LINE + 300), st.just(3 << 20)))
def test_a_package_line_longer_than_the_cap_is_refused_before_import(site, tmp_path_factory, length):
    session, good = site
    with zipfile.ZipFile(good) as zf:
        line = json.loads(zf.read("records/persons.jsonl").splitlines()[0])
    line["name"] = ""
    base = len(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(length // 64 + 1))
    line["name"] = noise[:max(length - base, 0)]  # as incompressible as real text: the ratio check is not the one hit
    data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    bad = tmp_path_factory.mktemp("line") / "p.jzpkg"
    _rewritten(good, bad, member="records/persons.jsonl", data=data)
    if len(data) - 1 > bounds.MAX_LINE:
        assert "超过每行上限 1,048,576 字节" in _import_changes_nothing(session, bad)
        # The county's import checks each records file as it reads it, and refuses the line the same way.
        late = package.open_package(bad, local_entities(), upfront=False)
        with pytest.raises(StoreError, match="超过每行上限 1,048,576 字节"):
            list(late.records("persons"))
    else:
        package.open_package(bad, local_entities())


@settings(FUZZ, max_examples=FUZZ.max_examples // 3)  # each example makes a database to import into
@given(stamp=st.one_of(st.text(max_size=40), st.integers(-10**18, 10**18), st.none(), st.just("2026-13-01T00:00:00+00:00"),
                       st.just("0001-01-01T00:00:00"), st.just("9999-12-31T23:59:59-23:59"), st.just("x" * 10_000)))
def test_a_package_with_a_bad_created_at_is_refused_whole(site, tmp_path_factory, stamp):
    session, good = site
    bad = tmp_path_factory.mktemp("stamp") / "p.jzpkg"
    _rewritten(good, bad, lambda m: m.update(created_at=stamp))
    assert re.search("created_at", _import_changes_nothing(session, bad))


def test_a_record_with_a_huge_number_or_deep_nesting_is_refused(site, tmp_path):
    session, good = site
    with zipfile.ZipFile(good) as zf:
        line = zf.read("records/persons.jsonl").splitlines()[0].decode()
    for n, value in enumerate(("9" * 5000, "[" * 100_000 + "]" * 100_000, '{"a": 1}', "1.5", "NaN")):
        data = re.sub(r'"name":"[^"]*"', f'"name":{value}', line, count=1).encode() + b"\n"
        bad = tmp_path / f"p{n}.jzpkg"
        _rewritten(good, bad, member="records/persons.jsonl", data=data)
        assert "交换包已损坏或被改动" in _import_changes_nothing(session, bad)


# settle --------------------------------------------------------------------------------------------------------------


@FUZZ
@given(depth=st.integers(1, 3000), digits=st.integers(1, 6000), where=st.sampled_from(["visits", "local", "top"]))
def test_settle_refuses_deep_nesting_and_long_numbers_with_exit_2(tmp_path_factory, depth, digits, where):
    number = "1" * digits
    nested = "[" * depth + number + "]" * depth
    case = {"visits": f'{{"policy": "wuhu-2022", "visits": [{{"total_cost": {nested}}}]}}',
            "local": f'{{"policy": "wuhu-2022", "local": {{"x": {nested}}}, "visits": []}}',
            "top": f'{{"policy": "wuhu-2022", "x": {nested}, "visits": []}}'}[where]
    path = tmp_path_factory.mktemp("settle") / "case.json"
    path.write_text(case, encoding="utf-8")
    code, out, err = cli("settle", str(path))
    levels = depth + {"visits": 3, "local": 2, "top": 1}[where]
    assert code == 2 and "Traceback" not in err
    if levels > 3:
        assert "嵌套超过 3 层" in err
    elif digits > 20:
        assert "超过 20 位" in err


def test_a_policy_file_beyond_its_limit_is_refused_without_reading_it_whole(tmp_path):
    from app.policy.loader import MAX_BYTES, PolicyError, load_file

    path = tmp_path / "wuhu-2022.yaml"
    with path.open("wb") as f:
        f.truncate(10 * 1024 * 1024 * 1024)  # sparse: 10 GB that must not be read to be refused
    with pytest.raises(PolicyError, match="文件超过 1 MB"):
        load_file(path)
    assert MAX_BYTES < 10 * 1024 * 1024
