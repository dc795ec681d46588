"""The bill form asks where the patient was treated: 芜医保〔2021〕76号 二(二)5 assists only costs “在参保地定点医疗机构或
按规定转诊异地就医（急诊、抢救除外）”, so the boxes change the preview and are stored with the bill."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from .test_app import _fill, _household, idle, window  # noqa: E402, F401 - window is the fixture


def _bill_form(qtbot, window, invoice: str):  # noqa: F811
    """A household's bill form with a 60000 / 50000 bill typed in (slip figures 30000 and 8000)."""
    window.open_bill(_household(window, qtbot))
    idle(qtbot)
    _fill(qtbot, window.bill, "60000", "50000", "30000", "8000", invoice, "2025-03-05")
    return window.bill


def test_treatment_away_without_referral_or_emergency_is_not_assisted(qtbot, window):  # noqa: F811
    view = _bill_form(qtbot, window, "INV-W1")
    assert view.in_insured_area.isChecked() and not view.emergency.isChecked()  # the reading of an old bill
    view.in_insured_area.setChecked(False)
    view.preview()
    idle(qtbot)
    assert "9,000.00" not in view.tiers.text()
    assert "不予救助" in view.steps.toPlainText()
    view.emergency.setChecked(True)  # 急诊、抢救除外
    view.preview()
    idle(qtbot)
    assert "9,000.00" in view.tiers.text()
    view.save()
    idle(qtbot)
    row = window.session.conn.execute("SELECT emergency, in_insured_area, filed_remote FROM visits "
                                      "WHERE invoice_number = 'INV-W1'").fetchone()
    assert tuple(row) == (1, 0, 0)
    view.clear()  # the next bill starts again from 参保地, not 急诊
    assert view.in_insured_area.isChecked() and not view.emergency.isChecked()


def test_a_preview_still_running_when_the_bill_is_saved_does_not_count_it_twice(qtbot, window):  # noqa: F811
    view = _bill_form(qtbot, window, "INV-W2")
    view.preview()   # in flight with the form's figures ...
    view.clear()     # ... when the saved bill clears the form (as _saved does)
    idle(qtbot)
    assert view.year.text() == "" and view.tiers.text() == ""
