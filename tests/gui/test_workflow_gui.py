"""One 依申请救助 case walked through the GUI to disbursement by eight users in seven roles, each in their own window."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("PySide6")


from app.domain.idnumber import check_digit  # noqa: E402
from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.ops import Op  # noqa: E402
from PySide6.QtWidgets import QComboBox, QDialog, QPushButton  # noqa: E402

from app.gui.workflow_view import ApplicationDialog  # noqa: E402
from app.services import applications as apps  # noqa: E402
from app.services import bills, county, registry, users  # noqa: E402
from app.services.demo import DEMO_LOCAL  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store import clock  # noqa: E402
from app.store.store import open_store  # noqa: E402

SHOTS = os.environ.get("JIUZHU_SCREENSHOTS")
VILLAGE = "340223100201"


def idle(qtbot) -> None:
    qtbot.waitUntil(lambda: not Op.running, timeout=20_000)


def test_every_role_walks_one_application_to_disbursement(qtbot, tmp_path):
    store = open_store(tmp_path / "wf.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    s_admin = Session(store, admin)
    county.configure_county(s_admin, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    staff = {name: users.create_user(s_admin, name, label, role, scope, "correct-horse") for name, label, role, scope in (
        ("cun1", "村经办甲", "村级经办", VILLAGE), ("cun2", "村经办乙", "村级经办", VILLAGE),
        ("xiangshen", "乡镇审核员", "乡镇审核", "340223100"), ("xiang", "乡镇经办员", "乡镇经办", "340223100"),
        ("xiang2", "乡镇经办员乙", "乡镇经办", "340223100"), ("yibao", "县医保审核员", "县级医保审核", "340223"),
        ("minzheng", "县民政审核员", "县级民政审核", "340223"), ("shenpi", "县审批人", "县级审批", "340223"))}
    body = "34022319700101001"
    _, pid = registry.register_household(s_admin, VILLAGE, "籍山镇茶丰村 3 号",
                                         registry.PersonInput("钱七", body + check_digit(body)))
    bills.record_bill(Session(store, staff["xiang"]), pid, bills.BillInput("安徽省立医院", "2025-02-01", "2025-02-20", "住院", "100000",
                                                    "90000", "P-1", "省级", "50000", "15000"))
    # Registered with the default 财产核查 “待民政核查”: 民政 records it at its county step.
    app_id = apps.create_application(Session(store, staff["cun1"]), pid, 2025, "18000", "9600", None)

    def window_for(name: str) -> MainWindow:
        user = staff[name]
        w = MainWindow(Session(store, user), Session(_reader(store), user))
        qtbot.addWidget(w)
        w.show()
        return w

    def decide(name: str, action: str, opinion: str, **fields) -> ApplicationDialog:
        w = window_for(name)
        w.go(w.worklist)
        idle(qtbot)
        assert [r["id"] for r in w.worklist.rows] == [app_id], name
        page = ApplicationDialog(w, app_id)
        qtbot.addWidget(page)
        idle(qtbot)
        labels = [page.buttons.itemAt(i).widget().text() for i in range(page.buttons.count())
                  if page.buttons.itemAt(i).widget()]
        assert apps.rules.ACTION_NAMES[action] in labels, (name, labels)
        dialog = page.action_dialog(action)
        qtbot.addWidget(dialog)
        dialog.opinion.setPlainText(opinion)
        for key, value in fields.items():
            box = getattr(dialog, key)
            box.setCurrentIndex(box.findData(value)) if isinstance(box, QComboBox) else box.setValue(value)
        dialog.save()
        idle(qtbot)
        assert dialog.result() == QDialog.DialogCode.Accepted, [r.message.text() for r in dialog.form.rows.values()]
        page.load()
        idle(qtbot)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.grab().save(str(Path(SHOTS) / f"application-{name}.png"))
        w.close()
        return page

    decide("cun1", "submit", "户主申请，材料齐全")
    decide("cun2", "pass", "评议通过", attendees=9, votes_for=8, votes_against=1)
    page = decide("xiangshen", "pass", "入户调查属实")
    assert page.app["state"] == "public_notice"
    w = window_for("xiang")
    w.go(w.notices)
    idle(qtbot)
    assert w.notices.table.item(0, 0).text() == "钱七"
    assert w.notices.table.item(0, 1).text().count("*") == 10
    assert w.notices.table.item(0, 3).text() == "待民政核查"  # not an error, and the list still shows
    if SHOTS:
        w.grab().save(str(Path(SHOTS) / "notice-list.png"))
    w.close()
    assert date.fromisoformat(apps.application_row(s_admin, app_id)["notice_end"]) > clock.today()
    # Seven days pass: the notice period is over (the test moves the dates instead of waiting).
    store.conn.execute("UPDATE applications SET notice_start = '2020-01-01', notice_end = '2020-01-08' WHERE id = ?",
                       (app_id,))
    decide("xiang", "close_notice", "")
    # Before 医保 and 民政 have given their opinions, 批准 is greyed on the approver's page, saying what it waits for.
    w = window_for("shenpi")
    page = ApplicationDialog(w, app_id)
    qtbot.addWidget(page)
    idle(qtbot)
    approve = page.findChild(QPushButton, "action-approve")
    assert not approve.isEnabled() and "民政认定收入财产" in approve.toolTip()
    assert "批准前须由县级民政审核录入财产核查结果" in page.facts.text()
    w.close()
    decide("yibao", "medical_opinion", "费用属实，票据齐全")
    decide("minzheng", "civil_opinion", "家庭收入低于低收入标准，财产核查符合", asset_check=True)
    # Above the policy's bound: refused, and the dialog stays with the reason beside the amount.
    w = window_for("shenpi")
    page = ApplicationDialog(w, app_id)
    qtbot.addWidget(page)
    idle(qtbot)
    assert page.findChild(QPushButton, "action-approve").isEnabled() and "批准前" not in page.facts.text()
    asking = page.action_dialog("approve")
    qtbot.addWidget(asking)
    assert "不能超过按政策测算的依申请救助 2500.00 元" in asking.form.rows["amount"].message.text()
    asking.opinion.setPlainText("同意")
    asking.amount.setText("999999999999.99")
    asking.amount_reason.setText("经县领导小组研究，特事特办")
    asking.show()
    asking.save()
    qtbot.waitUntil(lambda: "最高额" in asking.form.rows["amount"].message.text(), timeout=20_000)
    if SHOTS:
        asking.grab().save(str(Path(SHOTS) / "approve-above-limit.png"))
    assert "999999999999.99 元超过可批准的最高额 2500.00 元" in asking.form.rows["amount"].message.text()
    assert apps.application_row(s_admin, app_id)["state"] == "county_approval"
    asking.reject()
    w.close()
    page = decide("shenpi", "approve", "同意按测算金额救助")
    assert page.app["approved_amount"] == "2500.00"
    page = decide("xiang2", "disburse", "")
    assert page.app["state"] == "disbursed"
    steps = apps.timeline(s_admin, app_id)
    assert [(s["username"], s["action"]) for s in steps] == [
        ("cun1", "submit"), ("cun2", "pass"), ("xiangshen", "pass"), ("xiang", "close_notice"),
        ("yibao", "medical_opinion"), ("minzheng", "civil_opinion"), ("shenpi", "approve"), ("xiang2", "disburse")]


def test_a_refused_decision_keeps_what_was_typed(qtbot, tmp_path):
    store = open_store(tmp_path / "wf.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    s_admin = Session(store, admin)
    county.configure_county(s_admin, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    cun = users.create_user(s_admin, "cun1", "村经办甲", "村级经办", VILLAGE, "correct-horse")
    body = "34022319700101001"
    _, pid = registry.register_household(s_admin, VILLAGE, "籍山镇茶丰村 3 号",
                                         registry.PersonInput("钱七", body + check_digit(body)))
    app_id = apps.create_application(Session(store, cun), pid, 2025, "18000", "9600", None)
    w = MainWindow(Session(store, cun), Session(_reader(store), cun))
    qtbot.addWidget(w)
    page = ApplicationDialog(w, app_id)
    qtbot.addWidget(page)
    idle(qtbot)
    assert "待民政核查" in page.computation.toPlainText()
    page.action_dialog("submit").save()  # the household's request, recorded by the village caseworker
    idle(qtbot)
    page.load()
    idle(qtbot)
    dialog = page.action_dialog("pass")   # the same caseworker holds the 村评议: one caseworker in the village
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.opinion.setPlainText("评议通过，情况属实")
    dialog.attendees.setValue(5)
    dialog.votes_for.setValue(5)
    dialog.votes_against.setValue(2)
    dialog.save()
    idle(qtbot)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "超过到会人数" in dialog.form.rows["votes_for"].message.text()
    assert dialog.opinion.toPlainText() == "评议通过，情况属实" and dialog.attendees.value() == 5
    dialog.votes_against.setValue(0)
    dialog.save()
    idle(qtbot)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert apps.application_row(s_admin, app_id)["state"] == "township_review"
