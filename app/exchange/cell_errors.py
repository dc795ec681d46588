"""Cells of a list that hold a formula's error (#N/A, #REF! …), marked as CellError so the list readers refuse them.

A roster filled in by a VLOOKUP that found nothing shows #N/A. calamine gives such a cell (t="e") as "", the same as
an empty one, and an empty optional amount (基本医保支付) means "not filled": the bill would be settled as if the
hospital had paid nothing. bounds.check_workbook finds those cells while it scans the sheet; the error's text, as a
CSV saved by Excel or a cell of text holds it (#SPILL! is written so), is recognised here by its spelling."""

from __future__ import annotations

from app.exchange.bounds import ErrorCell

# Excel's and WPS's error values, as they show in a cell and in a saved CSV.
ERROR_TEXTS = frozenset({"#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA",
                         "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#PYTHON!"})


class CellError(str):
    """A cell that held a formula's error: its text is the error as the file wrote it (#N/A), or "" if unsaid."""


def of_text(text: str) -> str:
    """A cell's text, or a CellError if it is an error value's spelling (spaces around it too)."""
    bare = text.strip()
    return CellError(bare) if bare in ERROR_TEXTS else text


def by_row(errors: list[ErrorCell]) -> dict[int, list[tuple[int, str]]]:
    """check_workbook's error cells by row (from 0): [(column from 0, error text)]."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for row, column, text in errors:
        rows.setdefault(row, []).append((column, text))
    return rows


def mark(row: list, cells: list[tuple[int, str]], first_column: int) -> None:
    """Put each error cell of this row into it as CellError (calamine's row begins at `first_column`)."""
    for column, text in cells:
        at = column - first_column
        if at < 0:
            continue  # left of every value in the sheet: under no header, never read
        if at >= len(row):
            row.extend([None] * (at + 1 - len(row)))
        row[at] = CellError(text)


def column_name(header: list, at: int) -> str:
    """A column as the list's header names it, else by its place (第 3 列)."""
    text = str(header[at]).strip() if at < len(header) and header[at] is not None else ""
    return text or f"第 {at + 1} 列"


def refusal(label: str, cell: CellError) -> str:
    """Why a row is refused: its column `label` read a formula's error."""
    which = f"错误值 {cell}" if cell else "错误值"
    return (f"“{label}”一栏是 Excel 公式的{which}（如 VLOOKUP 没有找到），读不出内容；请修正公式，或复制后"
            f"“选择性粘贴 → 数值”，再导入")
