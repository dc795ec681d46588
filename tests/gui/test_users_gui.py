"""工具 → 用户管理 and 修改我的密码, driven through their widgets (child dialogs open window-modal, never exec'd)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.gui.users_dialogs import PasswordDialog, UsersDialog  # noqa: E402
from app.services import users  # noqa: E402
from app.domain.errors import FieldError  # noqa

from . import test_app  # noqa: E402
from .test_app import idle, shot, type_text  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window on a fresh 芜湖 county, signed in as the administrator."""
    yield from test_app.signed_in(qtbot, tmp_path, "admin")


def _rows(dialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_tools_menu_offers_user_management_to_an_admin(window):
    texts = [a.text() for menu in window.menuBar().actions() for a in menu.menu().actions()]
    assert "用户管理…" in texts and "修改我的密码…" in texts


def test_add_a_village_clerk_through_the_dialog_then_disable_and_enable(qtbot, window):
    dialog = UsersDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    idle(qtbot)
    assert [r[0] for r in _rows(dialog)] == ["admin"]
    dialog.add_button.click()
    form = dialog.child
    assert form.isVisible() and form.parent() is dialog
    type_text(qtbot, form.username, "cun1")
    type_text(qtbot, form.display_name, "张村官")
    form.role.setCurrentText("村级经办")
    # The role decides the jurisdiction's length: villages now, each with its township's name.
    codes = [form.jurisdiction.itemData(i) for i in range(form.jurisdiction.count())]
    assert codes and all(len(c) == 12 and c.startswith("340223") for c in codes)
    form.jurisdiction.setCurrentIndex(form.jurisdiction.findData("340223100201"))
    assert "籍山镇" in form.jurisdiction.currentText()
    type_text(qtbot, form.password, "village-pass-1")
    type_text(qtbot, form.password2, "village-pass-9")
    form.save()
    assert "不一致" in form.form.rows["password2"].message.text() and form.isVisible()
    form.password2.clear()
    type_text(qtbot, form.password2, "village-pass-1")
    shot(form, "dialog-user-add")
    form.save()
    idle(qtbot)
    assert form.result() == 1, [r.message.text() for r in form.form.rows.values()]
    idle(qtbot)
    assert _rows(dialog)[1][:5] == ["cun1", "张村官", "村级经办", "340223100201 南陵县籍山镇茶丰村委会", "在用"]
    assert "已新增用户 cun1" in dialog.status.text() and dialog.selected().username == "cun1"
    assert users.authenticate(window.session.conn, "cun1", "village-pass-1").role == "村级经办"

    assert dialog.active_button.text() == "停用"
    dialog.active_button.click()
    idle(qtbot)
    assert _rows(dialog)[1][4] == "已停用" and dialog.active_button.text() == "启用"
    with pytest.raises(FieldError):
        users.authenticate(window.session.conn, "cun1", "village-pass-1")
    shot(dialog, "dialog-users")
    dialog.active_button.click()
    idle(qtbot)
    assert _rows(dialog)[1][4] == "在用"


def test_a_refused_field_is_shown_beside_it(qtbot, window):
    dialog = UsersDialog(window)
    qtbot.addWidget(dialog)
    idle(qtbot)
    dialog.add_button.click()
    form = dialog.child
    type_text(qtbot, form.username, "xz1")
    type_text(qtbot, form.display_name, "李乡长")
    form.role.setCurrentText("乡镇审核")
    assert all(len(form.jurisdiction.itemData(i)) == 9 for i in range(form.jurisdiction.count()))
    form.jurisdiction.setEditText("3402231")  # typed by hand, wrong length
    type_text(qtbot, form.password, "town-pass-123")
    type_text(qtbot, form.password2, "town-pass-123")
    form.save()
    idle(qtbot)
    assert form.result() == 0
    assert "9 位统计用区划代码" in form.form.rows["jurisdiction"].message.text()
    shot(form, "dialog-user-refused")
    assert [r[0] for r in _rows(dialog)] == ["admin"]


def test_the_signed_in_admin_cannot_disable_themself(qtbot, window):
    dialog = UsersDialog(window)
    qtbot.addWidget(dialog)
    idle(qtbot)
    dialog.table.selectRow(0)
    dialog.active_button.click()
    idle(qtbot)
    assert "不能停用自己" in dialog.status.text() and _rows(dialog)[0][4] == "在用"


def test_reset_a_password_and_change_my_own(qtbot, window):
    users.create_user(window.session, "cun1", "张村官", "村级经办", "340223100201", "village-pass-1")
    dialog = UsersDialog(window)
    qtbot.addWidget(dialog)
    idle(qtbot)
    dialog.table.selectRow(1)
    dialog.password_button.click()
    reset = dialog.child
    type_text(qtbot, reset.new, "short")
    type_text(qtbot, reset.new2, "short")
    reset.save()
    idle(qtbot)
    assert "至少 8 位" in reset.form.rows["new_password"].message.text()
    reset.new.clear()
    reset.new2.clear()
    type_text(qtbot, reset.new, "fresh-pass-22")
    type_text(qtbot, reset.new2, "fresh-pass-22")
    reset.save()
    idle(qtbot)
    assert reset.result() == 1 and "已重置 cun1 的密码" in dialog.status.text()
    assert users.authenticate(window.session.conn, "cun1", "fresh-pass-22")

    mine = PasswordDialog(window)
    qtbot.addWidget(mine)
    type_text(qtbot, mine.old, "not-my-pass")
    type_text(qtbot, mine.new, "admin-pass-22")
    type_text(qtbot, mine.new2, "admin-pass-22")
    mine.save()
    idle(qtbot)
    assert "原密码不正确" in mine.form.rows["old_password"].message.text()
    shot(mine, "dialog-change-password")
    mine.old.clear()
    type_text(qtbot, mine.old, "correct-horse")
    mine.save()
    idle(qtbot)
    assert mine.result() == 1
    assert users.authenticate(window.session.conn, "admin", "admin-pass-22")
