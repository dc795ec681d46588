"""自某日起修改地方参数: the date typed whole is the date saved, and one that is not a date is named beside its field."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.gui.dated_local import DatedLocalDialog  # noqa: E402
from app.services import county  # noqa: E402

from .test_app import signed_in  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "admin")


def _dialog(window, value: str, start: str) -> DatedLocalDialog:
    dialog = DatedLocalDialog(window, county.engine(window.session).policy)
    dialog.key.setCurrentIndex(dialog.key.findData("serious_illness_deductible"))
    dialog.value.setText(value)
    dialog.start.line.setText(start)  # as a caseworker types it: the whole date at once
    return dialog


def test_a_whole_typed_date_is_the_date_saved(qtbot, window):
    dialog = _dialog(window, "10000", "2025-01-01")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None)
    assert county.dated_locals(window.session)["serious_illness_deductible"] == [{"from": "2025-01-01",
                                                                                   "value": "10000"}]


def test_a_date_that_is_not_one_is_named_beside_its_field(qtbot, window):
    dialog = _dialog(window, "10000", "2025-02-30")
    dialog.save()
    row = dialog.form.rows["valid_from"]
    qtbot.waitUntil(lambda: row.message.property("role") == "error")
    assert "2025-02-30" in row.message.text() and "不是有效日期" in row.message.text()
    assert county.dated_locals(window.session).get("serious_illness_deductible", []) == []
