"""The rough edges of a caseworker's day, held by tests: typing whole dates, amounts as slips write them, the
member list, the category list, Chinese standard dialogs, sortable and copyable tables."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from datetime import date  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402

from app.gui.date_field import DateField  # noqa: E402


def test_select_all_and_type_a_whole_date_takes(qtbot):
    field = DateField(date(2026, 3, 20))
    qtbot.addWidget(field)
    field.show()
    field.setFocus()
    qtbot.keyClick(field.line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field.line, "2025-03-20")
    assert field.date_value() == date(2025, 3, 20) and field.text() == "2025-03-20"
    field.line.selectAll()
    qtbot.keyClicks(field.line, "2025/3/21")
    field.line.editingFinished.emit()
    assert field.text() == "2025-03-21"
    field.line.selectAll()
    qtbot.keyClicks(field.line, "2025-02-30")
    assert field.date_value() is None and "不是有效日期" in field.line.toolTip()
