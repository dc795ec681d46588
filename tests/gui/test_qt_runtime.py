"""The Qt binding itself: signals emitted from Python must not corrupt reference counts."""

import sys

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QObject, Signal  # noqa: E402


class _Emitter(QObject):
    ping = Signal(int, int)


def test_many_emits_leave_true_alone(qtbot):
    # PySide6 6.12.0 dropped a reference to True per emit and aborted the interpreter after ~1000.
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(5000):
        emitter.ping.emit(1, 2)
    assert abs(sys.getrefcount(True) - before) < 50
