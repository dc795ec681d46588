"""工具 → 监测预警名单 and 资助参保名单: the dialogs ask, the lists are built off the GUI thread and written as asked."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytest.importorskip("PySide6")

from openpyxl import load_workbook  # noqa: E402
from PySide6.QtWidgets import QDialogButtonBox  # noqa: E402

from app.gui.lists_dialogs import RiskListDialog, SubsidyRosterDialog  # noqa: E402
from app.services import bills, county, registry, users  # noqa: E402
from app.services.session import Session  # noqa: E402

from . import test_app  # noqa: E402
from .test_app import idle, idn, shot, type_text  # noqa: E402

@pytest.fixture
def window(qtbot, tmp_path):
    """The administrator's window, on a fresh 芜湖 county: the lists cover the whole county."""
    yield from test_app.signed_in(qtbot, tmp_path, "admin")


@pytest.fixture
def people(window):
    """A 普通参保居民 whose 合规自付 reaches 芜湖's 5000 (7000 − 1000 = 6000), and a 低保对象."""
    s = window.session
    _, zhang = registry.register_household(s, "340223100201", "籍山镇茶丰村 1 号",
                                           registry.PersonInput("张三", idn("34022319600101001")))
    # Bills are entered by the township's caseworker, not the administrator.
    clerk = Session(s.store, users.create_user(s, "wang", "王经办", "乡镇经办", "340223100", "correct-horse"))
    bills.record_bill(clerk, zhang, bills.BillInput("南陵县医院", "2025-03-01", "2025-03-10", "住院", "8000", "7000", "G1",
                                                "县级", "1000", "0"))
    _, li = registry.register_household(s, "340223100201", "籍山镇茶丰村 2 号",
                                        registry.PersonInput("李四", idn("34022319620202002")))
    registry.set_category(s, li, "低保对象", "2020-01-01", None, "民政")


def ok_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_risk_list_dialog_shows_the_threshold_and_exports(qtbot, window, people, tmp_path, monkeypatch):
    dialog = RiskListDialog(window)
    qtbot.addWidget(dialog)
    dialog.year.setValue(2025)
    dialog.month.setValue(6)
    dialog.show()
    idle(qtbot)
    assert "达到 5000.00 元（芜医保〔2021〕76号 二(二)5）" in dialog.note.text() and ok_button(dialog).isEnabled()
    shot(dialog, "dialog-risk-list")
    target = tmp_path / "预警.xlsx"
    monkeypatch.setattr(dialog, "ask_path", lambda suggested: str(target))
    dialog.export()
    idle(qtbot)
    ws = load_workbook(target).active
    assert ws["A1"].value == "南陵县2025年6月因病返贫致贫风险监测预警名单" and ws.cell(7, 4).value == "张三"
    assert "2025年6月监测预警名单 1 人" in window.statusBar().currentMessage()


def test_risk_list_dialog_says_why_a_policy_has_no_list(qtbot, window):
    county.configure_county(window.session, "340223", "南陵县", "qiannan-2021", {})
    dialog = RiskListDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    idle(qtbot)
    assert "没有规定因病返贫致贫风险监测预警标准" in dialog.note.text() and not ok_button(dialog).isEnabled()
    shot(dialog, "dialog-risk-list-refused")


def test_subsidy_roster_dialog_asks_the_contribution(qtbot, window, people, tmp_path, monkeypatch):
    dialog = SubsidyRosterDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    target = tmp_path / "资助.xlsx"
    monkeypatch.setattr(dialog, "ask_path", lambda suggested: str(target))
    dialog.export()
    assert "个人缴费标准" in dialog.form.rows["contribution"].message.text() and not target.exists()
    type_text(qtbot, dialog.contribution, "400")
    shot(dialog, "dialog-subsidy-roster")
    dialog.export()
    idle(qtbot)
    ws = load_workbook(target)["资助参保名单"]
    assert ws.cell(7, 4).value == "李四" and Decimal(str(ws.cell(7, 15).value)) == Decimal("360")  # 400 × 90%
    assert "资助参保名单 1 人，合计 360.00 元" in window.statusBar().currentMessage()


def test_subsidy_roster_dialog_offers_the_contribution_the_policy_declares(qtbot, tmp_path, monkeypatch):
    """A county file that writes the year's 个人缴费 lets the field stay empty, and says what it will use."""
    from app.policy import install
    from app.policy.loader import policies_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    edit = tmp_path / "edit" / "wuhu-2022.yaml"
    edit.parent.mkdir()
    edit.write_text((policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8").replace(
        "基本医保:\n", "个人缴费:\n  城乡居民医保:\n    2025-01-01: {值: 380, 依据: 某市医保发〔2024〕1号}\n\n基本医保:\n", 1),
        encoding="utf-8")
    install.install_policy(edit)
    for window in test_app.signed_in(qtbot, tmp_path, "admin"):
        s = window.session
        _, li = registry.register_household(s, "340223100201", "籍山镇茶丰村 2 号",
                                            registry.PersonInput("李四", idn("34022319620202002")))
        registry.set_category(s, li, "低保对象", "2020-01-01", None, "民政")
        dialog = SubsidyRosterDialog(window)
        qtbot.addWidget(dialog)
        dialog.year.setValue(2026)
        dialog.show()
        idle(qtbot)
        assert dialog.contribution.placeholderText() == "留空即按政策文件 380 元"
        assert dialog.contribution.toolTip() == "本县政策文件写明的个人缴费标准：380 元（某市医保发〔2024〕1号）"
        shot(dialog, "dialog-subsidy-roster-declared")
        target = tmp_path / "资助.xlsx"
        monkeypatch.setattr(dialog, "ask_path", lambda suggested: str(target))
        dialog.export()
        idle(qtbot)
        ws = load_workbook(target)["资助参保名单"]
        assert ws.cell(7, 4).value == "李四" and Decimal(str(ws.cell(7, 15).value)) == Decimal("342")  # 380 × 90%
        dialog.year.setValue(2024)  # before the file's first contribution: the field must be filled again
        assert dialog.contribution.placeholderText() == "例如 400"
