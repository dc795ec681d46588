"""A table as the screen shows it, exported to an Excel workbook (one sheet: title, header, rows; numbers as numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from app.domain.errors import FieldError


def export_rows(path: Path, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """Write the rows under a title line and the headers; amounts stay numbers (two decimals) so Excel can sum them.
    Written to a side file first, so a failure never leaves half a workbook under the chosen name."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_name(path.name + ".xlsx")
    book = Workbook()
    sheet = book.active
    sheet.title = (title or "导出")[:31]
    sheet.append([title])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_cell(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    partial = path.with_name(path.name + ".partial")
    try:
        book.save(partial)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise FieldError("path", f"无法写入 {path}（{exc.strerror or type(exc).__name__}），请换一个位置") from None
    return path


def _cell(value: object) -> object:
    # Text that is all digits (ID numbers) stays text: Excel would show an 18-digit number in E-notation.
    return "" if value is None else value if isinstance(value, Decimal | int | float) else str(value)
