"""A refused bill field is shown beside its field in Chinese, with the label, never the service's key."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from .test_app import _household, idle, window  # noqa: E402, F401 - window is the fixture


@pytest.fixture
def no_dialogs(monkeypatch):
    """A refusal that finds its field must not also pop up a dialog (offscreen, one would hang the test)."""
    shown: list[str] = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def test_a_bad_amount_is_shown_beside_its_field_without_the_key(qtbot, window, no_dialogs):  # noqa: F811
    head = _household(window, qtbot)
    window.open_bill(head)
    idle(qtbot)
    view = window.bill
    view.clear()
    view.total.setText("abc")
    view.covered.setText("100")
    view.invoice.setText("INV-9")
    view.preview()
    idle(qtbot)
    preview = view.tiers.text()
    assert "医疗费用总额" in preview and "不是金额" in preview and "total_cost" not in preview
    view.save()
    idle(qtbot)
    row = view.form.rows["total_cost"]
    assert row.message.property("role") == "error"
    assert "不是金额" in row.message.text() and "total_cost" not in row.message.text()
    assert view.form.rows["policy_covered"].message.property("role") != "error"
    assert no_dialogs == []


def test_a_refusal_with_no_field_on_the_form_opens_a_labelled_dialog(qtbot, window, no_dialogs):  # noqa: F811
    head = _household(window, qtbot)
    window.open_bill(head)
    idle(qtbot)
    view = window.bill
    view.clear()
    for widget, text in ((view.total, "100"), (view.covered, "200"), (view.invoice, "INV-10")):
        widget.setText(text)
    view.form.rows.pop("policy_covered")  # as if the form had no row for the field the service names
    view.save()
    idle(qtbot)
    assert len(no_dialogs) == 1
    assert no_dialogs[0].startswith("政策范围内费用：") and "policy_covered" not in no_dialogs[0]
