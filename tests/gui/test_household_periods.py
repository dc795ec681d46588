"""The household page's category periods: a period entered by mistake is removed after asking the reason."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QInputDialog  # noqa: E402

from app.services import registry  # noqa: E402

from .test_app import idle, idn, signed_in  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "wang")


def _open(qtbot, window):
    session = window.session
    _, head = registry.register_household(session, "340223100201", "某村 1 号",
                                          registry.PersonInput("张三", idn("34022319620305001")))
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    registry.set_category(session, head, "孤儿", "2021-01-01", None, "民政")
    window.open_person(head)
    idle(qtbot)
    view = window.household
    qtbot.waitUntil(lambda: view.periods.rowCount() == 2)
    chosen = next(r for r in range(2) if view.selected()["periods"][view.periods.record_at(r)]["category"] == "孤儿")
    view.periods.selectRow(chosen)
    return view


def test_remove_a_mistaken_period_after_giving_the_reason(qtbot, window, monkeypatch):
    view = _open(qtbot, window)
    assert not view.buttons["删除所选期间（录入错误）"].isHidden()
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (asked.append(a[2]) or "孤儿为误录", True))
    view.remove_period()
    idle(qtbot)
    qtbot.waitUntil(lambda: view.periods.rowCount() == 1)
    assert "孤儿" in asked[0] and "2021-01-01" in asked[0] and "删除原因" in asked[0]
    assert [p["category"] for p in view.selected()["periods"]] == ["低保对象"]
    assert window.session.conn.execute(
        "SELECT count(*) FROM audit_log WHERE action = '删除身份类别（录入错误）：孤儿为误录'").fetchone()[0] == 1


def test_cancelling_the_confirmation_removes_nothing(qtbot, window, monkeypatch):
    view = _open(qtbot, window)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    view.remove_period()
    idle(qtbot)
    assert window.session.conn.execute("SELECT count(*) FROM category_periods").fetchone()[0] == 2
