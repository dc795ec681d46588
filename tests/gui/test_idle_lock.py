"""The idle lock belongs to an open window: closing the main window stops its idle timer."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.services import users  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402


def test_a_closed_window_never_locks(qtbot, tmp_path):
    """A window closed and not yet deleted once fired its lock ten minutes later, in whatever test ran then."""
    store = open_store(tmp_path / "gui.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "王经办", "管理员", "340223", "correct-horse")
    window = MainWindow(Session(store, admin), Session(_reader(store), admin))
    qtbot.addWidget(window)
    window.show()
    assert window.idle.isActive()
    window.close()
    assert not window.idle.isActive()
    store.close()
