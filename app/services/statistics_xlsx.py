"""Writes the 统计 screen's figures to an .xlsx workbook, one sheet per breakdown, never leaving a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.services.statistics import COLUMNS, Breakdown, Row, Statistics
from app.store.errors import InputError

MONEY_FORMAT = "0.00"
COUNT_FORMAT = "0"
_HEADER_ROW = 3  # title, then the scope line, then the column headers
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="999999")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# openpyxl writes a number as "%.16g" of its float value: exact for every amount below 10^14 yuan in fen, far
# beyond any county's year. Past that a cell would silently lose fen, so refuse instead.
_EXACT_LIMIT = Decimal("1e14")


def export_statistics(stats: Statistics, path: Path | str) -> Path:
    """Write the three breakdowns (按类别, 按乡镇, 按月份) to `path`; returns the path written."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for breakdown in stats.breakdowns:
        _sheet(wb.create_sheet(breakdown.title), stats, breakdown)
    _save_whole(wb, path)
    return path


def _sheet(ws: Worksheet, stats: Statistics, breakdown: Breakdown) -> None:
    with_code = breakdown.kind == "township"  # a township's code is how other systems know it
    headers = [breakdown.key_header, *(["区划代码"] if with_code else []), *(label for _, label in COLUMNS)]
    width = len(headers)
    ws.append([f"{stats.place}{stats.period}医疗救助统计（{breakdown.title}）"])
    ws.append([(f"统计范围：{stats.place}（{stats.jurisdiction or '全部'}）　出院（结算）日期："
                f"{stats.year}年{stats.first_month}月—{stats.last_month}月　"
                f"生成时间：{stats.generated_at:%Y-%m-%d %H:%M}　金额单位：元")])
    for row in (1, 2):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(headers)
    for cell in ws[_HEADER_ROW]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _GRID
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in (*breakdown.rows, breakdown.total):
        _data_row(ws, row, with_code, bold=row is breakdown.total)
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=2)  # headers and the label column stay in view
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    _fit_columns(ws, width)


def _data_row(ws: Worksheet, row: Row, with_code: bool, bold: bool) -> None:
    values: list[object] = [row.label, *([row.key or ""] if with_code else [])]
    for name, _ in COLUMNS:
        values.append(_number(row.value(name)))
    ws.append(values)
    first_number = 3 if with_code else 2
    for i, cell in enumerate(ws[ws.max_row], start=1):
        cell.border = _GRID
        if bold:
            cell.font = _BOLD
        if i >= first_number:
            cell.number_format = COUNT_FORMAT if isinstance(cell.value, int) else MONEY_FORMAT


def _number(value: int | Decimal) -> int | Decimal:
    # The Decimal goes to openpyxl as it is (it takes Decimal as a number); only the cell's XML holds a float's digits.
    if isinstance(value, Decimal) and abs(value) >= _EXACT_LIMIT:
        raise InputError("amount", f"金额 {value} 超出 Excel 单元格能精确表示的范围，无法导出")
    return value


def _display_width(text: str) -> int:
    # Chinese characters take two columns of Excel's width unit.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _fit_columns(ws: Worksheet, width: int) -> None:
    for col in range(1, width + 1):
        texts = []
        for row in ws.iter_rows(min_row=_HEADER_ROW, min_col=col, max_col=col):
            value = row[0].value
            texts.append(f"{value:,.2f}" if isinstance(value, Decimal) else str(value if value is not None else ""))
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, *map(_display_width, texts)) + 2, 40)


def _save_whole(wb: Workbook, path: Path) -> None:
    """Write beside the target and rename over it, so an interrupted export leaves the old file or none."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx.tmp", dir=path.parent)
    except OSError as exc:
        raise InputError("path", f"无法在文件夹 {path.parent} 中写入文件（{exc.strerror or exc}），"
                                 "请换一个位置") from None
    try:
        with os.fdopen(fd, "wb") as f:
            wb.save(f)
            f.flush()
            os.fsync(f.fileno())  # the rename must not reach the disk before the content does
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, PermissionError):
            raise InputError("path", f"无法覆盖 {path.name}：文件可能正在 Excel 等程序中打开，请关闭后重试") from None
        raise
