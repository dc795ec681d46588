"""Refilling a shown table measures each cell a bounded number of times, not every row again for every cell set
(a household page froze for minutes after a void refilled its bills)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QStyledItemDelegate  # noqa: E402

from app.gui.tables import DataTable  # noqa: E402

ROWS, COLUMNS = 60, 6


class _Counting(QStyledItemDelegate):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def sizeHint(self, option, index):  # noqa: N802 - Qt's name
        self.calls += 1
        return super().sizeHint(option, index)


def test_a_shown_table_with_a_current_row_is_refilled_measuring_each_cell_a_few_times(qtbot):
    table = DataTable([f"列{c}" for c in range(COLUMNS)], "测试")
    qtbot.addWidget(table)
    delegate = _Counting()
    table.setItemDelegate(delegate)
    table.resize(900, 300)
    table.show()
    qtbot.waitExposed(table)
    rows = [[f"南陵县医院 {r}-{c}" for c in range(COLUMNS)] for r in range(ROWS)]
    table.set_rows(rows)
    table.selectRow(0)
    delegate.calls = 0
    table.set_rows(rows)
    table.viewport().repaint()
    # Measured once per cell for the columns' widths, and for the rows painted; before, every cell set measured the
    # whole column again: about ROWS × ROWS × COLUMNS calls.
    assert delegate.calls < 10 * ROWS * COLUMNS
