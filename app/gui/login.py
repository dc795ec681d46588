"""The login dialog, also used to unlock after the idle lock."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from app.gui.forms import dialog_buttons, styled_label
from app.services import users
from app.services.session import User
from app.domain.errors import FieldError


class LoginDialog(QDialog):
    """Asks for user name and password; `user` holds who signed in."""

    def __init__(self, conn, parent=None, locked_user: User | None = None):
        super().__init__(parent)
        self.conn = conn
        self.user: User | None = None
        self.setWindowTitle("救助通 · 解锁" if locked_user else "救助通 · 登录")
        layout = QVBoxLayout(self)
        title = styled_label("已锁定，请重新输入密码" if locked_user else "医疗救助经办 · 登录", "title")
        layout.addWidget(title)
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
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self.try_login, "登录", "退出"))
        (self.password if locked_user else self.username).setFocus()
        self.resize(360, 180)

    def try_login(self) -> None:
        try:
            self.user = users.authenticate(self.conn, self.username.text().strip(), self.password.text())
        except FieldError as exc:
            self.message.setText(exc.reason)
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()
