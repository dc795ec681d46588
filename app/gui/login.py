"""The login dialog, also used to unlock after the idle lock; it signs in on a connection of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from app.domain.errors import FieldError
from app.gui.forms import dialog_buttons, styled_label
from app.services import login
from app.services.session import User
from app.store.db import connect


def note_leaving(db_path: Path, user: User, why: str) -> None:
    """Audit a sign-out or the idle lock on a short connection of its own (the window's is the worker's)."""
    conn = connect(db_path)
    try:
        login.sign_out(conn, user, why)
    finally:
        conn.close()


class LoginDialog(QDialog):
    """Asks for user name and password; `user` holds who signed in. Each attempt is audited and counts towards the
    lock after repeated wrong passwords (app/services/login.py); the dialog says when an account is locked."""

    def __init__(self, db_path: Path, parent=None, locked_user: User | None = None, title: str | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.user: User | None = None
        self.setWindowTitle("救助通 · 解锁" if locked_user else "救助通 · 登录")
        layout = QVBoxLayout(self)
        heading = title or ("已锁定，请重新输入密码" if locked_user else "医疗救助经办 · 登录")
        layout.addWidget(styled_label(heading, "title"))
        form = QFormLayout()
        self.username = QLineEdit(locked_user.username if locked_user else "")
        self.username.setReadOnly(locked_user is not None)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("用户名", self.username)
        form.addRow("密码", self.password)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self.try_login, "解锁" if locked_user else "登录", "退出"))
        self.where = "解锁" if locked_user else "程序"
        (self.password if locked_user else self.username).setFocus()
        self.resize(400, 200)

    def try_login(self) -> None:
        conn = connect(self.db_path)
        try:
            self.user = login.sign_in(conn, self.username.text().strip(), self.password.text(), self.where)
        except FieldError as exc:
            self.message.setText(exc.reason)
            self.password.selectAll()
            self.password.setFocus()
            return
        finally:
            conn.close()
        self.accept()
