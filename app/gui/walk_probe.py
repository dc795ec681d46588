"""Where things are on screen, for the walk script (packaging/walk.py) to click them with xdotool like a person.

Only when JIUZHU_WALK_PROBE names a file: every quarter second the GUI writes there, as JSON, the active window's
title and the screen centre of what a person would aim at — navigation entries, buttons and tabs by their text,
form fields by their label, table rows by their first cell, widgets by object name. The walk then moves the real
pointer and types on the real keyboard; nothing is done through this module but looking.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QTabBar,
    QTableView,
    QWidget,
)

ENV = "JIUZHU_WALK_PROBE"
_ROWS = 40  # table rows reported per table: the walk opens one of the first few


def _centre(widget: QWidget, rect=None) -> list[int]:
    rect = rect if rect is not None else widget.rect()
    point = widget.mapToGlobal(rect.center())
    return [point.x(), point.y()]


def _text(raw: str) -> str:
    return raw.replace("&", "").strip()


def _targets(top: QWidget, out: dict[str, list[int]]) -> None:
    """Add what `top` shows to `out`, never overwriting a name already placed (the active window goes first)."""
    def put(name: str, where: list[int]) -> None:
        out.setdefault(name, where)

    for w in [top, *top.findChildren(QWidget)]:
        if not w.isVisible():
            continue
        if w.objectName() and not w.objectName().startswith("qt_"):
            put(f"name:{w.objectName()}", _centre(w))
        if isinstance(w, QAbstractButton) and w.isEnabled() and _text(w.text()):
            put(f"button:{_text(w.text())}", _centre(w))
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                put(f"tab:{_text(w.tabText(i))}", _centre(w, w.tabRect(i)))
        elif isinstance(w, QListWidget):
            for i in range(w.count()):
                item = w.item(i)
                if not item.isHidden():
                    put(f"item:{item.text()}", _centre(w.viewport(), w.visualItemRect(item)))
        elif isinstance(w, QTableView):
            title = getattr(w, "title", "") or w.objectName() or type(w.parent()).__name__
            model = w.model()
            for r in range(min(model.rowCount() if model else 0, _ROWS)):
                index = model.index(r, 0)
                rect = w.visualRect(index)
                if rect.isValid() and rect.intersects(w.viewport().rect()):
                    put(f"row:{title}:{r}", _centre(w.viewport(), rect))
                    put(f"cell:{index.data()}", _centre(w.viewport(), rect))
        elif isinstance(w, QLineEdit) and w.placeholderText():
            put(f"edit:{w.placeholderText()}", _centre(w))
    for form in top.findChildren(QFormLayout):
        holder = form.parentWidget()
        if holder is None or not holder.isVisible():
            continue
        for r in range(form.rowCount()):
            label = form.itemAt(r, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(r, QFormLayout.ItemRole.FieldRole)
            if label and field and isinstance(label.widget(), QLabel) and field.widget():
                target = field.widget()
                inner = target.findChildren(QWidget)  # a FieldRow: aim at its editor, not its hint
                editor = next((c for c in inner if c.focusPolicy() != Qt.FocusPolicy.NoFocus and c.isVisible()),
                              target)
                put(f"field:{_text(label.widget().text()).rstrip('：:')}", _centre(editor))

class Probe(QObject):
    """Writes the targets file on a timer while the GUI runs."""

    def __init__(self, path: Path):
        super().__init__(QApplication.instance())
        self.path = path
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.write)
        self.timer.start()

    def write(self) -> None:
        app = QApplication.instance()
        active = app.activeModalWidget() or app.activePopupWidget() or app.activeWindow()
        tops = [w for w in app.topLevelWidgets() if w.isVisible()]
        out: dict[str, list[int]] = {}
        for top in sorted(tops, key=lambda w: w is not active):
            _targets(top, out)
        focus = app.focusWidget()
        state = {"active": active.windowTitle() if active else "", "windows": [w.windowTitle() for w in tops],
                 "focus": type(focus).__name__ if focus else "", "targets": out,
                 "origin": _centre(active) if active else [0, 0]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)


def install() -> Probe | None:
    """Start the probe if the walk asked for it (JIUZHU_WALK_PROBE); otherwise do nothing."""
    path = os.environ.get(ENV)
    return Probe(Path(path)) if path else None
