"""The house style of the .xlsx exports: title lines, styled header, exact money cells, widths, whole-file saving."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.domain.errors import FieldError

MONEY_FORMAT = "0.00"
COUNT_FORMAT = "0"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="999999")
GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# openpyxl writes a number as "%.16g" of its float value: exact for every amount below 10^14 yuan in fen, far
# beyond any county's year. Past that a cell would silently lose fen, so refuse instead.
_EXACT_LIMIT = Decimal("1e14")


def title_lines(ws: Worksheet, title: str, lines: Iterable[str], width: int) -> None:
    """The sheet's title (large, centred) and the lines that say what it covers, each merged across the table."""
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    for line in lines:
        ws.append([line])
    for row in range(1, ws.max_row + 1):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def header(ws: Worksheet, headers: list[str]) -> int:
    """Append the column headers in the house style; returns their row number."""
    ws.append(headers)
    row = ws.max_row
    for cell in ws[row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = GRID
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return row


def number(value: int | Decimal) -> int | Decimal:
    """A count or an amount for a cell; the Decimal goes to openpyxl as it is (openpyxl takes Decimal as a number)."""
    if isinstance(value, Decimal) and abs(value) >= _EXACT_LIMIT:
        raise FieldError("amount", f"金额 {value} 超出 Excel 单元格能精确表示的范围，无法导出")
    return value


def data_row(ws: Worksheet, values: list[object], first_number: int, bold: bool = False) -> None:
    """Append a row: gridlines, and from column `first_number` on, ints as counts and Decimals as money."""
    ws.append([number(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v for v in values])
    for i, cell in enumerate(ws[ws.max_row], start=1):
        cell.border = GRID
        if bold:
            cell.font = BOLD
        if i >= first_number:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(cell.value, int):
                cell.number_format = COUNT_FORMAT


def finish(ws: Worksheet, header_row: int, width: int, frozen_columns: int = 1, max_width: int = 40) -> None:
    """Freeze the header (and the first columns), repeat it on every printed page, landscape, fit the widths."""
    ws.freeze_panes = ws.cell(row=header_row + 1, column=frozen_columns + 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    fit_columns(ws, header_row, width, max_width)


def display_width(text: str) -> int:
    """Width in Excel's unit: Chinese characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def fit_columns(ws: Worksheet, first_row: int, width: int, max_width: int = 40) -> None:
    """Each column as wide as its widest cell from `first_row` down (the title lines above are merged, not measured)."""
    for col in range(1, width + 1):
        texts = []
        for row in ws.iter_rows(min_row=first_row, min_col=col, max_col=col):
            value = row[0].value
            texts.append(f"{value:,.2f}" if isinstance(value, Decimal) else str(value if value is not None else ""))
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, *map(display_width, texts)) + 2, max_width)


def save_whole(wb: Workbook, path: Path) -> Path:
    """Write beside the target and rename over it, so an interrupted export leaves the old file or none."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx.tmp", dir=path.parent)
    except OSError as exc:
        raise FieldError("path", f"无法在文件夹 {path.parent} 中写入文件（{exc.strerror or exc}），"
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
            raise FieldError("path", f"无法覆盖 {path.name}：文件可能正在 Excel 等程序中打开，请关闭后重试") from None
        raise
    return path
