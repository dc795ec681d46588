"""Form helpers: a field with its reason shown beside it in red, and keyboard-friendly dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.gui.ops import Op, show_error
from app.domain.errors import FieldError


def dialog_buttons(dialog, on_ok, ok: str = "保存", cancel: str = "取消") -> QDialogButtonBox:
    """The OK/cancel row of a dialog: Enter triggers `on_ok`, Esc cancels; texts as the caseworker reads them."""
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText(cancel)
    box.accepted.connect(on_ok)
    box.rejected.connect(dialog.reject)
    return box


def styled_label(text: str, role: str) -> QLabel:
    """A label in one of the style sheet's roles: title, hint or error."""
    label = QLabel(text)
    label.setProperty("role", role)
    return label


def scrolled(widget: QWidget, minimum_height: int = 60) -> QScrollArea:
    """The widget scrolled when its place is shorter than it (a large household's timeline, a page of several
    boxes on a small screen), instead of squeezed until its texts overlap."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setMinimumHeight(minimum_height)
    area.setWidget(widget)
    return area


class FieldRow(QWidget):
    """An input with an inline error label; `fail(text)` highlights it, `ok()` clears."""

    def __init__(self, editor: QWidget, hint: str = ""):
        super().__init__()
        self.editor = editor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(editor, 1)
        self.message = QLabel(hint)
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(160)
        layout.addWidget(self.message, 1)
        self._hint = hint

    def set_hint(self, text: str) -> None:
        """A new hint (shown now unless an error is showing)."""
        self._hint = text
        if self.message.property("role") == "hint":
            self.message.setText(text)

    def fail(self, text: str) -> None:
        self.editor.setProperty("invalid", True)
        self.message.setProperty("role", "error")
        self.message.setText(text)
        self._restyle()

    def ok(self) -> None:
        self.editor.setProperty("invalid", False)
        self.message.setProperty("role", "hint")
        self.message.setText(self._hint)
        self._restyle()

    def _restyle(self) -> None:
        for w in (self.editor, self.message):
            w.style().unpolish(w)
            w.style().polish(w)


class Form:
    """Rows keyed by the service's field names, so an FieldError can be shown beside its field."""

    def __init__(self, layout: QFormLayout):
        self.layout = layout
        self.rows: dict[str, FieldRow] = {}

    def add(self, key: str, label: str, editor: QWidget, hint: str = "") -> QWidget:
        row = FieldRow(editor, hint)
        self.rows[key] = row
        self.layout.addRow(label, row)
        return editor

    def clear_errors(self) -> None:
        for row in self.rows.values():
            row.ok()

    def show_error(self, field: str, reason: str) -> bool:
        """Put the message beside the field it names (matching the last part of dotted names); False if none."""
        key = field.split(".")[-1]
        row = self.rows.get(field) or self.rows.get(key)
        if row is None:
            return False
        row.fail(reason)
        row.editor.setFocus()
        return True


class FormDialog(QDialog):
    """OK saves through a background operation; a refused field is highlighted with its reason."""

    def __init__(self, window, title: str, parent=None):
        # `window` gives the session; `parent` (default the window) keeps the dialog usable above another modal one.
        super().__init__(parent or window)
        self.window = window
        self.setWindowTitle(title)
        self.layout_ = QVBoxLayout(self)
        self.form = Form(QFormLayout())
        self.layout_.addLayout(self.form.layout)
        self.buttons = dialog_buttons(self, self.save)
        self.result_value = None

    def save(self) -> None:
        raise NotImplementedError

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.buttons)
        self.resize(640, self.sizeHint().height())

    def submit(self, work) -> None:
        self.form.clear_errors()
        Op(self, work).success(self._saved).failure(self._failed).run()

    def _saved(self, value) -> None:
        self.result_value = value
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, FieldError) and self.form.show_error(exc.field, exc.reason):
            return
        show_error(self, exc)
