"""The desktop app driven through its real widgets, offscreen (pytest-qt)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from app.domain.idnumber import check_digit  # noqa: E402
from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.ops import Op  # noqa: E402
from app.gui.person_dialogs import CategoryDialog, HouseholdDialog, MemberDialog  # noqa: E402
from app.services import county, users  # noqa: E402
from app.services.demo import DEMO_LOCAL  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store.store import open_store  # noqa: E402

SHOTS = os.environ.get("JIUZHU_SCREENSHOTS")


def idn(body: str) -> str:
    return body + check_digit(body)


def type_text(qtbot, widget, text: str) -> None:
    """Type into a field: key clicks for ASCII; QTest cannot synthesise keys for Chinese, so those are inserted
    the way an input method commits them."""
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        widget.insert(text)


def idle(qtbot) -> None:
    qtbot.waitUntil(lambda: not Op.running, timeout=20_000)


def signed_in(qtbot, tmp_path, username: str):
    """The main window on a fresh 芜湖 county, signed in as the administrator ("admin") or the township caseworker
    ("wang", who registers households and enters bills; the administrator does neither)."""
    store = open_store(tmp_path / "gui.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
    county.configure_county(Session(store, admin), "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
    user = admin if username == "admin" else users.create_user(
        Session(store, admin), "wang", "王经办", "乡镇经办", "340223100", "correct-horse")
    w = MainWindow(Session(store, user), Session(_reader(store), user))
    qtbot.addWidget(w)
    w.show()
    yield w
    idle(qtbot)
    w.close()


@pytest.fixture
def window(qtbot, tmp_path):
    yield from signed_in(qtbot, tmp_path, "wang")


def shot(widget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def test_register_a_household_of_three_with_categories(qtbot, window):
    dialog = HouseholdDialog(window)
    qtbot.addWidget(dialog)
    dialog.village.setCurrentIndex(dialog.village.findData("340223100201"))
    type_text(qtbot, dialog.address, "籍山镇某村 8 号")
    type_text(qtbot, dialog.head.name, "张三")
    type_text(qtbot, dialog.head.id_number, idn("34022319620305001"))
    assert "1962-03-05" in dialog.head.derived.text() and "男" in dialog.head.derived.text()
    shot(dialog, "dialog-household")
    dialog.save()
    idle(qtbot)
    assert dialog.result() == 1, dialog.form.rows["head.id_number"].message.text()
    head_id = dialog.result_value[1]
    window.open_person(head_id)
    idle(qtbot)
    for name, body, relation in (("李四", "34022319650607002", "配偶"), ("张小五", "34022319900101003", "子")):
        member = MemberDialog(window, window.household.household["id"])
        qtbot.addWidget(member)
        type_text(qtbot, member.person.name, name)
        type_text(qtbot, member.person.id_number, idn(body))
        member.person.relation.setCurrentText(relation)
        member.save()
        idle(qtbot)
        assert member.result() == 1
    window.household.refresh()
    idle(qtbot)
    assert window.household.members.rowCount() == 3
    window.household.members.selectRow(0)
    cat = CategoryDialog(window, head_id, "张三", window.category_names())
    qtbot.addWidget(cat)
    cat.category.setCurrentText("低保对象")
    cat.save()
    idle(qtbot)
    assert cat.result() == 1
    window.household.refresh(head_id)
    idle(qtbot)
    assert "低保对象" in window.household.members.item(0, 5).text()
    # Sorted by name, the rows move; the member acted on is still the one on the selected row.
    window.household.members.sortItems(0, Qt.SortOrder.DescendingOrder)
    shown_names = [window.household.members.item(r, 0).text() for r in range(3)]
    assert shown_names != ["张三", "李四", "张小五"] and sorted(shown_names, reverse=True) == shown_names
    row = shown_names.index("李四")
    window.household.members.selectRow(row)
    assert window.household.selected()["name"] == "李四"
    assert window.household.periods.rowCount() == 0
    window.household.members.selectRow(shown_names.index("张三"))
    assert window.household.periods.item(0, 0).text() == "低保对象"
    shot(window, "household")


def _household(window, qtbot) -> str:
    from app.services import registry

    hid, head = registry.register_household(window.session, "340223100201", "籍山镇某村 9 号",
                                            registry.PersonInput("赵六", idn("34022319580709001")))
    registry.set_category(window.session, head, "低保对象", "2020-01-01", None, "民政")
    return head


def _fill(qtbot, view, total, covered, basic, serious, invoice, day):
    from PySide6.QtCore import QDate

    view.clear()
    view.admitted.setDate(QDate.fromString(day, "yyyy-MM-dd"))
    view.discharged.setDate(QDate.fromString(day, "yyyy-MM-dd"))
    for widget, text in ((view.total, total), (view.covered, covered), (view.basic, basic),
                         (view.serious, serious), (view.invoice, invoice)):
        qtbot.keyClicks(widget, text)


def test_record_two_bills_and_see_the_tiers_and_explanation(qtbot, window):
    head = _household(window, qtbot)
    window.open_bill(head)
    idle(qtbot)
    view = window.bill
    _fill(qtbot, view, "60000", "50000", "30000", "8000", "INV-1", "2025-03-05")
    view.preview()
    idle(qtbot)
    assert "9,000.00" in view.tiers.text()  # (50000 − 30000 − 8000) × 75%, 芜医保〔2021〕76号 二(二)5
    assert "芜医保〔2021〕76号 二(二)5" in view.steps.toPlainText()
    assert view.steps.toPlainText().startswith("您这次住院花了")  # the family's layer comes first
    shot(window, "bill-preview")
    qtbot.keyClick(view.invoice, Qt.Key.Key_Return)
    idle(qtbot)
    assert "医疗救助 9,000.00" in window.statusBar().currentMessage()
    _fill(qtbot, view, "80000", "70000", "40000", "10000", "INV-1", "2025-06-05")
    view.preview()
    idle(qtbot)
    assert "重复报销" in view.duplicate.text()
    view.invoice.clear()
    type_text(qtbot, view.invoice, "INV-2")
    view.preview()
    idle(qtbot)
    # 20000 × 75% = 15000, but 9000 of the 50000 limit is used: 50000 − 9000 = 41000 remains, so 15000.
    assert "15,000.00" in view.tiers.text()
    assert "剩余" in view.year.text()
    view.save()
    idle(qtbot)
    assert "医疗救助 15,000.00" in window.statusBar().currentMessage()


def test_find_a_person_by_pinyin_initials(qtbot, window):
    _household(window, qtbot)
    window.go(window.registry)
    type_text(qtbot, window.registry.query, "zl")
    qtbot.waitUntil(lambda: window.registry.model.rowCount() == 1, timeout=15_000)
    assert window.registry.model.data(window.registry.model.index(0, 0)) == "赵六"
    shot(window, "registry")
    qtbot.keyClick(window.registry.query, Qt.Key.Key_Return)
    idle(qtbot)
    assert window.stack.currentWidget() is window.household
    assert "赵六" in window.household.title.text()


def test_policy_page_shows_rules_and_references(qtbot, window):
    window.go(window.policy)
    idle(qtbot)
    assert "芜医保〔2021〕76号 二(二)5" in window.policy.text.toPlainText()
    assert not window.policy.edit.isVisible()  # only the administrator changes the county's policy
    shot(window, "policy")


def test_statistics_page_counts_the_bills(qtbot, window):
    from app.services import bills

    head = _household(window, qtbot)
    bills.record_bill(window.session, head, bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "60000",
                                                            "50000", "S-1", "县级", "30000", "8000"))
    window.go(window.statistics)
    qtbot.waitUntil(lambda: window.statistics.stats is not None, timeout=20_000)
    idle(qtbot)
    assert "医疗救助 9,000.00 元" in window.statistics.summary.text()
    assert window.statistics.tabs.count() == 3
    # The shared table: sorted either way, the 合计 row stays last; it copies and exports like the others.
    table = window.statistics.tabs.widget(0).widget(0)
    last = table.rowCount() - 1
    total = table.item(last, 0).text()
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        table.sortItems(2, order)
        assert table.item(table.rowCount() - 1, 0).text() == total and table.item(last, 0).font().bold()
    assert "9,000.00" in table.copy(everything=True)
    shot(window, "statistics")


def test_first_run_creates_the_admin_and_the_county(qtbot, tmp_path):
    from app.gui.first_run import FirstRunDialog
    from app.policy.loader import load_policy

    store = open_store(tmp_path / "new.sqlite3", daily_backup=False)
    dialog = FirstRunDialog(Session(store, SYSTEM))
    qtbot.addWidget(dialog)
    dialog.policy.setCurrentIndex(dialog.policy.findData("qiannan-2021"))
    type_text(qtbot, dialog.display_name, "王经办")
    type_text(qtbot, dialog.password, "correct-horse")
    type_text(qtbot, dialog.password2, "correct-horse")
    type_text(qtbot, dialog.county_code, "522701")
    type_text(qtbot, dialog.county_name, "都匀市")
    dialog.save()  # every local value is still empty: refused beside each field, nothing saved
    assert dialog.locals_form.form.rows["tilt_rate"].message.text().startswith("请填写")
    assert not users.has_admin(store.conn)
    locals_ = load_policy("qiannan-2021").policy.locals
    for key, edit in dialog.locals_form.edits.items():
        edit.setText("60%" if locals_[key].unit == "比例" else "500")
    dialog.locals_form.edits["tilt_rate"].setText("80%")  # above the document's 70%
    dialog.save()
    assert "不能高于" in dialog.locals_form.form.rows["tilt_rate"].message.text()
    dialog.locals_form.edits["tilt_rate"].setText("60%")
    shot(dialog, "first-run")
    dialog.save()
    idle(qtbot)
    assert dialog.result() == 1
    assert users.has_admin(store.conn) and store.setting("policy_id") == "qiannan-2021"
    assert store.setting("local")["tilt_rate"] == "60%"


def test_edit_a_member_and_end_a_category_period(qtbot, window):
    from PySide6.QtCore import QDate

    head = _household(window, qtbot)
    window.open_person(head)
    idle(qtbot)
    member = window.household.selected()
    edit = MemberDialog(window, window.household.household["id"], member)
    qtbot.addWidget(edit)
    assert edit.person.relation is None  # the head stays the head
    edit.person.name.clear()
    type_text(qtbot, edit.person.name, "赵六六")
    edit.save()
    idle(qtbot)
    assert edit.result() == 1
    window.household.refresh(head)
    idle(qtbot)
    assert window.household.members.item(0, 0).text() == "赵六六"
    assert window.household.periods.rowCount() == 1
    window.household.periods.selectRow(0)
    period = window.household.selected()["periods"][0]
    dialog = CategoryDialog(window, head, "赵六六", window.category_names(), period)
    qtbot.addWidget(dialog)
    assert not dialog.category.isEnabled()
    dialog.open_ended.setChecked(False)
    dialog.valid_to.setDate(QDate(2019, 12, 31))  # before its start: refused beside the field
    dialog.save()
    idle(qtbot)
    assert dialog.result() == 0 and "早于起始日期" in dialog.form.rows["valid_to"].message.text()
    dialog.valid_to.setDate(QDate(2024, 12, 31))
    dialog.save()
    idle(qtbot)
    assert dialog.result() == 1
    window.household.refresh(head)
    idle(qtbot)
    assert window.household.periods.item(0, 2).text() == "2024-12-31"
    assert "低保对象" not in window.household.members.item(0, 5).text()
    shot(window, "household-edited")


def test_import_a_list_untick_one_row_and_apply(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt as _Qt

    from app.services import registry
    from tests.exchange.test_identity_lists import LI, ZHANG, minzheng_roster
    for name, number in (("张三", ZHANG), ("李四", LI)):
        registry.register_household(window.session, "340223100201", f"{name}家", registry.PersonInput(name, number))
    window.go(window.imports)
    window.imports.load(minzheng_roster(tmp_path / "低保.xlsx"))
    idle(qtbot)
    view = window.imports
    assert "新增 2" in view.summary.text() and "未导入 3" in view.summary.text()
    view.table.item(1, 0).setCheckState(_Qt.CheckState.Unchecked)  # the caseworker does not confirm 李四
    shot(window, "import")
    view.apply_button.click()
    qtbot.waitUntil(lambda: not Op.running, timeout=20_000)
    rows = window.session.conn.execute("SELECT category FROM category_periods").fetchall()
    assert [r[0] for r in rows] == ["低保对象"]
