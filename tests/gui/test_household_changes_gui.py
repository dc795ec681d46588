"""设为户主 and 迁到另一户… on the household page, driven through the real widgets: the dialogs, the search for the
target household, the confirmation, refusals beside their fields, and the buttons the permission model allows."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from app.gui.person_dialogs import HeadDialog, MoveDialog  # noqa: E402
from app.services import applications as apps  # noqa: E402
from app.services import registry  # noqa: E402
from app.workflow.roles import ROLES  # noqa: E402

from .test_app import idle, idn, signed_in, type_text  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "wang")


@pytest.fixture
def said(monkeypatch):
    """What the page tells the caseworker in message boxes (offscreen, a real one would wait for a click); a
    confirmation is answered yes."""
    shown: list[str] = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *a, **k: shown.append(text))
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a, **k: (
        shown.append(text), QMessageBox.StandardButton.Yes)[1])
    return shown


def _families(window) -> dict[str, str]:
    session = window.session
    home, head = registry.register_household(session, "340223100201", "籍山镇某村 1 号",
                                             registry.PersonInput("张三", idn("34022319500101001")))
    people = {"home": home, "张三": head}
    for name, body, relation in (("李四", "34022319520304002", "配偶"), ("张小五", "34022319800101003", "子")):
        people[name] = registry.add_member(session, home, registry.PersonInput(name, idn(body), relation))
    people["other"], people["王大"] = registry.register_household(
        session, "340223100201", "籍山镇某村 7 号", registry.PersonInput("王大", idn("34022319780101005")))
    return people


def _open(qtbot, window, person_id: str):
    window.open_person(person_id)
    idle(qtbot)
    view = window.household
    qtbot.waitUntil(lambda: view.selected() is not None and view.selected()["id"] == person_id)
    return view


def _in_dialog(act) -> list:
    """Run `act(dialog)` on the modal dialog the next click opens, as a caseworker fills it in; the dialog is closed
    if `act` fails, so that a failing test does not wait for a click forever."""
    failed: list = []

    def handle():
        dialog = QApplication.activeModalWidget()
        try:
            act(dialog)
        except BaseException as exc:  # noqa: BLE001 - reported by the test after exec returns
            failed.append(exc)
            dialog.reject()

    QTimer.singleShot(0, handle)
    return failed


def test_a_member_is_made_head_and_the_other_relations_are_listed_for_checking(qtbot, window, said):
    p = _families(window)
    view = _open(qtbot, window, p["张三"])
    assert not view.buttons["设为户主"].isHidden() and not view.buttons["迁到另一户…"].isHidden()
    assert not view.buttons["设为户主"].isEnabled()  # the head is selected
    view = _open(qtbot, window, p["李四"])
    assert view.buttons["设为户主"].isEnabled()

    def fill(dialog):
        assert isinstance(dialog, HeadDialog) and "原户主张三是新户主的" in dialog.form.layout.labelForField(
            dialog.form.rows["former_head_relation"]).text()
        dialog.relation.setCurrentText("配偶")
        dialog.save()

    failed = _in_dialog(fill)
    view.make_head()
    idle(qtbot)
    assert failed == []
    qtbot.waitUntil(lambda: view.title.text() == "家庭 · 户主 李四")
    relations = {view.members.item(r, 0).text(): view.members.item(r, 1).text() for r in range(3)}
    assert relations == {"李四": "户主", "张三": "配偶", "张小五": "子"}
    assert len(said) == 1 and "李四 已设为户主" in said[0] and "张小五（子）" in said[0] and "核对" in said[0]
    assert not view.buttons["设为户主"].isEnabled()  # 李四, still selected, is the head now


def test_a_relation_left_unchosen_is_shown_beside_its_field(qtbot, window, said):
    p = _families(window)
    view = _open(qtbot, window, p["李四"])
    dialog = HeadDialog(window, view.household, view.selected())
    qtbot.addWidget(dialog)
    dialog.save()
    idle(qtbot)
    row = dialog.form.rows["former_head_relation"]
    assert row.message.property("role") == "error" and "请选择与户主关系" in row.message.text()
    assert "former_head_relation" not in row.message.text() and said == [] and dialog.result() == 0
    assert registry.household_detail(window.session, p["home"])["head_person_id"] == p["张三"]


def test_a_member_moves_to_a_household_found_by_a_members_name(qtbot, window, said):
    p = _families(window)
    view = _open(qtbot, window, p["张小五"])

    def fill(dialog):
        assert isinstance(dialog, MoveDialog)
        type_text(qtbot, dialog.query, "王")
        qtbot.waitUntil(lambda: dialog.results.rowCount() == 1)
        assert dialog.results.item(0, 0).text() == "王大" and "某村 7 号" in dialog.results.item(0, 1).text()
        assert dialog.chosen()["id"] == p["other"]  # the only household found is chosen
        dialog.relation.setCurrentText("女婿")
        dialog.save()

    failed = _in_dialog(fill)
    view.move_member()
    idle(qtbot)
    assert failed == []
    assert "把 张小五 迁入" in said[0] and "王大户" in said[0] and "“女婿”" in said[0]  # the confirmation
    assert "张小五 已迁入 王大户（籍山镇某村 7 号）" in said[1]
    qtbot.waitUntil(lambda: view.members.rowCount() == 2)
    assert {view.members.item(r, 0).text() for r in range(2)} == {"张三", "李四"}
    moved = registry.person(window.session, p["张小五"])
    assert (moved["household_id"], moved["relation_to_head"]) == (p["other"], "女婿")


def test_a_move_not_confirmed_changes_nothing(qtbot, window, monkeypatch):
    p = _families(window)
    view = _open(qtbot, window, p["张小五"])
    dialog = MoveDialog(window, view.household, view.selected())
    qtbot.addWidget(dialog)
    type_text(qtbot, dialog.query, "wd")
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1)
    dialog.relation.setCurrentText("女婿")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    dialog.save()
    idle(qtbot)
    assert dialog.result() == 0 and registry.person(window.session, p["张小五"])["household_id"] == p["home"]


def test_refusals_of_a_move_are_shown_beside_their_fields(qtbot, window, said):
    p = _families(window)
    view = _open(qtbot, window, p["张小五"])
    dialog = MoveDialog(window, view.household, view.selected())
    qtbot.addWidget(dialog)
    dialog.relation.setCurrentText("女婿")
    dialog.save()  # no household chosen
    idle(qtbot)
    target = dialog.form.rows["target_household_id"]
    assert target.message.property("role") == "error" and "请先查找并选中" in target.message.text()
    type_text(qtbot, dialog.query, "王大")
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 1)
    dialog.relation.setCurrentIndex(-1)
    dialog.save()  # no relation: refused before anything is asked
    idle(qtbot)
    relation = dialog.form.rows["relation_to_head"]
    assert relation.message.property("role") == "error" and "请选择与户主关系" in relation.message.text()
    case = apps.create_application(window.session, p["张小五"], 2025, "18000", "9600", True)
    dialog.relation.setCurrentText("女婿")
    dialog.save()
    idle(qtbot)
    person = dialog.form.rows["person_id"]
    assert person.message.property("role") == "error" and "2025 年依申请救助" in person.message.text()
    assert all(key not in row.message.text() for key, row in dialog.form.rows.items())
    assert len(said) == 1 and said[0].startswith("把 张小五 迁入")  # the confirmation; every refusal beside its field
    assert case and registry.person(window.session, p["张小五"])["household_id"] == p["home"]


def test_the_buttons_are_offered_only_where_the_permission_model_allows(qtbot, tmp_path, monkeypatch):
    township = ROLES["乡镇经办"]
    monkeypatch.setitem(ROLES, "乡镇经办", replace(township, tasks=township.tasks - {"register"}))
    for window in signed_in(qtbot, tmp_path, "wang"):
        view = window.household
        assert view.buttons["设为户主"].isHidden() and view.buttons["迁到另一户…"].isHidden()
        assert not view.buttons["打印选中成员本年结算单…"].isHidden()


def test_a_member_received_from_another_site_is_not_offered_a_change(qtbot, window):
    p = _families(window)
    window.session.conn.execute("UPDATE persons SET site_id = 'site-elsewhere' WHERE id = ?", (p["张小五"],))
    view = _open(qtbot, window, p["张小五"])
    for text in ("设为户主", "迁到另一户…"):
        assert not view.buttons[text].isEnabled() and "其他站点" in view.buttons[text].toolTip()
    view = _open(qtbot, window, p["李四"])
    assert view.buttons["设为户主"].isEnabled() and view.buttons["迁到另一户…"].isEnabled()
