"""A table as the screen shows it, exported to an Excel workbook (one sheet: title, header, rows; numbers as numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path


def export_rows(path: Path, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """Write the rows under a title line and the headers; amounts stay numbers (two decimals) so Excel can sum them.
    Written whole or not at all (app/documents/xlsx.py), so a failure never leaves half a workbook under the name."""
    from app.documents import xlsx

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_name(path.name + ".xlsx")
    with xlsx.Book(path) as book:
        sheet = book.sheet((title or "导出")[:31], list(headers), title=title, first_number=1, frozen_columns=0)
        for row in rows:
            sheet.row([_cell(v) for v in row])
    return path


def _cell(value: object) -> object:
    # Text that is all digits (ID numbers) stays text: Excel would show an 18-digit number in E-notation.
    return "" if value is None else value if isinstance(value, Decimal | int | float) else str(value)
