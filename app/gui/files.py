"""File dialogs in one place: they open in the user's Documents folder (or the folder last used), never the program's."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

_KEY = "files/last_folder"


def start_folder() -> Path:
    """Where a file dialog opens: the folder last used, else Documents, else home."""
    last = QSettings("jiuzhu", "jiuzhu").value(_KEY)
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def _remember(path: str) -> str:
    if path:
        QSettings("jiuzhu", "jiuzhu").setValue(_KEY, str(Path(path).parent))
    return path


# Qt's Chinese translation has these, but its own file dialog sets two of its labels without asking for them.
_LABELS = ((QFileDialog.DialogLabel.LookIn, "查找范围："), (QFileDialog.DialogLabel.FileType, "文件类型："),
           (QFileDialog.DialogLabel.FileName, "文件名称："))


def dialog(parent: QWidget | None, title: str, suggested: str | None, filters: str) -> QFileDialog:
    """The file dialog, not yet shown: saving `suggested` (a file name), or opening a file if None."""
    box = QFileDialog(parent, title, str(start_folder()), filters)
    if suggested is not None:
        box.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        box.selectFile(Path(suggested).name)
    else:
        box.setFileMode(QFileDialog.FileMode.ExistingFile)
    for label, text in _LABELS:
        box.setLabelText(label, text)
    return box


def _ask(parent: QWidget | None, title: str, suggested: str | None, filters: str) -> str:
    box = dialog(parent, title, suggested, filters)
    return _remember(box.selectedFiles()[0] if box.exec() and box.selectedFiles() else "")


def save_path(parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
    """A file name to save to ("" if cancelled), suggested in the start folder."""
    return _ask(parent, title, suggested, filters)


def open_path(parent: QWidget | None, title: str, filters: str) -> str:
    """A file to read ("" if cancelled), browsing from the start folder."""
    return _ask(parent, title, None, filters)
