"""政策测算 page: offered to the administrator and county roles, not to a township; the grid's columns become proposals,
the year is run off the GUI thread, and the tables, the chart and both exports follow."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from openpyxl import load_workbook  # noqa: E402
from PySide6.QtCharts import QChartView  # noqa: E402
from PySide6.QtWidgets import QMessageBox, QSplitter  # noqa: E402

from app.gui import simulation_view  # noqa: E402
from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.services import bills, registry, users  # noqa: E402
from app.services.session import Session  # noqa: E402

from . import test_app  # noqa: E402
from .test_app import idle, idn  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from test_app.signed_in(qtbot, tmp_path, "admin")


@pytest.fixture
def patients(window):
    """Two people of 2025 whose 大病保险 the engine computes (no figure from the hospital's slip)."""
    s = window.session
    clerk = Session(s.store, users.create_user(s, "wang", "王经办", "乡镇经办", "340223100", "correct-horse"))
    for n, category in enumerate(("低保对象", None), start=1):
        _, pid = registry.register_household(s, "340223100201", f"籍山镇茶丰村 {n} 号",
                                             registry.PersonInput(f"病人{n}", idn(f"3402231960010100{n}")))
        if category:
            registry.set_category(s, pid, category, "2020-01-01", None, "民政")
        bills.record_bill(clerk, pid, bills.BillInput("安徽省立医院", "2025-03-01", "2025-03-10", "住院", "120000",
                                                      "100000", f"G{n}", "省级", "50000"))


def _page(window) -> simulation_view.SimulationView:
    window.go(window.simulation)
    return window.simulation


def test_the_page_runs_two_proposals_and_exports(qtbot, window, patients, tmp_path, monkeypatch):
    page = _page(window)
    idle(qtbot)
    assert page.year.currentData() == 2025
    page.param.setCurrentIndex(page.param.findData("serious_illness_rate"))
    page.add_param()
    page.add_column()
    assert page.grid.item(0, 1).text() == "60%"       # the county's value today
    page.grid.item(0, 2).setText("50%")
    page.grid.item(0, 3).setText("70%")
    page.compute()
    idle(qtbot)
    sim = page.sim
    assert [name for name, _ in sim.scenarios] == ["现行", "方案1", "方案2"]
    serious = next(r for r in sim.tables.tiers.rows if r[0] == "大病保险")
    assert serious[2] < serious[1] < serious[4]
    assert page.tabs.count() == len(sim.tables.all())
    first = page.tabs.widget(0)
    assert isinstance(first, QSplitter) and isinstance(first.widget(1), QChartView)
    assert "医疗救助基金支出：现行" in page.summary.text()
    out, pdf = tmp_path / "s.xlsx", tmp_path / "s.pdf"
    paths = iter([str(out), str(pdf)])
    monkeypatch.setattr(simulation_view.files, "save_path", lambda *a: next(paths))
    page.export()
    idle(qtbot)
    page.print_summary()
    idle(qtbot)
    assert "按待遇" in load_workbook(out, read_only=True).sheetnames
    assert pdf.read_bytes().startswith(b"%PDF")


def test_an_empty_column_is_refused_by_name(qtbot, window, patients, monkeypatch):
    page = _page(window)
    idle(qtbot)
    page.add_param("serious_illness_rate")
    page.add_column()
    page.grid.item(0, 2).setText("50%")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    page.compute()
    idle(qtbot)
    assert "方案2没有填写任何要调整的值" in shown[0]
    assert page.sim is None


@pytest.mark.parametrize("role,scope,offered", [("县级医保审核", "340223", True), ("县级审批", "340223", True),
                                                ("乡镇经办", "340223100", False), ("村级经办", "340223100201", False)])
def test_offered_to_county_roles_only(qtbot, tmp_path, role, scope, offered):
    for admin_window in test_app.signed_in(qtbot, tmp_path, "admin"):
        s = admin_window.session
        user = users.create_user(s, "someone", "某人", role, scope, "correct-horse")
        w = MainWindow(Session(s.store, user), Session(_reader(s.store), user))
        qtbot.addWidget(w)
        row = [p for _, p in w.pages].index(w.simulation)
        assert w.nav.item(row).isHidden() is (not offered), role
        w.close()
        assert not admin_window.nav.item(row).isHidden()   # the administrator's own window offers it
