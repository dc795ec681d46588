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
import os
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from app.domain.errors import FieldError

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
MAX_ROWS = 1_048_576  # Excel's own limit per sheet
_GRID = {"border": 1, "border_color": "#999999"}
# A cell holds a number as a double printed with 16 significant digits: exact for every amount below 10^14 yuan in
# fen, far beyond any county's year. Past that a cell would silently lose fen, so refuse instead.
_EXACT_LIMIT = Decimal("1e14")


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
            with contextlib.suppress(Exception):
                for ws in self._wb.worksheets():
                    ws._opt_close()  # the row files constant_memory keeps open (XlsxWriter's own clean-up call)
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
        if self._next >= MAX_ROWS:
            raise FieldError("rows", f"超过 Excel 单张工作表 {MAX_ROWS:,} 行的上限，请缩小范围后分批导出")
        ws, r, b, first = self._ws, self._next, int(bold), self._first
        widths = self._widths
        for col, value in enumerate(values):
            if value is None:
                ws.write_blank(r, col, None, self._text[b])
                continue
            kind = value.__class__
            if kind is str:
                ws.write_string(r, col, value, self._text[b])
                text = value
            elif kind is Decimal:
                if abs(value) >= _EXACT_LIMIT:
                    raise FieldError("amount", f"金额 {value} 超出 Excel 单元格能精确表示的范围，无法导出")
                ws.write_number(r, col, value, self._money[b] if col >= first else self._text[b])
                text = f"{value:,.2f}"
            elif kind is int or kind is float:
                ws.write_number(r, col, value, self._count[b] if col >= first and kind is int else self._text[b])
                text = str(value)
            elif kind is bool:
                ws.write_boolean(r, col, value, self._text[b])
                continue
            else:
                text = str(value)
                ws.write_string(r, col, text, self._text[b])
            # Only a text that could beat the column's widest so far is measured exactly.
            if col < len(widths) and len(text) * 2 > widths[col]:
                widths[col] = max(widths[col], display_width(text))
            elif col >= len(widths):
                widths.extend([0] * (col + 1 - len(widths)))
                widths[col] = display_width(text)
        self._next += 1

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
