"""The GUI stays responsive while 100,000 visits are re-settled on the worker thread: no stall over 200 ms."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402

from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.ops import Op  # noqa: E402
from app.services import bills, demo, users  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402

VISITS = 100_000


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "county.sqlite3"
    store = open_store(path, daily_backup=False)
    session = Session(store, SYSTEM)
    users.create_user(session, "admin", "管理员", "管理员", demo.COUNTY_CODE, demo.DEMO_PASSWORD)
    for _ in demo.build_demo(session, 9_000, 2025, mean_visits=3.6, chunk=3000):
        pass
    count = store.conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    store.close()
    assert count >= VISITS, count
    return path


def test_no_event_loop_stall_while_a_year_is_resettled(qtbot, county_db):
    store = open_store(county_db, daily_backup=False)
    admin = users.find_user(store.conn, "admin")
    window = MainWindow(Session(store, admin), Session(_reader(store), admin))
    qtbot.addWidget(window)
    window.show()
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    result = {}
    Op(window, lambda: bills.resettle_year(window.session, 2025)).with_progress("正在重新结算…").success(
        lambda last: result.setdefault("last", last)).run()
    qtbot.waitUntil(lambda: "last" in result, timeout=600_000)
    timer.stop()
    done, total, changed = result["last"]
    assert done == total > 20_000
    assert len(gaps) > 100, "the loop ran while the work went on"
    assert max(gaps) < 200, f"longest stall {max(gaps)} ms"
    window.close()
    store.close()
