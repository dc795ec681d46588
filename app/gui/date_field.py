"""A date field that takes what is typed (2025-03-20, 2025/3/20, 20250320 …) whole, with a calendar beside it."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCalendarWidget, QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget, QWidgetAction

from app.domain.dates import parse_day

# QDateEdit edits one section at a time: select all, type a whole date, and it keeps the old one without a word.
# Here the text is the value; the service reads it and names the field if it is not a date.


class DateField(QWidget):
    """`text()` is what the service validates; `date_value()` the date it reads as, or None."""

    changed = Signal()

    def __init__(self, initial: date | None = None):
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.line = QLineEdit()
        self.line.setPlaceholderText("例如 2025-03-20")
        self.line.setMaxLength(20)
        self.line.textChanged.connect(self._typed)
        self.line.editingFinished.connect(self._tidy)
        layout.addWidget(self.line, 1)
        self.pick = QToolButton()
        self.pick.setText("日历")
        self.pick.setToolTip("从日历中选择")
        self.pick.setFocusPolicy(self.pick.focusPolicy().NoFocus)
        self.pick.clicked.connect(self._popup)
        layout.addWidget(self.pick)
        self.setFocusProxy(self.line)
        if initial is not None:
            self.setDate(initial)

    def text(self) -> str:
        return self.line.text().strip()

    def setDate(self, day: date | QDate) -> None:  # noqa: N802 - Qt's spelling, as QDateEdit has it
        self.line.setText((day.toPython() if isinstance(day, QDate) else day).isoformat())

    def date_value(self) -> date | None:
        return parse_day(self.text())

    def _typed(self, _text: str) -> None:
        valid = self.date_value() is not None or not self.text()
        self.line.setToolTip("" if valid else "不是有效日期，请写成 2025-03-20 的形式")
        self.changed.emit()

    def _tidy(self) -> None:
        day = self.date_value()
        if day is not None and self.text() != day.isoformat():
            self.setDate(day)  # 2025/3/20 is shown as 2025-03-20 once the caseworker moves on

    def _popup(self) -> None:
        menu = QMenu(self)
        calendar = QCalendarWidget()
        day = self.date_value()
        if day is not None:
            calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        calendar.clicked.connect(lambda d: (self.setDate(d.toPython()), menu.close()))
        action = QWidgetAction(menu)
        action.setDefaultWidget(calendar)
        menu.addAction(action)
        menu.exec(self.pick.mapToGlobal(self.pick.rect().bottomLeft()))
