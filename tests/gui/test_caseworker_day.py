"""The rough edges of a caseworker's day, held by tests: typing whole dates, amounts as slips write them, the
member list, the category list, Chinese standard dialogs, sortable and copyable tables."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from datetime import date  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402

from app.gui.date_field import DateField  # noqa: E402


def test_select_all_and_type_a_whole_date_takes(qtbot):
    field = DateField(date(2026, 3, 20))
    qtbot.addWidget(field)
    field.show()
    field.setFocus()
    qtbot.keyClick(field.line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field.line, "2025-03-20")
    assert field.date_value() == date(2025, 3, 20) and field.text() == "2025-03-20"
    field.line.selectAll()
    qtbot.keyClicks(field.line, "2025/3/21")
    field.line.editingFinished.emit()
    assert field.text() == "2025-03-21"
    field.line.selectAll()
    qtbot.keyClicks(field.line, "2025-02-30")
    assert field.date_value() is None and "不是有效日期" in field.line.toolTip()


def test_qt_standard_dialogs_read_in_chinese(qapp):
    from PySide6.QtCore import QCoreApplication

    from app.gui import translations

    assert translations.install(qapp)
    assert QCoreApplication.translate("QFileDialog", "Look in:") != "Look in:"
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_file_dialogs_start_in_documents_not_the_program_folder(qapp, tmp_path, monkeypatch):
    from pathlib import Path

    from PySide6.QtCore import QSettings, QStandardPaths

    from app.gui import files

    QSettings("jiuzhu", "jiuzhu").remove("files/last_folder")
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    expected = Path(documents) if documents and Path(documents).is_dir() else Path.home()
    assert files.start_folder() == expected and files.start_folder() != Path.cwd()
    files._remember(str(tmp_path / "x.xlsx"))
    assert files.start_folder() == tmp_path
    QSettings("jiuzhu", "jiuzhu").remove("files/last_folder")


def test_first_run_marks_every_wrong_field_at_once_and_saves_nothing(qtbot, tmp_path):
    from app.gui.first_run import FirstRunDialog
    from app.gui.ops import Op
    from app.services import users
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store

    store = open_store(tmp_path / "new.sqlite3", daily_backup=False)
    dialog = FirstRunDialog(Session(store, SYSTEM))
    qtbot.addWidget(dialog)
    dialog.policy.setCurrentIndex(dialog.policy.findData("hunan-2022"))
    dialog.password.setText("short")
    dialog.password2.setText("shorter")
    dialog.county_code.setText("4301")
    dialog.locals_form.edits["re_assistance_rate"].setText("30%")
    dialog.save()
    qtbot.waitUntil(lambda: not Op.running, timeout=20_000)
    rows = {**dialog.admin_form.rows, **dialog.place_form.rows, **dialog.locals_form.form.rows}
    errors = {k: r.message.text() for k, r in rows.items() if r.message.property("role") == "error"}
    assert {"display_name", "password2", "county_code", "re_assistance_rate"} <= set(errors), errors
    assert "不能低于 50%（填写的是 30%" in errors["re_assistance_rate"]
    assert not users.has_admin(store.conn)
    store.close()


def test_member_form_guesses_nothing_and_the_page_stays_on_the_member_added(qtbot, tmp_path):
    from app.gui.person_dialogs import CategoryDialog, MemberDialog
    from app.services import registry
    from tests.gui.test_app import idle, idn, signed_in

    for window in signed_in(qtbot, tmp_path, "wang"):
        _, head = registry.register_household(window.session, "340223100201", "籍山镇某村 9 号",
                                              registry.PersonInput("赵六", idn("34022319580709001")))
        window.open_person(head)
        idle(qtbot)
        member = MemberDialog(window, window.household.household["id"])
        qtbot.addWidget(member)
        assert member.person.relation.currentIndex() == -1   # no 配偶 preselected
        member.person.name.setText("赵小七")
        member.person.id_number.setText(idn("34022320100101002"))
        member.save()
        idle(qtbot)
        assert "请选择与户主关系" in member.form.rows["member.relation_to_head"].message.text()
        member.person.relation.setCurrentText("子")
        member.save()
        idle(qtbot)
        assert member.result() == 1
        window.household.refresh(member.result_value)
        idle(qtbot)
        assert window.household.selected()["name"] == "赵小七"
        names = window.category_names()
        assert names == registry.policy_categories(window.session) and "五保户" not in names
        cat = CategoryDialog(window, head, "赵六", names)
        qtbot.addWidget(cat)
        assert cat.category.currentIndex() == -1
        cat.save()
        idle(qtbot)
        assert cat.form.rows["category"].message.text() == "请选择身份类别"


def test_the_check_digit_message_does_not_give_the_digit():
    from app.domain.idnumber import IdNumberError, check_digit, parse_id_number

    body = "34022319580709001"
    wrong = body + ("0" if check_digit(body) != "0" else "1")
    with pytest.raises(IdNumberError) as info:
        parse_id_number(wrong)
    assert "最后一位" not in info.value.message and "应为" not in info.value.message
    assert "逐位核对" in info.value.message
