"""The day's backup after the window is up: progress in the status bar, and closing during it keeps nothing."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from app.gui import main_window  # noqa: E402
from app.store import backup  # noqa: E402

from .test_app import signed_in  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window, "START_DELAY_MS", 0)
    yield from signed_in(qtbot, tmp_path, "admin")


def test_the_window_comes_first_and_the_backup_follows(qtbot, window):
    folder = window.session.store.backups
    assert backup.list_backups(folder) == []  # the window is up and nothing was copied before it
    window.start_daily_backup()
    qtbot.waitUntil(lambda: window.daily.result is not None, timeout=20_000)
    assert backup.list_backups(folder) == [window.daily.result]
    assert window.statusBar().currentMessage().startswith("今日备份已完成")


def test_closing_during_the_backup_leaves_no_partial_copy(qtbot, window, monkeypatch):
    monkeypatch.setattr(backup, "STEP_BYTES", 1)  # one page a step
    started = threading.Event()
    real = backup.daily_backup

    def held(db_path, progress, **kw):
        def first_step_then_wait(done, total):
            started.set()
            window.daily._stop.wait(20)  # the copy is under way when the window closes
            progress(done, total)
        return real(db_path, first_step_then_wait, **kw)

    monkeypatch.setattr(backup, "daily_backup", held)
    window.start_daily_backup()
    qtbot.waitUntil(started.is_set, timeout=20_000)
    folder = window.session.store.backups
    assert {p.suffix for p in folder.iterdir()} >= {".partial"}  # with its journal
    window.close()  # returns once the copy has stopped
    assert list(folder.iterdir()) == []
    assert not window.daily.running or window.daily.result is None
