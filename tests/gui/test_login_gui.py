"""Locking, unlocking, switching user and signing out in the window; a locked-out account at the login."""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402

from app.gui.login import LoginDialog  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.users_dialogs import UsersDialog  # noqa: E402
from app.services import login  # noqa: E402
from app.store import clock  # noqa: E402

from . import test_app  # noqa: E402
from .test_app import idle, shot, type_text  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    yield from test_app.signed_in(qtbot, tmp_path, "wang")


def _actions(window) -> dict:
    return {a.text(): a for menu in window.menuBar().actions() for a in menu.menu().actions()}


def _answer(qtbot, door: LoginDialog, password: str) -> None:
    door.password.clear()
    type_text(qtbot, door.password, password)
    door.try_login()


def test_the_idle_lock_hides_every_record_until_the_password(qtbot, window):
    other = QDialog(window)
    other.setWindowTitle("一个打开着的对话框")
    other.show()
    window.lock()
    door = window.door
    assert door.isVisible() and door.username.text() == "wang" and door.username.isReadOnly()
    assert window.shade.currentIndex() == 1 and not window.stack.isVisible(), "the screens are hidden, not covered"
    assert not window.menuBar().isEnabled() and not other.isVisible()
    shot(window, "locked")
    _answer(qtbot, door, "wrong-horse")
    assert "用户名或密码不正确" in door.message.text() and window.shade.currentIndex() == 1
    _answer(qtbot, door, "correct-horse")
    assert not door.isVisible() and window.shade.currentIndex() == 0 and window.stack.isVisible()
    assert other.isVisible() and window.menuBar().isEnabled() and window.idle.isActive()
    actions = [r["action"] for r in window.session.conn.execute(
        "SELECT action FROM audit_log WHERE username = 'wang' ORDER BY seq")]
    assert actions[-3:] == ["锁定（闲置 10 分钟或手动锁定）", "登录失败：密码错误，连续第 1 次（解锁）", "登录（解锁）"]


def test_leaving_at_the_lock_closes_the_program_instead_of_getting_past(qtbot, window):
    window.lock()
    window.door.reject()
    assert not window.isVisible()


def test_switching_user_opens_a_window_for_the_new_user(qtbot, window):
    _actions(window)["切换用户…"].trigger()
    door = window.door
    assert door.isVisible() and not door.username.isReadOnly() and window.shade.currentIndex() == 1
    type_text(qtbot, door.username, "admin")
    _answer(qtbot, door, "correct-horse")
    new = QApplication.instance().main_window
    qtbot.addWidget(new)
    assert isinstance(new, MainWindow) and new is not window and new.isVisible() and not window.isVisible()
    assert new.session.user.username == "admin" and "管理员" in new.user_label.text()
    assert "用户管理…" in _actions(new) and "用户管理…" not in _actions(window), "menus follow the new role"
    shot(new, "switched-user")
    rows = new.session.conn.execute("SELECT username, action FROM audit_log ORDER BY seq DESC LIMIT 2").fetchall()
    assert [tuple(r) for r in rows] == [("admin", "登录（程序）"), ("wang", "切换用户")]
    idle(qtbot)
    new.close()


def test_signing_out_returns_to_the_login(qtbot, window):
    _actions(window)["退出登录"].trigger()
    assert window.door.isVisible() and "王经办已退出登录" in window.door.findChildren(type(window.door.message))[0].text()
    assert window.session.conn.execute("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()[0] == \
        "退出登录"
    window.door.reject()
    assert not window.isVisible()


def test_a_locked_out_user_is_told_and_an_admin_unlocks(qtbot, tmp_path):
    gen = test_app.signed_in(qtbot, tmp_path, "admin")
    admin_window = next(gen)
    path = admin_window.session.store.path
    with clock.freeze(datetime(2026, 3, 2, 9, 0)):
        door = LoginDialog(path)
        qtbot.addWidget(door)
        door.show()
        type_text(qtbot, door.username, "admin")
        for _ in range(login.MAX_FAILURES):
            _answer(qtbot, door, "wrong-horse")
        assert "已锁定，09:15 后可再试" in door.message.text()
        _answer(qtbot, door, "correct-horse")
        assert "已锁定" in door.message.text() and door.user is None, "not even the right password while locked"
        shot(door, "login-locked-out")
        dialog = UsersDialog(admin_window)
        qtbot.addWidget(dialog)
        dialog.show()
        idle(qtbot)
        dialog.table.selectRow(0)
        assert "已锁定至 09:15" in dialog.table.item(0, 4).text() and dialog.unlock_button.isEnabled()
        shot(dialog, "users-locked")
        dialog.unlock_button.click()
        idle(qtbot)
        assert "已解除 admin 的锁定" in dialog.status.text()
        _answer(qtbot, door, "correct-horse")
        assert door.user is not None and door.user.username == "admin"
    next(gen, None)


def test_the_county_decides_in_the_users_dialog_whether_county_roles_record_bills(qtbot, tmp_path):
    gen = test_app.signed_in(qtbot, tmp_path, "admin")
    window = next(gen)
    dialog = UsersDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    idle(qtbot)
    assert dialog.county_bills.isVisible() and not dialog.county_bills.isChecked()
    dialog.county_bills.setChecked(True)
    idle(qtbot)
    assert window.session.duties().county_records_bills and "已修改权限表" in dialog.status.text()
    entry = window.session.conn.execute("SELECT username, action FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert tuple(entry) == ("admin", "权限表：允许县级角色录入账单")
    next(gen, None)
