"""Re-settling a year from the main window runs on the worker thread, never on the GUI thread.

How long the event loop stalls meanwhile depends on the machine and its load, so it is a benchmark
(bench/bench_responsiveness.py), not a test; what cannot vary is which thread does the work."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.ops import Op  # noqa: E402
from app.services import bills, demo, users  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("county") / "county.sqlite3"
    store = open_store(path, daily_backup=False)
    session = Session(store, SYSTEM)
    demo.start_demo(session)
    for _ in demo.build_demo(session, 60, 2025):
        pass
    store.close()
    return path


def test_resettling_a_year_runs_off_the_gui_thread(qtbot, county_db):
    store = open_store(county_db, daily_backup=False)
    admin = users.find_user(store.conn, "admin")
    window = MainWindow(Session(store, admin), Session(_reader(store), admin))
    qtbot.addWidget(window)
    window.show()
    workers: set[int] = set()
    result = {}

    def resettle():
        for step in bills.resettle_year(window.session, 2025):
            workers.add(threading.get_ident())
            yield step

    Op(window, resettle).with_progress("正在重新结算…").success(lambda last: result.setdefault("last", last)).run()
    qtbot.waitUntil(lambda: "last" in result, timeout=300_000)
    done, total, *_ = result["last"]
    assert done == total > 0
    assert workers and threading.get_ident() not in workers, "the year was re-settled on the GUI thread"
    window.close()
    store.close()
