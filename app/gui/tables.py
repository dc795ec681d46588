"""Read-only tables as caseworkers use Excel: sort by any column, Ctrl+C copies tab-separated text, export to Excel."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableWidget, QTableWidgetItem

from app.domain.money import shown
from app.gui import files
from app.gui.ops import Op
from app.services.table_export import export_rows

RECORD = Qt.ItemDataRole.UserRole + 1   # the row's index in the list given to set_rows, whatever the sort


@contextmanager
def filling(table: QTableWidget) -> Iterator[None]:
    """Fill a table's cells inside this: sorting is off (rows would move while filled) and columns are sized to
    their contents once at the end, not after every cell. A visible table with a current row otherwise measured
    every row of every column for each cell set: refilling 100 rows took 15 CPU-s, and a household page froze for
    minutes after a bill of a large household was voided."""
    header = table.horizontalHeader()
    modes = [header.sectionResizeMode(c) for c in range(header.count())]
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    try:
        yield
    finally:
        for c, mode in enumerate(modes[:header.count()]):
            header.setSectionResizeMode(c, mode)
        table.setSortingEnabled(sorting)


class _Item(QTableWidgetItem):
    """A cell that sorts by its value (numbers as numbers, dates as dates), not by its shown text."""

    def __init__(self, value: object, pinned: bool = False):
        text = shown(value) if isinstance(value, Decimal) else "" if value is None else str(value)
        super().__init__(text)
        self.value = value
        self.pinned = pinned  # a totals row: stays last whichever way the table is sorted
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if self.pinned or getattr(other, "pinned", False):
            # Qt sorts descending by asking `right < left`, so the pinned row answers by the order to stay last.
            table = self.tableWidget()
            descending = table is not None and (
                table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
            return descending if self.pinned else not descending
        mine, theirs = self.value, getattr(other, "value", other.text())
        numbers = (Decimal, int, float)
        if isinstance(mine, numbers) and isinstance(theirs, numbers):
            return mine < theirs
        if isinstance(mine, date) and isinstance(theirs, date):
            return mine < theirs
        return self.text() < other.text()


class DataTable(QTableWidget):
    """`set_rows` fills it; `activated_record` gives the index of the record double-clicked or Entered."""

    activated_record = Signal(int)

    def __init__(self, headers: Sequence[str], title: str, sortable: bool = True):
        # Not sortable where rows are addressed by position (the import's tick boxes): copy and export still work.
        super().__init__(0, len(headers))
        self.headers = list(headers)
        self.title = title
        self.setHorizontalHeaderLabels(self.headers)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        # Rows come in the order the service chose (oldest first, by time …) until the user clicks a header.
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(sortable)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.doubleClicked.connect(lambda index: self._activate(index.row()))

    def set_rows(self, rows: Sequence[Sequence[object]], colour: Sequence[str | None] | None = None,
                 total: Sequence[object] | None = None) -> None:
        """Replace the contents; `colour` gives each row's text colour (e.g. red for 逾期), or None; `total` is a
        totals row, shown bold and kept last when sorted (its record index is len(rows))."""
        from PySide6.QtGui import QColor

        with filling(self):
            self.setRowCount(len(rows) + (total is not None))
            for r, row in enumerate([*rows, *([total] if total is not None else [])]):
                pinned = r == len(rows)
                for c, value in enumerate(row):
                    item = _Item(value, pinned)
                    item.setData(RECORD, r)
                    if colour and not pinned and colour[r]:
                        item.setForeground(QColor(colour[r]))
                    if pinned:
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                    self.setItem(r, c, item)

    def record_at(self, row: int) -> int:
        """The index (in the list given to set_rows) of the record shown in a row; -1 if none."""
        item = self.item(row, 0)
        return item.data(RECORD) if item is not None else -1

    def current_record(self) -> int:
        return self.record_at(self.currentRow()) if self.currentRow() >= 0 else -1

    def _activate(self, row: int) -> None:
        index = self.record_at(row)
        if index >= 0:
            self.activated_record.emit(index)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self._activate(self.currentRow())
        else:
            super().keyPressEvent(event)

    def shown_rows(self, only_selected: bool = False) -> list[list[str]]:
        """The rows in the order shown (selected ones only if asked), as their shown text."""
        rows = sorted({i.row() for i in self.selectedIndexes()}) if only_selected else range(self.rowCount())
        return [[self.item(r, c).text() if self.item(r, c) else "" for c in range(self.columnCount())] for r in rows]

    def copy(self, everything: bool = False) -> str:
        """Copy the selected rows (or all) with the header, tab-separated, as Excel pastes them."""
        rows = self.shown_rows(only_selected=not everything) or self.shown_rows()
        text = "\n".join("\t".join(cells) for cells in [self.headers, *rows])
        QGuiApplication.clipboard().setText(text)
        return text

    def export(self) -> None:
        """Export the rows as shown (sorted as shown, numbers as numbers) to an Excel workbook the user names."""
        path = files.save_path(self, "导出 Excel", f"{self.title}.xlsx", "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        rows = [[getattr(self.item(r, c), "value", self.item(r, c).text()) if self.item(r, c) else ""
                 for c in range(self.columnCount())] for r in range(self.rowCount())]
        title, headers = self.title, self.headers
        Op(self, lambda: export_rows(path, title, headers, rows)).success(
            lambda p: self.window().statusBar().showMessage(f"已导出 {p}", 8000)
            if hasattr(self.window(), "statusBar") else None).run()

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("复制选中行", lambda: self.copy())
        menu.addAction("复制全部", lambda: self.copy(everything=True))
        menu.addAction("导出到 Excel…", self.export)
        menu.exec(self.viewport().mapToGlobal(pos))
