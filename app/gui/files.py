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


def save_path(parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
    """A file name to save to ("" if cancelled), suggested in the start folder."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(start_folder() / Path(suggested).name), filters)
    return _remember(path)


def open_path(parent: QWidget | None, title: str, filters: str) -> str:
    """A file to read ("" if cancelled), browsing from the start folder."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder()), filters)
    return _remember(path)
