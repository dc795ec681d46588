"""The household page's bills: listed with every tier, voided with a reason, corrected in the form, exported."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from openpyxl import load_workbook  # noqa: E402
from PySide6.QtWidgets import QInputDialog  # noqa: E402

from app.gui.bills_panel import CorrectDialog  # noqa: E402
from app.services import bills, registry  # noqa: E402

from .test_app import idle, idn, signed_in, type_text  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "wang")


def _bill(invoice: str) -> bills.BillInput:
    return bills.BillInput("南陵县医院", "2024-03-01", "2024-03-05", "住院", "10000", "9000", invoice, "县级", "5000", "0")


def test_void_and_correct_from_the_household_page(qtbot, window, monkeypatch, tmp_path):
    session = window.session
    hid, head = registry.register_household(session, "340223100201", "某村 1 号",
                                            registry.PersonInput("张三", idn("34022319620305001")))
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    bills.record_bill(session, head, _bill("G1"))
    bills.record_bill(session, head, _bill("G2"))
    window.open_person(head)
    idle(qtbot)
    panel = window.household.bills
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2)
    panel.table.selectRow(0)
    chosen = panel.selected()[0]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("医院冲正", True))
    panel.void()
    idle(qtbot)
    qtbot.waitUntil(lambda: any(b["status"] == "void" for b in panel.rows))
    voided = next(b for b in panel.rows if b["status"] == "void")
    assert voided["id"] == chosen["id"] and voided["void_reason"] == "医院冲正"
    live = next(b for b in panel.rows if b["status"] == "live")
    dialog = CorrectDialog(window, live)
    qtbot.addWidget(dialog)
    dialog.fields["total_cost"].setText("12000")
    dialog.save()
    idle(qtbot)
    row = dialog.form.rows["void_reason"]
    assert row.message.property("role") == "error" and "原因" in row.message.text(), "a correction needs its reason"
    type_text(qtbot, dialog.reason, "总额录错")
    dialog.save()
    idle(qtbot)
    assert dialog.result()
    window.household.refresh()
    idle(qtbot)
    qtbot.waitUntil(lambda: len(panel.rows) == 3)
    assert sorted((b["invoice_number"], b["status"], b["total_cost"]) for b in panel.rows) == [
        ("G1", "void", "10000.00"), ("G2", "live", "12000.00"), ("G2", "void", "10000.00")]
    out = tmp_path / "bills.xlsx"
    from app.gui import files

    monkeypatch.setattr(files, "save_path", lambda *a, **k: str(out))
    panel.table.clearSelection()
    panel.export()
    idle(qtbot)
    ws = load_workbook(out).active
    assert sum(1 for row in ws.iter_rows(values_only=True) if row and row[7] in ("G1", "G2")) == 3
