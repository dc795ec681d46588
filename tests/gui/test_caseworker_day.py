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
    # Qt's own dialog sets "Look in:" and "Files of type:" without asking the translation: ours sets them.
    from PySide6.QtWidgets import QFileDialog, QLabel

    from app.gui import files

    for suggested in ("x.xlsx", None):
        box = files.dialog(None, "选择", suggested, "Excel 工作簿 (*.xlsx)")
        box.setOption(QFileDialog.Option.DontUseNativeDialog)
        shown = {label.text() for label in box.findChildren(QLabel)}
        assert {"查找范围：", "文件类型："} <= shown and not {"Look in:", "Files of type:"} & shown
        box.deleteLater()


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


def test_tables_sort_by_value_copy_as_tab_separated_text_and_export(qtbot, tmp_path):
    from decimal import Decimal

    from openpyxl import load_workbook
    from PySide6.QtGui import QGuiApplication

    from app.gui.tables import DataTable
    from app.services.table_export import export_rows

    table = DataTable(["姓名", "金额（元）"], "测试")
    qtbot.addWidget(table)
    table.set_rows([("甲", Decimal("12000.50")), ("乙", Decimal("900")), ("丙", Decimal("1500"))])
    assert table.item(0, 1).text() == "12,000.50"
    assert [table.item(r, 0).text() for r in range(3)] == ["甲", "乙", "丙"]   # the given order until a header is clicked
    table.sortItems(1)
    assert [table.item(r, 0).text() for r in range(3)] == ["乙", "丙", "甲"]   # by amount, not by text
    assert table.record_at(0) == 1   # the record behind the row, whatever the sort
    table.selectRow(2)
    assert table.copy() == "姓名\t金额（元）\n甲\t12,000.50"
    assert QGuiApplication.clipboard().text().endswith("甲\t12,000.50")
    path = export_rows(tmp_path / "x.xlsx", "测试", table.headers, [("甲", Decimal("12000.50"))])
    sheet = load_workbook(path).active
    assert sheet.cell(3, 2).value == 12000.5 and sheet.cell(2, 1).value == "姓名"


def test_case_search_page_opens_a_rejected_case(qtbot, tmp_path):
    from app.gui.workflow_view import ApplicationDialog
    from app.services import applications as apps
    from app.services import registry
    from tests.gui.test_app import idle, idn, signed_in

    for window in signed_in(qtbot, tmp_path, "admin"):
        from app.services import users
        from app.services.session import Session

        cun = Session(window.session.store, users.create_user(window.session, "cun", "村经办", "村级经办",
                                                              "340223100201", "correct-horse"))
        _, pid = registry.register_household(window.session, "340223100201", "籍山镇某村 9 号",
                                             registry.PersonInput("赵六", idn("34022319580709001")))
        app_id = apps.create_application(cun, pid, 2025, "20000", "9600", None)
        apps.act(cun, app_id, "draft", apps.Decision("submit"))
        apps.act(cun, app_id, "village_review", apps.Decision("reject", "收入超过低收入标准"))
        window.go(window.cases)
        idle(qtbot)
        qtbot.keyClicks(window.cases.query, "zl")
        qtbot.waitUntil(lambda: window.cases.table.rowCount() == 1 and not window.cases.timer.isActive(), timeout=5000)
        idle(qtbot)
        assert window.cases.table.item(0, 3).text() == "不予救助"
        page = ApplicationDialog(window, window.cases.rows[window.cases.table.record_at(0)]["id"])
        qtbot.addWidget(page)
        idle(qtbot)
        assert page.steps.rowCount() == 2 and "收入超过" in page.steps.item(1, 5).text()
        labels = [page.buttons.itemAt(i).widget().text() for i in range(page.buttons.count())
                  if page.buttons.itemAt(i).widget()]
        assert "打印不予救助通知书…" in labels and "打印审批表…" in labels


def test_demo_data_only_in_a_demo_database(qtbot, tmp_path):
    from app.domain.errors import FieldError
    from app.services import demo, registry
    from tests.gui.test_app import idn, signed_in

    for window in signed_in(qtbot, tmp_path, "admin"):
        menu = [a.text() for m in window.menuBar().actions() for a in m.menu().actions()]
        assert "生成演示数据…" not in menu   # a live county: 南陵县, not 南陵县（演示）
        registry.register_household(window.session, "340223100201", "籍山镇某村 9 号",
                                    registry.PersonInput("赵六", idn("34022319580709001")))
        with pytest.raises(FieldError, match="不是演示数据库"):
            list(demo.build_demo(window.session, 2, 2025))
        assert not demo.is_demo(window.session.store)
