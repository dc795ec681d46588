"""The day's first backup, made in the background after the main window is up, with its progress in the status bar.

It runs on a thread of its own (not the worker that saves bills, so no save queues behind it) and on a connection
of its own (app/store/backup.py: daily_backup). Closing the program stops it between two steps; the partial copy is
removed and the next start makes the day's backup again.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, Signal
from PySide6.QtWidgets import QStatusBar

from app.gui.ops import single_thread_pool
from app.store import backup

log = logging.getLogger("jiuzhu.gui")
# The window is usable first; the copy starts once the first screen has had its queries.
START_DELAY_MS = 1500


class _Signals(QObject):
    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(object)


class _Run(QRunnable):
    def __init__(self, db_path: Path, signals: _Signals, stop: threading.Event):
        super().__init__()
        self.db_path, self.signals, self.stop = db_path, signals, stop

    def run(self) -> None:
        shown = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal shown
            if self.stop.is_set():
                raise backup.BackupCancelled("程序正在退出，今日备份未完成，下次启动时重做")
            now = time.monotonic()
            if now - shown >= 0.5:  # the status bar needs no more; each emit crosses threads
                shown = now
                self.signals.progress.emit(done, total)

        try:
            self.signals.done.emit(backup.daily_backup(self.db_path, progress))
        except BaseException as exc:  # noqa: BLE001 - reported in the status bar and the log, never a crash
            self.signals.failed.emit(exc)


class DailyBackup(QObject):
    """Start with start(); stop() (from closeEvent) waits until the copy has stopped and cleaned up."""

    def __init__(self, db_path: Path, status: QStatusBar):
        super().__init__(status)
        self.db_path = db_path
        self.status = status
        self.pool = single_thread_pool()
        self._stop = threading.Event()
        self.signals = _Signals()
        queued = Qt.ConnectionType.QueuedConnection
        self.signals.progress.connect(self._progress, queued)
        self.signals.done.connect(self._done, queued)
        self.signals.failed.connect(self._failed, queued)
        self.running = False
        self.result: Path | None = None

    def start(self) -> None:
        self.running = True
        self.pool.start(_Run(self.db_path, self.signals, self._stop))

    def stop(self) -> None:
        self._stop.set()
        self.pool.waitForDone()

    def _progress(self, done: int, total: int) -> None:
        if total and not self._stop.is_set():
            self.status.showMessage(f"正在做今日备份… {done * 100 // total}%（可照常工作）")

    def _done(self, made: Path | None) -> None:
        self.running = False
        self.result = made
        if made is not None and not self._stop.is_set():
            self.status.showMessage(f"今日备份已完成：{made.name}", 8000)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        if isinstance(exc, backup.BackupCancelled):
            return
        log.warning("daily backup failed", exc_info=(type(exc), exc, exc.__traceback__))
        if not self._stop.is_set():
            self.status.showMessage(f"今日备份没有完成：{exc}")
