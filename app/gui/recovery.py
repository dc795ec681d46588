"""When the database is found damaged at start: what is wrong, the newest backup and its date, restore on request."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.gui.forms import dialog_buttons, styled_label
from app.gui.ops import Op
from app.store import backup
from app.store.errors import DatabaseDamaged


class RecoveryDialog(QDialog):
    """Offers 恢复最近的备份; accepted once the backup is in place (the damaged file kept under a new name)."""

    def __init__(self, parent: QWidget | None, error: DatabaseDamaged):
        super().__init__(parent)
        self.error = error
        self.set_aside: Path | None = None
        self.busy = False
        self.setWindowTitle("数据库已损坏")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("数据库已损坏，无法打开", "title"))
        message = QLabel(str(error))
        message.setWordWrap(True)
        layout.addWidget(message)
        self.status = styled_label("", "error")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        when = backup.taken_at(error.backup) if error.backup else None
        self.buttons = dialog_buttons(self, self.restore, ok=f"恢复最近的备份（{when:%Y-%m-%d %H:%M}）" if when
                                      else "恢复最近的备份", cancel="退出")
        self.restore_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.restore_button.setEnabled(error.backup is not None)
        layout.addWidget(self.buttons)

    def reject(self) -> None:
        if not self.busy:  # closing while the backup is copied in would quit the program under it
            super().reject()

    def restore(self) -> None:
        self.busy = True
        self.restore_button.setEnabled(False)
        self.status.setProperty("role", "hint")
        self.status.setText("正在恢复……")
        Op(self, lambda: backup.restore(self.error.backup, Path(self.error.path))).success(self._restored).failure(
            self._failed).run()

    def _restored(self, previous: Path | None) -> None:
        self.busy = False
        self.set_aside = previous
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.status.setProperty("role", "error")
        self.status.style().polish(self.status)
        self.status.setText(f"恢复没有完成：{exc}")
