"""Bulk bills from a settlement list: every row understood or refused with its reason, twice changes nothing."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from app.domain.errors import FieldError
from app.exchange.bill_lists import read_bills
from app.exchange.identity_lists import ListError
from app.services import bill_import, bills, registry
from app.services.identity_import import rejected_report

from .conftest import HEAD_ID, valid_id

HEAD = ["序号", "患者姓名", "公民身份号码", "定点医疗机构名称", "医院等级", "医疗类别", "入院时间", "出院时间", "总费用",
        "合规费用", "统筹基金支付", "大病保险支付", "票据号"]


def _row(n: int, name="张三", number=HEAD_ID, total="10000", covered="9000", kind="住院", day="2024-03-05"):
    return [n, name, number, "南陵县医院", "县级", kind, "2024-03-01", day, total, covered, "5000", "0", f"INV{n:04d}"]


def _xlsx(path, rows) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["南陵县医院一站式结算清单（2024年3月）"])
    sheet.append(HEAD)
    for r in rows:
        sheet.append(r)
    book.save(path)


@pytest.fixture
def listed(session, family):
    """The family as the settlement list's people are: each holds a category over the list's dates."""
    _, head, spouse = family
    for person in (head, spouse):
        registry.set_category(session, person, "低保对象", "2020-01-01", None, "民政")
    return family


def test_rows_are_understood_or_refused_and_twice_changes_nothing(session, listed, clerk, tmp_path):
    _, head, spouse = listed
    spouse_number = valid_id("34022319520304002")
    rows = [_row(n, *(("李四", spouse_number) if n % 2 else ())) for n in range(1, 21)]
    rows += [_row(21, name="王五", number=valid_id("34022319800101001")),     # not registered
             _row(22, name="张三丰"),                                            # another name
             _row(23, total="8000", covered="9000"),                            # covered above total
             _row(24, kind="体检"),                                              # no such kind
             _row(25, day="2024-02-30"),                                        # no such date
             [*_row(26)[:-1], "INV0001"]]                                       # the same invoice again
    path = tmp_path / "list.xlsx"
    _xlsx(path, rows)
    result = bill_import.import_bills(clerk, path)
    assert len(result.ready) == 20 and result.already == 0
    reasons = {r.line: r.reason for r in result.rejected}
    assert "未登记的人员" in reasons[23] and "不符" in reasons[24] and "政策范围内费用" in reasons[25]
    assert "就诊类别" in reasons[26] and "日期" in reasons[27] and "第 3 行" in reasons[28]
    # A refused row can be found: its name and ID number as the list wrote them (refused when read or when compared).
    names = {r.line: (r.name, r.id_number) for r in result.rejected}
    assert names[23] == ("王五", valid_id("34022319800101001")) and names[27][0] and names[27][1]
    assert bill_import.apply(clerk, result) == 20
    assert session.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 20
    assert session.conn.execute("SELECT count(*) FROM payment_lines WHERE payer = '医院'").fetchone()[0] == 20
    # Each person's year was settled once with the year's running totals, as entering the bills one by one would.
    paid = [Decimal(r[0]) for r in session.conn.execute(
        "SELECT s.assistance_paid FROM settlements s JOIN visits v ON v.id = s.visit_id WHERE v.person_id = ? "
        "ORDER BY v.invoice_number", (head,))]
    year = json.loads(session.conn.execute("SELECT totals FROM annual_settlements WHERE person_id = ?",
                                           (head,)).fetchone()[0])
    assert len(paid) == 10 and sum(paid) == Decimal(year["assistance_paid"])
    again = bill_import.import_bills(clerk, path)
    assert again.ready == [] and again.already == 20
    entries = session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert bill_import.apply(clerk, again) == 0
    assert session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == entries
    report = rejected_report(again, tmp_path / "rejected.xlsx")
    assert load_workbook(report).active.max_row == 2 + 6


def test_a_gbk_csv_and_a_refused_file(session, family, clerk, tmp_path):
    path = tmp_path / "list.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows([HEAD, _row(1)])
    parsed = read_bills(path)
    assert [r.name for r in parsed.rows] == ["张三"] and parsed.rows[0].fields["total_cost"] == "10000"
    (tmp_path / "x.xls").write_bytes(b"old")
    with pytest.raises(ListError, match=".xlsx"):
        read_bills(tmp_path / "x.xls")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ListError, match="表头"):
        read_bills(tmp_path / "other.csv")


def test_an_invoice_recorded_meanwhile_refuses_the_whole_import(session, listed, clerk, tmp_path):
    _, head, _ = listed
    path = tmp_path / "list.xlsx"
    _xlsx(path, [_row(1), _row(2)])
    result = bill_import.import_bills(clerk, path)
    bills.record_bill(clerk, head, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", "10000", "9000",
                                                   "INV0002", "县级", "5000", "0"))
    with pytest.raises(FieldError, match="重复报销") as info:
        bill_import.apply(clerk, result)
    assert info.value.field == "invoice_number"
    assert session.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1


def test_where_treated_columns_travel_with_the_bills(session, listed, clerk, tmp_path):
    """芜医保〔2021〕76号 二(二)5: 救助 only “在参保地定点医疗机构或按规定转诊异地就医（急诊、抢救除外）”; a list that says
    where each patient was treated keeps it on the bill, one that does not reads every bill as 参保地 (as before)."""
    book = Workbook()
    sheet = book.active
    sheet.append([*HEAD, "是否异地就医", "急诊、抢救", "异地备案"])
    sheet.append([*_row(1), "否", "", ""])
    sheet.append([*_row(2, day="2024-03-06"), "是", "是", "否"])
    sheet.append([*_row(3, day="2024-03-07"), "是", "", ""])
    sheet.append([*_row(4, day="2024-03-08"), "也许", "", ""])
    path = tmp_path / "where.xlsx"
    book.save(path)
    result = bill_import.import_bills(clerk, path)
    assert [r.line for r in result.rejected] == [5] and "无法识别" in result.rejected[0].reason
    assert bill_import.apply(clerk, result) == 3
    stored = session.conn.execute("SELECT invoice_number, emergency, in_insured_area, filed_remote FROM visits "
                                  "ORDER BY invoice_number").fetchall()
    assert [tuple(r) for r in stored] == [("INV0001", 0, 1, 0), ("INV0002", 1, 0, 0), ("INV0003", 0, 0, 0)]


def test_a_row_dated_outside_the_persons_categories_is_refused_naming_the_field(session, family, clerk, tmp_path):
    _, head, spouse = family
    registry.set_category(session, head, "低保对象", "2024-01-01", "2024-03-02", "民政")
    registry.set_category(session, head, "特困人员", "2024-04-01", None, "民政")
    rows = [_row(1, day="2024-03-02"), _row(2, day="2024-03-05"), _row(3, day="2024-04-02"),
            _row(4, name="李四", number=valid_id("34022319520304002"))]
    path = tmp_path / "list.xlsx"
    _xlsx(path, rows)
    result = bill_import.import_bills(clerk, path)
    assert [r["invoice_number"] for r in result.ready] == ["INV0001", "INV0003"]
    reasons = {r.line: r.reason for r in result.rejected}
    assert reasons == {
        4: "出院（结算）日期：2024-03-05 不在 张三 的身份类别有效期内（登记的有效期为 2024-01-01至2024-03-02、2024-04-01至今），"
           "请核对日期或先登记身份类别",
        6: "出院（结算）日期：2024-03-05 不在 李四 的身份类别有效期内（没有登记身份类别），请核对日期或先登记身份类别"}


def test_amounts_as_lists_write_them_and_mistyped_or_impossible_ones_refused(session, listed, clerk, tmp_path):
    """¥, 元 and thousands' commas are read; a comma out of its place, an infinite or undefined number is refused
    naming the field (never read as another amount, never stopping the import); "-0" is zero."""
    rows = [_row(1, total="¥12,000.50元"), _row(2, total="1,20"), _row(3, total=float("inf")),
            _row(4, covered=float("nan")), [*_row(5)[:11], "-0", "INV0005"]]
    path = tmp_path / "list.xlsx"
    _xlsx(path, rows)
    result = bill_import.import_bills(clerk, path)
    reasons = {r.line: r.reason for r in result.rejected}
    assert sorted(reasons) == [4, 5, 6], reasons
    assert "医疗费用总额" in reasons[4] and "“1,20”不是金额" in reasons[4]
    assert "医疗费用总额" in reasons[5]  # what an infinite number reads as depends on the writer: refused either way
    assert "政策范围内费用" in reasons[6]
    assert bill_import.apply(clerk, result) == 2
    stored = dict(session.conn.execute("SELECT invoice_number, total_cost FROM visits").fetchall())
    assert stored == {"INV0001": "12000.50", "INV0005": "10000.00"}
    assert session.conn.execute("SELECT serious_illness_paid FROM visits WHERE invoice_number = 'INV0005'"
                                ).fetchone()[0] == "0.00"


def test_one_invoice_written_two_ways_is_one_invoice(session, listed, clerk, tmp_path):
    """Full-width letters and digits, spaces and invisible characters do not make a second invoice (重复报销), and a
    number Excel kept approximately is refused instead of read as another invoice."""
    rows = [_row(1), [*_row(2)[:-1], "ＩＮＶ ０００１"], [*_row(3)[:-1], "INV\u200b0001"],
            [*_row(4)[:-1], 1234567890123456.0], [*_row(5)[:-1], "  INV0005\t"]]
    path = tmp_path / "list.xlsx"
    _xlsx(path, rows)
    result = bill_import.import_bills(clerk, path)
    reasons = {r.line: r.reason for r in result.rejected}
    assert sorted(reasons) == [4, 5, 6], reasons
    assert "第 3 行已有" in reasons[4] and "第 3 行已有" in reasons[5] and "存成了数字" in reasons[6]
    assert bill_import.apply(clerk, result) == 2
    assert sorted(r[0] for r in session.conn.execute("SELECT invoice_number FROM visits")) == ["INV0001", "INV0005"]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_cell_that_is_no_finite_number_is_refused_as_no_amount(value):
    """A reader that hands over such a float: the row is refused by the amount's check, the import goes on."""
    from app.exchange.bill_lists import _money

    with pytest.raises(FieldError, match="不是金额"):
        bills.visit_row("p", bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", _money(value), "9000",
                                             "INV1", "县级"), None, "2024-03-05T00:00:00+00:00")


def test_a_cell_holding_a_formulas_error_refuses_its_row_naming_the_column(tmp_path):
    """calamine reads #N/A as an empty cell: an empty 统筹基金支付 would be read as "not filled" and the bill settled
    as if the hospital had paid nothing. The list here starts at column B, as hand-made lists often do."""
    book = Workbook()
    sheet = book.active
    sheet.append([None, "南陵县医院一站式结算清单（2024年3月）"])
    sheet.append([None, *HEAD])
    sheet.append([None, *_row(1)])
    errored = _row(2)
    errored[10] = "#N/A"  # openpyxl writes these texts as error cells (t="e"), as Excel saves a failed VLOOKUP
    sheet.append([None, *errored])
    unread = [*_row(3), "#REF!"]  # past every header: no column the list reads
    sheet.append([None, *unread])
    path = tmp_path / "list.xlsx"
    book.save(path)
    parsed = read_bills(path)
    assert [r.line for r in parsed.rows] == [3, 5]
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (4, "“统筹基金支付”一栏是 Excel 公式的错误值 #N/A（如 VLOOKUP 没有找到），读不出内容；请修正公式，或复制后"
            "“选择性粘贴 → 数值”，再导入")]
    assert parsed.rejected[0].name == "张三" and parsed.rows[0].fields["basic_paid"] == "5000"


def test_a_column_past_the_header_is_never_read_as_a_field_the_list_lacks(tmp_path):
    """A list without 大病保险支付 and with a 备注 column after its last: the note is not an amount."""
    book = Workbook()
    sheet = book.active
    sheet.append([*HEAD[:11], HEAD[12], "备注"])
    row = _row(1)
    sheet.append([*row[:11], row[12], "100"])
    sheet.append([*row[:11], "INV0002", "急诊"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    parsed = read_bills(path)
    assert parsed.rejected == []
    assert [(r.fields["serious_illness_paid"], r.fields.get("emergency")) for r in parsed.rows] == [(None, None)] * 2


def _rezipped(path, change) -> None:
    """Rewrite an .xlsx with change(name, data) -> (name, data) applied to every member."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(*change(name, data))


@pytest.mark.parametrize("spelling", [b"t='e'", b't = "e"'])
def test_an_error_cell_however_its_attribute_is_quoted_refuses_its_row(tmp_path, spelling):
    path = tmp_path / "list.xlsx"
    errored = _row(1)
    errored[10] = "#N/A"
    _xlsx(path, [errored])
    _rezipped(path, lambda name, data: (name, data.replace(b't="e"', spelling)))
    parsed = read_bills(path)
    assert parsed.rows == [] and "统筹基金支付" in parsed.rejected[0].reason


def test_the_error_cells_of_the_sheet_read_wherever_it_is_stored_and_not_of_another(tmp_path):
    """The first worksheet stored outside xl/worksheets/ is still scanned; another sheet's error cell at the same
    place refuses nothing."""
    book = Workbook()
    first = book.active
    first.append(HEAD)
    errored = _row(1)
    errored[10] = "#N/A"
    first.append(errored)
    first.append(_row(2))
    other = book.create_sheet("辅助")
    for _ in range(3):
        other.append(["#REF!"] * 13)
    path = tmp_path / "list.xlsx"
    book.save(path)
    moved = {b"xl/worksheets/sheet1.xml": b"xl/sheet1.xml", b"/xl/worksheets/sheet1.xml": b"/xl/sheet1.xml",
             b"worksheets/sheet1.xml": b"sheet1.xml"}

    def move(name, data):
        for old, new in moved.items():
            data = data.replace(old, new)
        return ("xl/sheet1.xml" if name == "xl/worksheets/sheet1.xml" else name), data

    _rezipped(path, move)
    parsed = read_bills(path)
    assert [r.line for r in parsed.rows] == [3] and [r.line for r in parsed.rejected] == [2]


def test_an_error_value_saved_in_a_csv_is_no_name_or_invoice(tmp_path):
    path = tmp_path / "list.csv"
    rows = [_row(1), _row(2), _row(3)]
    rows[0][1] = "#N/A"
    rows[1][12] = "#REF!"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEAD, *rows])
    parsed = read_bills(path)
    assert [r.line for r in parsed.rows] == [4]
    assert [r.reason.split("”")[0] for r in parsed.rejected] == ["“患者姓名", "“票据号"]


def test_a_recorded_invoice_listed_with_other_amounts_is_refused_naming_them(session, listed, clerk, tmp_path):
    """Only the same bill is 'already recorded': the same invoice with another 统筹 figure is not skipped silently."""
    path = tmp_path / "list.xlsx"
    _xlsx(path, [_row(1), _row(2)])
    assert bill_import.apply(clerk, bill_import.import_bills(clerk, path)) == 2
    changed = _row(2)
    changed[10] = "4000"
    _xlsx(path, [_row(1), changed])
    again = bill_import.import_bills(clerk, path)
    assert again.already == 1 and again.ready == []
    reason = again.rejected[0].reason
    assert "INV0002" in reason and "清单为 4000.00、已登记为 5000.00" in reason and "更正" in reason


def _with_error(path) -> None:
    errored = _row(1)
    errored[10] = "#N/A"
    _xlsx(path, [errored, _row(2)])


def test_a_sheet_named_in_another_case_is_still_the_sheet_read(tmp_path):
    """calamine finds a part whatever the case of its name; the error cells are found the same way."""
    path = tmp_path / "list.xlsx"
    _with_error(path)
    _rezipped(path, lambda name, data: ("xl/worksheets/Sheet1.xml" if name == "xl/worksheets/sheet1.xml" else name,
                                        data.replace(b"worksheets/sheet1.xml", b"Worksheets/SHEET1.xml")))
    parsed = read_bills(path)
    assert [r.line for r in parsed.rows] == [4] and "统筹基金支付" in parsed.rejected[0].reason


def test_error_cells_in_a_workbook_whose_sheets_cannot_be_told_refuse_it(tmp_path):
    path = tmp_path / "list.xlsx"
    _with_error(path)
    _rezipped(path, lambda name, data: (name, b"<broken" if name == "xl/_rels/workbook.xml.rels" else data))
    with pytest.raises(ListError, match="公式的错误值.*看不出名单在哪一张工作表"):
        read_bills(path)


def test_a_list_without_an_admission_column_finds_a_bill_entered_by_hand(session, listed, clerk, tmp_path):
    """The list reads the discharge day as the admission day when it has no such column: not a difference."""
    _, head, _ = listed
    bills.record_bill(clerk, head, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", "10000", "9000",
                                                   "INV0001", "县级", basic_paid="5000", serious_illness_paid="0"))
    book = Workbook()
    sheet = book.active
    sheet.append([h for h in HEAD if h != "入院时间"])
    sheet.append([v for i, v in enumerate(_row(1)) if HEAD[i] != "入院时间"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    result = bill_import.import_bills(clerk, path)
    assert result.already == 1 and result.rejected == []


def test_a_row_leaving_the_admission_day_or_a_fund_figure_empty_is_still_the_bill_recorded(session, listed, clerk,
                                                                                          tmp_path):
    """An empty cell states nothing (an outpatient visit has no 入院日期): the bill recorded by hand is that row's bill,
    not one it differs from; a cell that states another figure still is a difference."""
    _, head, _ = listed
    bills.record_bill(clerk, head, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", "10000", "9000",
                                                   "INV0001", "县级", basic_paid="5000", serious_illness_paid="0"))
    row = _row(1)
    row[6], row[10], row[11] = None, None, ""
    path = tmp_path / "list.xlsx"
    _xlsx(path, [row])
    result = bill_import.import_bills(clerk, path)
    assert result.already == 1 and result.rejected == []
    row[6] = "2024-03-02"
    _xlsx(path, [row])
    result = bill_import.import_bills(clerk, path)
    assert result.already == 0 and "日期清单为 2024-03-02、已登记为 2024-03-01" in result.rejected[0].reason


@pytest.mark.parametrize("error", ["#SPILL!", "#CALC!", "#FIELD!"])
def test_an_error_calamine_cannot_read_is_named_by_its_cell_not_called_a_damaged_file(tmp_path, error):
    """A dynamic array's #SPILL! (Excel 365) makes calamine refuse the whole sheet: the caseworker is told which cell
    to fix, not that the file is damaged."""
    path = tmp_path / "list.xlsx"
    _with_error(path)
    _rezipped(path, lambda name, data: (name, data.replace(b">#N/A<", f">{error}<".encode())))
    with pytest.raises(ListError) as refused:
        read_bills(path)
    assert str(refused.value) == (f"list.xlsx：工作表的 K3 单元格是 Excel 公式的错误值 {error}，含有这种错误值的工作表读不"
                                  f"出来；请修正该公式，或复制后“选择性粘贴 → 数值”，再导入")
