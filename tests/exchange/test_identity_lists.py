"""Importing 民政 and 乡村振兴 identity lists: messy layouts read, bad rows reported, applying twice changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app.cli import main
from tests.faults.killing import cli
from app.domain.errors import FieldError
from app.domain.idnumber import check_digit
from app.exchange.identity_lists import ListError, parse_date, read_list
from app.services import county, identity_import, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store.store import open_store


def idn(body: str) -> str:
    return body + check_digit(body)


ZHANG, LI, WANG, STRANGER = (idn("34022319600101001"), idn("34022319620202002"), idn("34022319700303003"),
                             idn("34022319800404004"))


@pytest.fixture
def session(tmp_path):
    store = open_store(tmp_path / "x.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    s = Session(store, admin)
    county.configure_county(s, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    for name, number in (("张三", ZHANG), ("李四", LI), ("王五", WANG)):
        registry.register_household(s, "340223100201", f"{name}家", registry.PersonInput(name, number))
    yield s
    store.close()


def minzheng_roster(path: Path) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(["南陵县 2025 年 6 月城乡低保、特困人员花名册"])
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["序号", "户主姓名", "成员姓名", "身份证号码", "救助类别", "起始保障年月"])
    ws.append([1, "张三", "张三", ZHANG, "低保", "2023-05"])
    ws.append([2, "李四", " 李 四", " ".join(LI[:6]) + LI[6:].translate(str.maketrans("0123456789", "０１２３４５６７８９")),
               "特困", 44927])  # 44927 is 2023-01-01 as an Excel serial number
    ws.append([None] * 6)
    ws.append([3, "张三", "张三", ZHANG, "低保", "2023-05"])  # the same row again
    ws.append([4, "王五", "王五", WANG[:-1] + ("0" if WANG[-1] != "0" else "1"), "低保", "2024-01"])  # wrong check digit
    ws.append([5, "赵六", "赵六", STRANGER, "低保", "2024-01"])
    ws.append([6, "王五", "王五", WANG, "临时救助", "2024-01"])  # not an identity category
    book.save(path)
    return path


def xiangcun_export(path: Path, cleared: bool) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(["姓名", "身份证号", "与户主关系", "监测对象类别", "识别监测时间", "风险是否已消除", "消除监测时间"])
    ws.append(["王五", WANG, "户主", "边缘易致贫户", datetime(2024, 3, 1), "是" if cleared else "否",
               "2025年4月30日" if cleared else None])
    book.save(path)
    return path


def test_messy_roster_is_read_and_every_bad_row_explained(tmp_path):
    parsed = read_list(minzheng_roster(tmp_path / "低保.xlsx"))
    assert parsed.source == "民政"
    assert [(r.name, r.category, r.valid_from) for r in parsed.rows] == [
        ("张三", "低保对象", date(2023, 5, 1)), ("李四", "特困人员", date(2023, 1, 1)), ("赵六", "低保对象", date(2024, 1, 1))]
    assert parsed.rows[1].id_number == LI
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert "重复行" in reasons[7] and "校验" in reasons[8] and "临时救助" in reasons[10]
    # A rejected row still says whose it is, so the caseworker can find the person.
    assert {(r.name, r.id_number[:6]) for r in parsed.rejected} >= {("王五", "340223")}


def test_compare_apply_and_import_twice(session, tmp_path):
    parsed, changes = identity_import.import_list(session, minzheng_roster(tmp_path / "低保.xlsx"))
    assert [c.kind for c in changes] == ["new", "new", "unknown"]
    assert session.conn.execute("SELECT count(*) FROM category_periods").fetchone()[0] == 0  # comparing writes nothing
    assert identity_import.apply(session, changes, "民政", "民政") == 2
    assert [c.kind for c in identity_import.import_list(session, tmp_path / "低保.xlsx")[1]] == \
        ["unchanged", "unchanged", "unknown"]
    _, first = identity_import.import_list(session, xiangcun_export(tmp_path / "监测1.xlsx", cleared=False))
    assert [c.kind for c in first] == ["new"]
    identity_import.apply(session, first, "乡村振兴", "乡村振兴")
    _, second = identity_import.import_list(session, xiangcun_export(tmp_path / "监测2.xlsx", cleared=True))
    assert [c.kind for c in second] == ["ended"]
    identity_import.apply(session, second, "乡村振兴", "乡村振兴")
    period = session.conn.execute("SELECT valid_from, valid_to FROM category_periods WHERE category = '边缘易致贫人口'"
                                  ).fetchone()
    assert tuple(period) == ("2024-03-01", "2025-04-30")
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log WHERE action LIKE '导入身份名单%'")]
    assert len(actions) == 4


def test_a_list_ending_a_period_received_from_another_site_leaves_it_to_that_site(session, tmp_path):
    _, first = identity_import.import_list(session, xiangcun_export(tmp_path / "监测1.xlsx", cleared=False))
    identity_import.apply(session, first, "乡村振兴", "乡村振兴")
    # The period came from the county's site (as a copy received by sync stores it): ending it here would never travel.
    session.conn.execute("UPDATE category_periods SET site_id = '340223-county'")
    _, second = identity_import.import_list(session, xiangcun_export(tmp_path / "监测2.xlsx", cleared=True))
    assert [c.kind for c in second] == ["conflict"]
    assert "340223-county" in second[0].note and "请在登记它的站点导入" in second[0].note
    assert identity_import.apply(session, second, "乡村振兴", "乡村振兴") == 0
    assert session.conn.execute("SELECT valid_to FROM category_periods").fetchone()[0] is None


def test_wrong_file_type_and_no_header(tmp_path):
    (tmp_path / "a.xls").write_bytes(b"old excel")
    with pytest.raises(ListError, match=".xlsx"):
        read_list(tmp_path / "a.xls")
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ListError, match="无法作为 Excel"):
        read_list(tmp_path / "b.xlsx")
    book = Workbook()
    book.active.append(["甲", "乙"])
    book.save(tmp_path / "c.xlsx")
    with pytest.raises(ListError, match="表头"):
        read_list(tmp_path / "c.xlsx")


def test_a_csv_roster_with_the_headers_and_words_townships_use(tmp_path):
    # 纳入时间 as the start header, 五保户 (the old name of 农村特困人员) as a category, saved by WPS in GB18030.
    text = "姓名,身份证号码,人员类别,纳入时间\n张三,%s,五保户,2020-03-01\n李四,%s,低保,\n" % (ZHANG, LI)
    (tmp_path / "名单.csv").write_bytes(text.encode("gb18030"))
    parsed = read_list(tmp_path / "名单.csv")
    assert [(r.name, r.category, r.valid_from) for r in parsed.rows] == [("张三", "特困人员", date(2020, 3, 1))]
    assert [(r.name, r.id_number, r.reason) for r in parsed.rejected] == [("李四", LI, "起始时间为空")]
    (tmp_path / "无起始.csv").write_text("姓名,身份证号码,人员类别\n张三,%s,低保\n" % ZHANG, encoding="utf-8-sig")
    with pytest.raises(ListError, match="纳入时间"):
        read_list(tmp_path / "无起始.csv")


@pytest.mark.parametrize("raw,expected", [("2023-05", date(2023, 5, 1)), ("202305", date(2023, 5, 1)),
                                          ("2023年5月", date(2023, 5, 1)), ("2023.5.6", date(2023, 5, 6)),
                                          (45000, date(2023, 3, 15)), ("２０２３－０５－０１", date(2023, 5, 1))])
def test_dates_as_lists_carry_them(raw, expected):
    assert parse_date(raw) == expected


def test_cli_compares_then_applies_and_reports(session, tmp_path, capsys):
    path = minzheng_roster(tmp_path / "低保.xlsx")
    db = str(session.store.path)
    assert main(["import-list", str(path), "--db", db, "--report", str(tmp_path / "未导入.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "新增 2" in out and "未导入 4 行" in out and "未作任何修改" in out  # the rows the report lists
    report = load_workbook(tmp_path / "未导入.xlsx").active
    assert report.cell(3, 2).value and report.max_row == 6  # 3 rows not understood and 1 person not registered
    code, out, err = cli("import-list", str(path), "--db", db, "--apply")
    assert code == 2 and "--user" in err, "applying signs in"
    code, out, err = cli("import-list", str(path), "--db", db, "--apply", "--user", "admin", "--password-stdin",
                         stdin="correct-horse\n")
    assert code == 0 and "已应用 2 项" in out, err


@pytest.mark.parametrize("raw", ["0001-01-01", "2999-01", datetime(1900, 1, 5), "1949年12月"])
def test_dates_outside_any_certification_are_refused(raw):
    """A date of year 1 or 2999 taken as written would put a category over every bill there is."""
    with pytest.raises(ValueError, match="不在 1950 至 2099 年之间"):
        parse_date(raw)


@pytest.mark.parametrize("raw", ["2023-13", "2023-02-30", "0000-00", "2023年13月"])
def test_impossible_dates_are_refused_in_chinese(raw):
    """Found by tests/faults fuzzing: strptime's English message was a row's reason."""
    with pytest.raises(ValueError, match="不是有效日期"):
        parse_date(raw)


def test_a_workbook_damaged_inside_its_zip_is_refused(tmp_path):
    """Found by tests/faults fuzzing: a broken deflate stream raised zlib.error out of openpyxl."""
    import zipfile

    path = minzheng_roster(tmp_path / "低保.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10:start + info.compress_size - 10] = bytes(info.compress_size - 20)
    path.write_bytes(bytes(data))
    with pytest.raises(ListError, match="无法作为 Excel"):
        read_list(path)


def test_people_not_registered_here_are_among_the_rows_exported_as_not_imported(session, tmp_path):
    parsed, changes = identity_import.import_list(session, minzheng_roster(tmp_path / "低保.xlsx"))
    unknown = next(c for c in changes if c.kind == "unknown")
    left = identity_import.not_imported(parsed, changes)
    assert [r.line for r in left] == sorted(r.line for r in left) and unknown.row.line in [r.line for r in left]
    report = identity_import.rejected_report(parsed, tmp_path / "未导入.xlsx", changes)
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    mine = next(r for r in rows if r[0] == unknown.row.line)
    assert mine[1] == unknown.row.name and mine[2] == unknown.row.id_number and "未登记人员" in mine[3]
    assert unknown.row.category in mine[4]


def _roster(path: Path, rows: list[tuple[str, str, str, str | None]]) -> Path:
    """A 民政 roster of (name, ID number, category, start[, end]) rows."""
    book = Workbook()
    ws = book.active
    ws.append(["姓名", "身份证号码", "救助类别", "起始保障年月", "终止保障年月"])
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path


def _periods(session, number: str) -> list[tuple]:
    return [tuple(r) for r in session.conn.execute(
        "SELECT c.category, c.valid_from, c.valid_to FROM category_periods c JOIN persons p ON p.id = c.person_id "
        "WHERE p.id_number = ? ORDER BY c.valid_from", (number,))]


def _person(session, number: str) -> str:
    return session.conn.execute("SELECT id FROM persons WHERE id_number = ?", (number,)).fetchone()[0]


def test_a_later_certification_date_keeps_the_registered_start(session, tmp_path):
    """A roster lists the certification each person holds now: a re-certified 低保 family's later date must not take
    the years before it out of the category (and claw back what they were paid)."""
    registry.set_category(session, _person(session, ZHANG), "低保对象", "2019-03-01", None, "民政")
    _, changes = identity_import.import_list(session, _roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2024-01", None)]))
    assert [c.kind for c in changes] == ["unchanged"] and "保留登记的起始日期" in changes[0].note
    # An end, or an earlier start, is still written; the registered start stays where the roster's is later.
    _, changes = identity_import.import_list(session, _roster(tmp_path / "e.xlsx", [("张三", ZHANG, "低保", "2024-01", "2025-06-30")]))
    assert [c.kind for c in changes] == ["ended"]
    identity_import.apply(session, changes, "民政", "民政")
    assert _periods(session, ZHANG) == [("低保对象", "2019-03-01", "2025-06-30")]
    _, changes = identity_import.import_list(session, _roster(tmp_path / "s.xlsx", [("张三", ZHANG, "低保", "2018-07", "2025-06-30")]))
    identity_import.apply(session, changes, "民政", "民政")
    assert _periods(session, ZHANG) == [("低保对象", "2018-07-01", "2025-06-30")]


def test_a_row_overlapping_two_registered_periods_is_not_guessed_at(session, tmp_path):
    person = _person(session, ZHANG)
    registry.set_category(session, person, "低保对象", "2020-01-01", "2021-12-31", "民政")
    registry.set_category(session, person, "低保对象", "2023-01-01", None, "民政")
    parsed, changes = identity_import.import_list(
        session, _roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2021-06", None)]))
    assert [c.kind for c in changes] == ["conflict"]
    assert identity_import.apply(session, changes, "民政", "民政") == 0
    assert _periods(session, ZHANG) == [("低保对象", "2020-01-01", "2021-12-31"), ("低保对象", "2023-01-01", None)]
    left = identity_import.not_imported(parsed, changes)
    assert len(left) == 1 and "期间冲突" in left[0].reason and "2 段低保对象期间" in left[0].reason


def test_a_compared_list_applied_twice_writes_once(session, tmp_path):
    """Two caseworkers (or two clicks) applying the same comparison: the second finds the registry changed and
    writes nothing, rather than a second, overlapping period."""
    _, changes = identity_import.import_list(session, _roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2023-05", None)]))
    assert identity_import.apply(session, changes, "民政", "民政") == 1
    with pytest.raises(FieldError, match="比对之后登记已有变化"):
        identity_import.apply(session, changes, "民政", "民政")
    assert _periods(session, ZHANG) == [("低保对象", "2023-05-01", None)]


def test_two_rows_of_one_person_and_category_with_other_periods_say_so(tmp_path):
    parsed = read_list(_roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2019-01", "2020-12-31"),
                                                     ("张三", ZHANG, "低保", "2023-01", None),
                                                     ("张三", ZHANG, "低保", "2019-01", "2020-12-31")]))
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert "在第 2 行已有一段期间" in reasons[3] and "期间不同" in reasons[3]
    assert reasons[4].startswith("重复行")


def test_a_csv_line_of_countless_commas_is_refused_before_it_is_split(tmp_path):
    path = tmp_path / "commas.csv"
    path.write_text("姓名,身份证号码,救助类别,起始保障年月\n" + "," * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ListError, match="第 2 行有 100,000 个逗号"):
        read_list(path)
    path.write_text('姓名,身份证号码,救助类别,起始保障年月\n"' + "x" * 200_000 + '",1,2,3\n', encoding="utf-8")
    with pytest.raises(ListError, match="有一格超过 128 KB"):
        read_list(path)


def test_an_id_number_left_by_a_failed_lookup_refuses_the_row_naming_the_column(tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["序号", "成员姓名", "身份证号码", "救助类别", "起始保障年月"])
    ws.append([1, "张三", ZHANG, "低保", "2023-05"])
    ws.append([2, "李四", "#N/A", "低保", "2023-05"])  # written as an error cell, as a VLOOKUP that found nothing
    path = tmp_path / "roster.xlsx"
    book.save(path)
    parsed = read_list(path)
    assert [r.name for r in parsed.rows] == ["张三"]
    assert [(r.line, r.name) for r in parsed.rejected] == [(3, "李四")]
    assert parsed.rejected[0].reason.startswith("“身份证号码”一栏是 Excel 公式的错误值 #N/A")


def test_a_row_whose_number_is_registered_under_another_name_is_not_applied(session, tmp_path):
    """A wrong ID number in the department's list would give the category, and its assistance, to someone else."""
    roster = _roster(tmp_path / "名单.xlsx", [("张三", ZHANG, "低保", "2024-01"), ("张叁", LI, "低保", "2024-01")])
    parsed, changes = identity_import.import_list(session, roster)
    assert [c.kind for c in changes] == ["new", "mismatch"]
    left = identity_import.not_imported(parsed, changes)
    assert [(r.name, r.reason.split("：")[0]) for r in left] == [("张叁", "姓名不符")] and "李四" in left[0].reason
    assert identity_import.apply(session, changes, "民政", "民政") == 1
    assert _periods(session, LI) == []


def test_a_duration_python_cannot_hold_refuses_the_file_in_chinese(tmp_path):
    """A time format on a huge number: calamine makes a timedelta of it and Python overflows (found by the fuzzer)."""
    book = Workbook()
    ws = book.active
    ws.append(["姓名", "身份证号", "起始时间"])
    ws.append(["张三", ZHANG, 10 ** 16])
    ws["C2"].number_format = "[h]:mm:ss"
    book.save(tmp_path / "名单.xlsx")
    with pytest.raises(ListError, match="超出可以表示的范围"):
        read_list(tmp_path / "名单.xlsx")


@pytest.mark.parametrize(("registered", "listed"), [("买买提 艾力", "买买提艾力"), ("阿依古丽·买买提", "阿依古丽•买买提"),
                                                   ("ＡＢＣ", "ABC"), ("阿依古丽．买买提", "阿依古丽·买买提"),
                                                   ("阿依古丽.买买提", "阿依古丽·买买提")])
def test_a_name_written_another_way_is_the_same_name(registered, listed):
    from app.domain.names import same_name

    assert same_name(registered, listed) and not same_name(registered, listed + "某")


def test_a_category_left_empty_or_merged_down_a_household_is_refused_not_read_as_dibao(tmp_path):
    """Each row says its category: an empty cell (the rows under a merged 特困 cell) was read as 低保对象."""
    book = Workbook()
    ws = book.active
    ws.append(["姓名", "身份证号码", "救助类别", "起始保障年月"])
    ws.append(["张三", ZHANG, "特困", "2023-05"])
    ws.append(["李四", LI, None, "2023-05"])
    ws.merge_cells("C2:C3")
    book.save(tmp_path / "merged.xlsx")
    parsed = read_list(tmp_path / "merged.xlsx")
    assert [(r.name, r.category) for r in parsed.rows] == [("张三", "特困人员")]
    assert [r.line for r in parsed.rejected] == [3] and "类别为空" in parsed.rejected[0].reason


def test_a_roster_without_a_category_column_is_refused_whole(tmp_path):
    book = Workbook()
    book.active.append(["姓名", "身份证号码", "纳入时间"])
    book.active.append(["张三", ZHANG, "2023-05"])
    book.save(tmp_path / "tekun.xlsx")
    with pytest.raises(ListError, match="找不到类别列.*不按名单的名称推断类别"):
        read_list(tmp_path / "tekun.xlsx")


def test_a_date_typed_as_a_number_is_refused_not_read_as_january(tmp_path):
    """2025.10 typed into a number cell is the float 2025.1: it is October, not January, and is refused."""
    parsed = read_list(_roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", 2025.1, None),
                                                     ("李四", LI, "低保", "2025-01", 2025.1)]))
    assert parsed.rows == [] and all("是一个数字，不是日期" in r.reason for r in parsed.rejected)


def test_an_end_given_as_a_month_only_is_refused_asking_for_the_day(tmp_path):
    parsed = read_list(_roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2023-05", "2025-01"),
                                                     ("李四", LI, "低保", "2023-05", "2025-01-31")]))
    assert [r.valid_to for r in parsed.rows] == [date(2025, 1, 31)]
    assert "只有年月，没有日" in parsed.rejected[0].reason


def test_a_risk_not_cleared_with_a_clearing_date_is_refused(tmp_path):
    path = xiangcun_export(tmp_path / "x.xlsx", cleared=False)
    book = load_workbook(path)
    book.active["G2"] = "2025-05-31"
    book.save(path)
    parsed = read_list(path)
    assert parsed.rows == [] and "却填了消除时间" in parsed.rejected[0].reason


def test_a_workbook_whose_first_sheet_is_hidden_is_refused(tmp_path):
    """The first sheet is the one read: a hidden old list there would be imported instead of the one shown."""
    path = _roster(tmp_path / "r.xlsx", [("张三", ZHANG, "特困", "2019-01", None)])
    book = load_workbook(path)
    book.active.title = "旧名单"
    book.active.sheet_state = "hidden"
    shown = book.create_sheet("2025名单")
    shown.append(["姓名", "身份证号码", "救助类别", "起始保障年月"])
    book.active = 1
    book.save(path)
    with pytest.raises(ListError, match="第一张工作表“旧名单”是隐藏的"):
        read_list(path)


def test_apply_refuses_a_certifier_that_is_not_a_department(session, tmp_path):
    _, changes = identity_import.import_list(session, _roster(tmp_path / "r.xlsx", [("张三", ZHANG, "低保", "2024-01", None)]))
    with pytest.raises(FieldError, match="认定部门应为"):
        identity_import.apply(session, changes, "随便写的", "民政")
