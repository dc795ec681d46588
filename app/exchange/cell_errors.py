"""Cells of a list's worksheet that hold a formula's error (#N/A, #REF! …), put back where calamine reads them empty.

A roster filled in by a VLOOKUP that found nothing shows #N/A; calamine gives such a cell as "", the same as an empty
one, and an empty optional amount (基本医保支付) means "not filled": the bill would be settled as if the hospital had
paid nothing. bounds.check_workbook finds the error cells while it scans each worksheet; here the first worksheet's
are marked in its rows as CellError, which the list readers refuse, naming the column."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from app.exchange.bounds import ErrorCell


class CellError(str):
    """A cell that held a formula's error: its text is the error as the file wrote it (#N/A), or 错误值; `column`
    is its place in the row as read (from 0)."""

    column: int


class Unplaced(Exception):
    """The workbook has error cells, and which worksheet calamine reads first could not be told."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def first_worksheet(path: Path) -> str | None:
    """The zip member (xl/worksheets/….xml) of the workbook's first worksheet in its own order, which is the sheet
    calamine reads first; None if the workbook's parts do not say.

    Namespaces are matched by local name: transitional and strict workbooks name them differently. The parts were
    bounded in size by check_workbook before this reads them."""
    try:
        with zipfile.ZipFile(path) as zf:
            book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter() if _local(r.tag) == "Relationship"}
    for sheet in (e for e in book.iter() if _local(e.tag) == "sheet"):
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        if member.startswith("xl/worksheets/"):
            return member
    return None


def of_first_sheet(path: Path, errors: dict[str, list[ErrorCell]]) -> dict[int, list[tuple[int, str]]]:
    """The error cells of the first worksheet by row (from 0): [(column from 0, error text)]. Raises Unplaced when
    the workbook has error cells and its first worksheet cannot be told."""
    if not errors:
        return {}
    member = first_worksheet(path)
    if member is None:
        raise Unplaced()
    by_row: dict[int, list[tuple[int, str]]] = {}
    for row, column, text in errors.get(member, ()):
        by_row.setdefault(row, []).append((column, text))
    return by_row


def mark(row: list, cells: list[tuple[int, str]], first_column: int) -> None:
    """Put each error cell of this row into it as CellError (calamine's row begins at `first_column`)."""
    for column, text in cells:
        at = column - first_column
        if at < 0:
            continue  # left of every value in the sheet: under no header, never read
        if at >= len(row):
            row.extend([None] * (at + 1 - len(row)))
        cell = CellError(text or "错误值")
        cell.column = at
        row[at] = cell


def column_name(header: list, at: int) -> str:
    """A column as the list's header names it, else by its place (第 3 列)."""
    text = str(header[at]).strip() if at < len(header) and header[at] is not None else ""
    return text or f"第 {at + 1} 列"


def refusal(label: str, cell: CellError) -> str:
    """Why a row is refused: its column `label` read a formula's error."""
    return (f"“{label}”一栏是 Excel 公式的错误值 {cell}（如 VLOOKUP 没有找到），读不出内容；请修正公式，或复制后"
            f"“选择性粘贴 → 数值”，再导入")
