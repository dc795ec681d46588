"""The 补付追回与发放 page: a batch drawn up, then cancelled with a reason, and its amounts taken by the next one."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QInputDialog  # noqa: E402

from app.gui import money_view  # noqa: E402
from app.services import bills, registry  # noqa: E402

from .test_app import idle, idn, signed_in  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "wang")


def test_a_batch_is_cancelled_from_the_money_page(qtbot, window, monkeypatch):
    session = window.session
    _, head = registry.register_household(session, "340223100201", "某村 1 号",
                                          registry.PersonInput("张三", idn("34022319620305001")))
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    bills.record_bill(session, head, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", "10000", "9000",
                                                     "M1", "县级", "5000", "0"))
    page = window.money
    monkeypatch.setattr(money_view, "show_document", lambda *a, **k: None)  # the roster's preview is not looked at
    window.go(page)
    page.year.setValue(2024)
    idle(qtbot)
    page.create_batch()
    qtbot.waitUntil(lambda: len(page.batches) == 1)
    page.batch_table.selectRow(0)
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (asked.append(a[2]) or "花名册打印有误", True))
    page.cancel_batch()
    qtbot.waitUntil(lambda: page.batches and page.batches[0]["state"] == "cancelled")
    assert "撤销后其中的金额恢复为未发放" in asked[0]
    assert page.batches[0]["cancel_reason"] == "花名册打印有误"
    page.create_batch()
    qtbot.waitUntil(lambda: len(page.batches) == 2)
    assert {b["state"] for b in page.batches} == {"cancelled", "printed"}
    assert len({b["total"] for b in page.batches}) == 1
