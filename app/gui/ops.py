"""Background operations: work runs on one worker thread, results and errors come back to the GUI thread.

Like Anki's CollectionOp: `Op(parent, fn).success(cb).failure(cb).with_progress("…").run()`. `fn` gets
the session; if it is a generator it may yield (done, total, …) for progress and is stopped between
yields when the user cancels. The progress dialog appears only if the work takes longer than 600 ms.
"""

from __future__ import annotations

import inspect
import logging
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from app.domain.case import CaseError
from app.policy.loader import PolicyError
from app.domain.errors import FieldError
from app.exchange.identity_lists import ListError
from app.store.errors import StoreError

log = logging.getLogger("jiuzhu.gui")
# A file refused whole (a list beyond the limits, without a header, not a workbook) is the user's to fix, not a fault.
USER_ERRORS = (FieldError, StoreError, CaseError, PolicyError, ListError)
_POOL: QThreadPool | None = None
_unattended: list[BaseException] | None = None  # set by report_errors_on_stderr()


def pool() -> QThreadPool:
    """One worker thread: the store's connection is used by one thread at a time, in order."""
    global _POOL
    if _POOL is None:
        _POOL = single_thread_pool()
    return _POOL


def single_thread_pool() -> QThreadPool:
    """A pool of one thread, for work that must not queue behind the main worker (searching)."""
    p = QThreadPool()
    p.setMaxThreadCount(1)
    return p


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals):
        super().__init__()
        self.fn = fn
        self.signals = signals
        self.cancelled = False

    def run(self) -> None:
        try:
            result = self.fn()
            if inspect.isgenerator(result):
                last = None
                shown = 0.0
                for item in result:
                    last = item
                    now = time.monotonic()
                    # At most ten updates a second: a dialog needs no more, and each emit crosses threads
                    # (PySide6 6.12 also leaks a reference to True on every emit, fatal after tens of thousands).
                    if isinstance(item, tuple) and len(item) >= 2 and now - shown >= 0.1:
                        shown = now
                        self.signals.progress.emit(int(item[0]), int(item[1]))
                    if self.cancelled:
                        result.close()
                        break
                result = last
            self.signals.done.emit(result)
        except BaseException as exc:  # noqa: BLE001 - every error must reach the GUI, never kill the thread
            self.signals.failed.emit(exc)


def report_errors_on_stderr() -> list[BaseException]:
    """From now on errors go to stderr and into the returned list, not into dialogs.

    For `gui --smoke` (packaging checks, CI): nobody is there to click OK, so a dialog would hang the run.
    """
    global _unattended
    _unattended = []
    return _unattended


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """A user's mistake gets its plain message; anything else a readable dialog and a log entry."""
    if _unattended is not None:
        _unattended.append(exc)
        log.error("error in an unattended run", exc_info=(type(exc), exc, exc.__traceback__))
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return
    if isinstance(exc, USER_ERRORS):
        QMessageBox.warning(parent, "请检查", str(exc))
        return
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    QMessageBox.critical(parent, "出错了", "操作没有完成，已保存的数据没有受影响。\n\n"
                                        f"错误：{type(exc).__name__}：{exc}\n\n详细信息已写入日志文件，请联系县里的技术人员。")


class Op:
    """One background operation with optional progress and cancel."""

    running: set["Op"] = set()  # keep Python wrappers alive until they finish

    def __init__(self, parent: QWidget | None, fn: Callable[[], Any], on: QThreadPool | None = None):
        self.parent = parent
        self.fn = fn
        self.pool = on or pool()
        self._success: Callable[[Any], None] | None = None
        self._failure: Callable[[BaseException], None] | None = None
        self._label: str | None = None
        self._dialog: QProgressDialog | None = None
        self.signals = _Signals()

    def success(self, cb: Callable[[Any], None]) -> "Op":
        self._success = cb
        return self

    def failure(self, cb: Callable[[BaseException], None]) -> "Op":
        self._failure = cb
        return self

    def with_progress(self, label: str) -> "Op":
        self._label = label
        return self

    def run(self) -> "Op":
        task = _Task(self.fn, self.signals)
        self.task = task
        self.signals.done.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self.signals.failed.connect(self._fail, Qt.ConnectionType.QueuedConnection)
        self.signals.progress.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        Op.running.add(self)
        if self._label:
            QTimer.singleShot(600, self._show_dialog)
        self.pool.start(task)
        return self

    def _show_dialog(self) -> None:
        if self not in Op.running or self._dialog is not None:
            return
        self._dialog = QProgressDialog(self._label, "取消", 0, 0, self.parent)
        self._dialog.setWindowTitle("请稍候")
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.canceled.connect(self._cancel)
        self._dialog.show()

    def _cancel(self) -> None:
        self.task.cancelled = True

    def _progress(self, done: int, total: int) -> None:
        if self._dialog is not None:
            self._dialog.setMaximum(total)
            self._dialog.setValue(done)

    def _close(self) -> None:
        Op.running.discard(self)
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None

    def _gone(self) -> bool:
        """The screen that asked was closed meanwhile: its callbacks must not touch deleted widgets."""
        return self.parent is not None and not shiboken6.isValid(self.parent)

    def _finish(self, result: Any) -> None:
        self._close()
        if self._success is not None and not self._gone():
            self._success(result)

    def _fail(self, exc: BaseException) -> None:
        self._close()
        if self._gone():
            if not isinstance(exc, USER_ERRORS):
                log.error("error after its screen closed", exc_info=(type(exc), exc, exc.__traceback__))
            return
        if self._failure is not None:
            self._failure(exc)
        else:
            show_error(self.parent, exc)
