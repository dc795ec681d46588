"""The one Excel writer of the app: .xlsx sheets in the house style, streamed to disk, written whole or not at all.

Every export (monitoring list, subsidy roster, statistics, rejected rows of an import, a package's 记录一览,
adjustments …) writes through this module, so that they look alike and none of them can grow quadratically again:

    from app.documents import xlsx

    with xlsx.Book(path) as book:                      # the file appears only when the block ends without error
        sheet = book.sheet("名单", ["序号", "姓名", "金额"],
                           title="南陵县……名单",          # optional: a large centred title line, merged across
                           lines=["统计范围：……"],         # optional: lines under it, each merged across
                           first_number=3,               # from this column (1-based) on, numbers get formats
                           frozen_columns=2)             # header and the first two columns stay in view
        for n, person in enumerate(people, start=1):
            sheet.row([n, person.name, person.amount])  # Decimal → money "#,##0.00", int → count, str → text
        sheet.row(["合计", None, total], bold=True)
        sheet.note("……")                                # a plain line (e.g. "没有……的人员")
        sheet.width(1, 6)                              # fix a column's width (1-based) instead of fitting it

Rows go to disk as they are written (XlsxWriter's constant_memory mode): memory does not grow with the rows, but
each sheet's rows must be written in order, and a sheet's cells cannot be changed once its next row is written.
Column widths are fitted to the widest cell as rows pass (Chinese characters count two), capped at `max_width`.
Strings are always written as text (a cell starting with "=" is never a formula); a Decimal at or past 10^14
yuan is refused rather than rounded. A sheet with no `headers` is a plain list (the package's 说明 sheet).
Book raises FieldError("path", …) when the folder cannot be written or the target is open in Excel.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.exceptions import FileCreateError

from app.domain.errors import FieldError

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
MAX_ROWS = 1_048_576  # Excel's own limit per sheet
_GRID = {"border": 1, "border_color": "#999999"}
# A cell holds a number as a double printed with 16 significant digits: exact for every amount below 10^14 yuan in
# fen, far beyond any county's year. Past that a cell would silently lose fen, so refuse instead.
_EXACT_LIMIT = Decimal("1e14")
# XlsxWriter deflates the finished sheets at zlib's default level (6): 1.5 s of CPU for a package's 111,000-row
# 记录一览, a third of its export. Level 1 takes about half that for a somewhat larger file (XlsxWriter is pinned;
# the name is the one its Workbook._store_workbook opens the .xlsx with).
xlsxwriter.workbook.ZipFile = functools.partial(zipfile.ZipFile, compresslevel=1)


# What a text needs before it can stand in the sheet's XML: markup characters, characters XML 1.0 cannot carry
# (Excel writes them _xHHHH_), and a literal "_xHHHH_" (whose underscore Excel escapes as _x005F_ so it reads back).
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_LITERAL = re.compile(r"(_x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text_element(text: str) -> str:
    """The <t> element of an inline string, escaped as Excel escapes it; every text is text, never markup."""
    if _SPECIAL.search(text):
        text = _LITERAL.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text.strip() is not text:  # CPython gives the same object back when there is nothing to strip
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def display_width(text: str) -> int:
    """Width in Excel's unit: Chinese characters take two columns."""
    # A CJK character is three bytes in UTF-8 and ASCII one, so this counts them 2 and 1 without a Python loop.
    return (len(text.encode("utf-8")) + len(text)) // 2


class Book:
    """An .xlsx being written beside its target; renamed over it when the `with` block ends without error."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=".xlsx.tmp", dir=self.path.parent)
        except OSError as exc:
            raise FieldError("path", f"无法在文件夹 {self.path.parent} 中写入文件（{exc.strerror or exc}），"
                                     "请换一个位置") from None
        os.close(fd)
        self._tmp = Path(tmp)
        self._wb = xlsxwriter.Workbook(str(self._tmp), {"constant_memory": True, "strings_to_numbers": False,
                                                        "strings_to_formulas": False, "strings_to_urls": False})
        self._formats: dict[tuple, object] = {}
        self._sheets: list[Sheet] = []

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()

    def sheet(self, name: str, headers: Sequence[str] | None = None, *, title: str | None = None,
              lines: Iterable[str] = (), first_number: int = 1, frozen_columns: int = 1,
              max_width: int = 40) -> Sheet:
        """A new sheet: title and lines (merged across the table), then the header row in the house style."""
        sheet = Sheet(self, self._wb.add_worksheet(name[:31]), headers, first_number, max_width)
        self._sheets.append(sheet)
        sheet._top(title, list(lines), frozen_columns)
        return sheet

    def format(self, bold: bool = False, number: str | None = None, grid: bool = True, **extra) -> object:
        """One shared cell format per combination (Excel caps a file at 64,000 formats)."""
        key = (bold, number, grid, tuple(sorted(extra.items())))
        if key not in self._formats:
            spec = {**(_GRID if grid else {}), **({"bold": True} if bold else {}),
                    **({"num_format": number} if number else {}), **extra}
            self._formats[key] = self._wb.add_format(spec)
        return self._formats[key]

    def close(self) -> Path:
        """Finish every sheet, write the file, make it durable, then put it in place of the target."""
        try:
            for sheet in self._sheets:
                sheet._finish()
            try:
                self._wb.close()
            except FileCreateError as exc:  # XlsxWriter wraps the OSError; callers want the disk's own words
                raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))) from None
            with open(self._tmp, "rb+") as f:
                os.fsync(f.fileno())  # the rename must not reach the disk before the content does
            os.replace(self._tmp, self.path)
        except BaseException as exc:
            self.discard()
            if isinstance(exc, PermissionError):
                raise FieldError("path", f"无法覆盖 {self.path.name}：文件可能正在 Excel 等程序中打开，"
                                         "请关闭后重试") from None
            raise
        return self.path

    def discard(self) -> None:
        """Drop everything written so far: the target keeps its old content, no temporary stays behind."""
        if not self._wb.fileclosed:
            for ws in self._wb.worksheets():
                # The row files constant_memory keeps (XlsxWriter removes them only when it writes the book).
                with contextlib.suppress(Exception):
                    ws._opt_close()
                with contextlib.suppress(OSError, TypeError):
                    os.unlink(ws.row_data_filename)
            self._wb.fileclosed = True
        with contextlib.suppress(OSError):
            self._tmp.unlink()


class Sheet:
    """One sheet of a Book; rows are appended in order and go to disk as they come."""

    def __init__(self, book: Book, ws, headers: Sequence[str] | None, first_number: int, max_width: int):
        self._book, self._ws = book, ws
        self.headers = list(headers) if headers is not None else None
        self._columns = len(self.headers) if self.headers else 1
        self._first = first_number - 1
        self._max_width = max_width
        self._widths: list[int] = [0] * self._columns
        self._fixed: dict[int, float] = {}
        self._next = 0
        self.header_row: int | None = None  # 1-based, as Excel numbers rows
        self._text = [book.format(), book.format(bold=True)]
        self._money = [book.format(number=MONEY_FORMAT), book.format(bold=True, number=MONEY_FORMAT)]
        self._count = [book.format(number=COUNT_FORMAT), book.format(bold=True, number=COUNT_FORMAT)]
        self._plain = [book.format(grid=False), book.format(grid=False, bold=True)]
        # Data rows are serialised here rather than cell by cell through XlsxWriter's write_*(), which costs about
        # 5 µs a cell (a county's monitoring list has a million cells); titles, header, widths, panes, print setup,
        # styles and the package around them stay XlsxWriter's. The style indexes are XlsxWriter's own.
        self._styles = [tuple(str(f._get_xf_index()) for f in (self._text[b], self._money[b], self._count[b]))
                        for b in (0, 1)]
        self._tags = [self._column_tags(self._columns, b) for b in (0, 1)]

    def _top(self, title: str | None, lines: list[str], frozen_columns: int) -> None:
        ws, last = self._ws, self._columns - 1
        if title is not None:
            big = self._book.format(grid=False, bold=True, font_size=14, align="center")
            self._merged(title, big, last)
        for line in lines:
            self._merged(line, self._plain[0], last)
        if self.headers is not None:
            head = self._book.format(bold=True, bg_color="#DDEBF7", align="center", valign="vcenter", text_wrap=True)
            for col, text in enumerate(self.headers):
                ws.write_string(self._next, col, text, head)
            self._measure(self.headers)
            ws.freeze_panes(self._next + 1, frozen_columns)
            ws.repeat_rows(self._next)  # the header on every printed page
            self._next += 1
            self.header_row = self._next
        ws.set_landscape()
        ws.fit_to_pages(1, 0)

    def _merged(self, text: str, fmt, last: int) -> None:
        if last > 0:
            self._ws.merge_range(self._next, 0, self._next, last, text, fmt)
        else:
            self._ws.write_string(self._next, 0, text, fmt)
        self._next += 1

    def row(self, values: Sequence[object], bold: bool = False) -> None:
        """Append one row with gridlines; from `first_number` on, Decimals are money and ints are counts."""
        r = self._next
        if r >= MAX_ROWS:
            raise FieldError("rows", f"超过 Excel 单张工作表 {MAX_ROWS:,} 行的上限，请缩小范围后分批导出", label="行数")
        ws, widths = self._ws, self._widths
        if r > ws.previous_row:
            ws._write_single_row(r)  # XlsxWriter writes out the row it holds (a title line, the header)
        if len(values) > len(widths):
            widths.extend([0] * (len(values) - len(widths)))
        # Cells carry no reference: each stands in the column after the one before (ECMA-376 18.3.1.4), which
        # spares building "AB123" for every cell. Each column's opening tags are made once per sheet and style.
        tags = self._tags[int(bold)]
        if len(values) > len(tags):
            self._tags = [self._column_tags(len(values), b) for b in (0, 1)]
            tags = self._tags[int(bold)]
        cells = [f'<row r="{r + 1}">']
        add = cells.append
        # One search over the row's texts finds whatever a search of each would (a match across two texts only sends
        # them the careful way): most rows have nothing to escape, and a search per cell was a sixth of the row's time.
        special = _SPECIAL.search("\n".join([v for v in values if v.__class__ is str]))
        for col, value in enumerate(values):
            kind = value.__class__
            if kind is str:
                if special and _SPECIAL.search(value) or value.strip() is not value:
                    add(f'{tags[col][0]}<is>{_text_element(value)}</is></c>')
                else:
                    add(f'{tags[col][0]}<is><t>{value}</t></is></c>')
                text = value
            elif value is None:
                add(tags[col][3])
                continue
            elif kind is Decimal:
                if abs(value) >= _EXACT_LIMIT:
                    raise FieldError("amount", f"金额 {value} 超出 Excel 单元格能精确表示的范围，无法导出")
                number = f"{value:.16G}"
                add(f'{tags[col][1]}<v>{number}</v></c>')
                # Shown as "1,234,567.50": at most a third more than its digits, and ".00"
                if len(number) * 4 // 3 + 3 > widths[col]:
                    widths[col] = max(widths[col], len(f"{value:,.2f}"))
                continue
            elif kind is int:
                add(f'{tags[col][2]}<v>{value}</v></c>')
                text = str(value)
            elif kind is float:
                if value != value or value in (float("inf"), float("-inf")):
                    raise FieldError("amount", f"数值 {value} 无法写入 Excel")
                add(f'{tags[col][3][:-2]}><v>{value:.16G}</v></c>')
                text = str(value)
            elif kind is bool:
                add(f'{tags[col][3][:-2]} t="b"><v>{int(value)}</v></c>')
                continue
            else:
                text = str(value)
                add(f'{tags[col][0]}<is>{_text_element(text)}</is></c>')
            # Only a text that could beat the column's widest so far is measured (as display_width does).
            if len(text) * 2 > widths[col]:
                shown = (len(text.encode("utf-8")) + len(text)) // 2
                if shown > widths[col]:
                    widths[col] = shown
        add("</row>")
        ws.row_data_fh.write("".join(cells))
        if values:
            ws._check_dimensions(r, 0)  # the sheet's extent, which XlsxWriter writes as <dimension>
            ws._check_dimensions(r, len(values) - 1)
        self._next += 1

    def _column_tags(self, columns: int, bold: int) -> list[tuple[str, str, str, str]]:
        """Per column: the opening tags of a text, money and count cell, and an empty cell (all in the grid style)."""
        text_s, money_s, count_s = self._styles[bold]
        return [(f'<c s="{text_s}" t="inlineStr">', f'<c s="{money_s if col >= self._first else text_s}">',
                 f'<c s="{count_s if col >= self._first else text_s}">', f'<c s="{text_s}"/>')
                for col in range(columns)]

    def rows(self, many: Iterable[Sequence[object]]) -> None:
        """Append every row of `many`, in order."""
        for values in many:
            self.row(values)

    def note(self, text: str) -> None:
        """A plain line without gridlines (not measured for the widths, as the title lines are not)."""
        self._ws.write_string(self._next, 0, text, self._plain[0])
        self._next += 1

    def width(self, column: int, width: float) -> None:
        """Fix column `column` (1-based) at `width` instead of fitting it."""
        self._fixed[column - 1] = width

    def _measure(self, values: Sequence[str]) -> None:
        for col, text in enumerate(values):
            self._widths[col] = max(self._widths[col], display_width(text))

    def _finish(self) -> None:
        for col, widest in enumerate(self._widths):
            self._ws.set_column(col, col, self._fixed.get(col, min(max(8, widest) + 2, self._max_width)))
        for col, fixed in self._fixed.items():
            if col >= len(self._widths):
                self._ws.set_column(col, col, fixed)
