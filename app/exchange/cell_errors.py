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


# The error values calamine reads (as an empty cell); a sheet holding any other (#SPILL! of a dynamic array) it refuses
# whole, so the list names the cell instead (unreadable).
CALAMINE_READS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA"})


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


def cell_ref(row: int, column: int) -> str:
    """A cell's name as Excel shows it (row and column from 0): K2."""
    letters, n = "", column + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"{letters}{row + 1}"


def unreadable(errors: list[ErrorCell]) -> str | None:
    """Why calamine could not read the sheet, if one of its error cells is of a kind it refuses: that cell named."""
    refused = [(row, column, text) for row, column, text in errors if text not in CALAMINE_READS]
    if not refused:
        return None
    row, column, text = min(refused)
    more = f"（共 {len(refused)} 个这样的单元格）" if len(refused) > 1 else ""
    return (f"工作表的 {cell_ref(row, column)} 单元格是 Excel 公式的错误值 {text}{more}，含有这种错误值的工作表读不出来；"
            f"请修正该公式，或复制后“选择性粘贴 → 数值”，再导入")
