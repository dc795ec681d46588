"""The one Excel writer: the house style read back, whole-or-nothing files, and memory that does not grow with rows."""

from __future__ import annotations

import tempfile
import tracemalloc
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.documents import xlsx
from app.domain.errors import FieldError


def test_house_style_read_back(tmp_path):
    path = tmp_path / "名单.xlsx"
    with xlsx.Book(path) as book:
        sheet = book.sheet("名单", ["序号", "姓名", "住址", "人次", "金额"], title="南陵县名单", lines=["统计范围：全县"],
                           first_number=4, frozen_columns=2)
        sheet.row([1, "张三", "安徽省芜湖市南陵县籍山镇某某村十二号", 3, Decimal("1234567.5")])
        sheet.row([2, "李四", "=HYPERLINK(\"http://x\")", 0, Decimal("-0.01")])
        sheet.row(["合计", None, None, 3, Decimal("1234567.49")], bold=True)
        sheet.note("以下空白")
        sheet.width(1, 6)
        wide = book.sheet("长", ["说明"], max_width=40)
        wide.row(["很" * 30])
    ws = load_workbook(path)["长"]
    assert abs(ws.column_dimensions["A"].width - 40) < 1  # 60 wide, capped at max_width
    ws = load_workbook(path).active
    assert ws.title == "名单" and ws["A1"].value == "南陵县名单" and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:E1", "A2:E2"}
    assert [c.value for c in ws[3]] == ["序号", "姓名", "住址", "人次", "金额"] and ws["A3"].font.b
    assert ws["A3"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws.freeze_panes == "C4" and ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
    money = ws["E4"]
    assert Decimal(str(money.value)) == Decimal("1234567.5") and money.number_format == "#,##0.00"
    assert ws["D4"].number_format == "0" and ws["A4"].number_format == "General"  # before first_number: as is
    assert ws["C5"].value.startswith("=HYPERLINK") and ws["C5"].data_type == "s"  # text, never a formula
    assert ws["A6"].font.b and ws["E6"].border.left.style == "thin" and ws["A7"].value == "以下空白"
    # XlsxWriter stores widths through pixels: within one unit of what was asked.
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert abs(widths["A"] - 6) < 1  # fixed
    assert abs(widths["B"] - 10) < 1  # at least 8, and two to spare: 姓名 is 4 wide
    assert abs(widths["C"] - 38) < 1  # 18 Chinese characters are 36 wide, and two to spare
    assert abs(widths["E"] - 14) < 1  # "1,234,567.50" and two to spare
    assert [p.name for p in tmp_path.iterdir()] == ["名单.xlsx"]


def test_an_error_inside_the_block_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"old")
    with pytest.raises(FieldError, match="超出 Excel 单元格能精确表示的范围") as info:
        with xlsx.Book(path) as book:
            sheet = book.sheet("名单", ["金额"])
            sheet.row([Decimal("1")])
            sheet.row([Decimal("100000000000000.00")])
    assert info.value.field == "amount"
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["名单.xlsx"]


def test_an_unwritable_folder_is_named(tmp_path):
    with pytest.raises(FieldError, match="无法在文件夹") as info:
        xlsx.Book(tmp_path / "没有这个文件夹" / "名单.xlsx")
    assert info.value.field == "path"


def test_a_plain_sheet_without_header(tmp_path):
    path = tmp_path / "说明.xlsx"
    with xlsx.Book(path) as book:
        sheet = book.sheet("说明")
        sheet.row(["报送站点", "籍山镇"])
        sheet.row(["变更", 12, 1.5, True])
    ws = load_workbook(path).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["报送站点", "籍山镇", None, None], ["变更", 12, 1.5, True]]
    assert ws.freeze_panes is None


def _peak_writing(path, rows: int) -> int:
    tracemalloc.start()
    try:
        with xlsx.Book(path) as book:
            sheet = book.sheet("名单", ["序号", "姓名", "住址", "金额"], title="名单", first_number=4)
            for n in range(rows):
                sheet.row([n, f"姓名{n}", "安徽省芜湖市南陵县籍山镇某某村", Decimal(n) / 100])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_rows(tmp_path):
    small = _peak_writing(tmp_path / "a.xlsx", 2_000)
    large = _peak_writing(tmp_path / "b.xlsx", 20_000)
    assert large < small + 512 * 1024, (small, large)  # ten times the rows, not ten times the memory


TRICKY = ["<r><t>粗体</t></r>", "a & b <c>", "\x01控制\x1f字符", "_x0041_ 字面", "  前后空格  ", "\n换行\n", "=1+1", "~"]


def test_every_text_reads_back_as_written(tmp_path):
    """Rows are serialised by this module: markup, control characters, Excel's own _xHHHH_ escapes and edge
    whitespace must come back as they went in (calamine unescapes as Excel does), and be written as XlsxWriter
    writes the same strings (openpyxl shows the _xHHHH_ escapes as they are stored)."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    path = tmp_path / "文本.xlsx"
    with xlsx.Book(path) as book:
        sheet = book.sheet("文本", ["值", "数"], first_number=2)
        for n, text in enumerate(TRICKY):
            sheet.row([text, n])
        sheet.row([None, 1.25])
        sheet.row([True, Decimal("-0.01")])
    read = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [[row[0], int(row[1])] for row in read[1:len(TRICKY) + 1]] == [[t, n] for n, t in enumerate(TRICKY)]
    reference = tmp_path / "reference.xlsx"
    with xlsxwriter.Workbook(str(reference), {"constant_memory": True}) as book:
        ws = book.add_worksheet()
        for n, text in enumerate(TRICKY[1:], start=1):  # XlsxWriter would write the first as markup
            ws.write_string(n, 0, text)
    ws, ref = load_workbook(path).active, load_workbook(reference).active
    assert [ws.cell(r, 1).value for r in range(3, len(TRICKY) + 2)] == [ref.cell(r, 1).value
                                                                          for r in range(2, len(TRICKY) + 1)]
    assert ws["A2"].value == TRICKY[0]  # text, never rich-text markup
    assert all(ws.cell(r, 1).data_type == "s" for r in range(2, len(TRICKY) + 2))
    assert [ws.cell(len(TRICKY) + 2, 2).value, ws.cell(len(TRICKY) + 3, 1).value] == [1.25, True]
    assert ws.max_row == len(TRICKY) + 3 and ws.max_column == 2  # the sheet's stated extent covers the rows


def test_a_discarded_book_leaves_no_scratch_files(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(RuntimeError):
        with xlsx.Book(tmp_path / "名单.xlsx") as book:
            book.sheet("名单", ["姓名"]).row(["张三"])
            raise RuntimeError("停电")
    assert list(scratch.iterdir()) == [] and list(tmp_path.iterdir()) == [scratch]
