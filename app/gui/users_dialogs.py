"""工具 → 用户管理 (admin: list, add, edit, reset a password, disable/enable, unlock) and 修改我的密码 (everyone)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.gui.forms import FormDialog, styled_label
from app.gui.ops import Op, show_error
from app.services import county, login, users
from app.services.places import jurisdiction_choices, place_name
from app.store import clock
from app.domain.errors import FieldError

COLUMNS = ("用户名", "姓名", "角色", "管辖范围", "状态", "建立时间")
_SCOPE_HINT = {6: "县级角色和管理员：本县 6 位代码", 9: "乡镇角色：选乡镇（9 位代码）", 12: "村级经办：选村（居）（12 位代码）"}


def _password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _code_of(combo: QComboBox) -> str:
    """The chosen entry's code, or what was typed (a code, or a shown "code name" line)."""
    text = combo.currentText().strip()
    if combo.currentIndex() >= 0 and text == combo.itemText(combo.currentIndex()):
        return combo.currentData() or text.split(" ")[0]
    return text.split(" ")[0]


class UserDialog(FormDialog):
    """新增用户, or 修改用户 when given the entry (the username stays; the password is reset separately)."""

    def __init__(self, window, entry: users.UserEntry | None = None, parent=None):
        super().__init__(window, f"修改用户 · {entry.username}" if entry else "新增用户", parent)
        self.entry = entry
        self.username = self.form.add("username", "用户名", QLineEdit(entry.username if entry else ""),
                                      "登录用，2–32 位字母、数字或 _ . -")
        self.username.setReadOnly(entry is not None)
        if entry:
            self.form.rows["username"].set_hint("用户名不能修改；改密码用“重置密码”")
        self.display_name = self.form.add("display_name", "姓名", QLineEdit(entry.display_name if entry else ""))
        self.role = QComboBox()
        self.role.addItems(users.ROLES)
        self.form.add("role", "角色", self.role)
        self.jurisdiction = QComboBox()
        self.jurisdiction.setEditable(True)
        self.jurisdiction.setMinimumContentsLength(24)
        self.form.add("jurisdiction", "管辖范围", self.jurisdiction)
        self.password = self.password2 = None
        if entry is None:
            self.password = self.form.add("password", "密码", _password_edit(), "至少 8 位；请当面告诉本人")
            self.password2 = self.form.add("password2", "再输一次", _password_edit())
        self.role.currentTextChanged.connect(self._role_changed)
        if entry:
            self.role.setCurrentText(entry.role)
        self._role_changed(self.role.currentText())
        if entry:
            index = self.jurisdiction.findData(entry.jurisdiction)
            if index >= 0:
                self.jurisdiction.setCurrentIndex(index)
            else:
                self.jurisdiction.setEditText(entry.jurisdiction)
        self.finish_layout()

    def _role_changed(self, role: str) -> None:
        """Offer only codes of the length this role's jurisdiction must have."""
        digits = users.ROLE_SCOPE[role]
        window = self.window
        county = window.reader.store.setting("county") or {}
        code = window.county_code or window.session.user.jurisdiction[:6]
        self.jurisdiction.clear()
        for value, name in jurisdiction_choices(code, county.get("name", ""), digits):
            if window.session.user.covers(value):
                self.jurisdiction.addItem(f"{value} {name}", value)
        self.form.rows["jurisdiction"].set_hint(_SCOPE_HINT[digits])

    def save(self) -> None:
        session = self.window.session
        name, role, scope = self.display_name.text().strip(), self.role.currentText(), _code_of(self.jurisdiction)
        if self.entry:
            username = self.entry.username
            self.submit(lambda: users.update_user(session, username, name, role, scope))
            return
        self.form.clear_errors()
        if self.password.text() != self.password2.text():
            self.form.show_error("password2", "两次输入的密码不一致")
            return
        username, password = self.username.text().strip(), self.password.text()
        self.submit(lambda: users.create_user(session, username, name, role, scope, password))


class PasswordDialog(FormDialog):
    """重置密码 of a named user (admin), or 修改我的密码 with the old one (anyone)."""

    def __init__(self, window, username: str | None = None, parent=None):
        super().__init__(window, f"重置密码 · {username}" if username else "修改我的密码", parent)
        self.username = username
        self.old = None
        if username is None:
            self.old = self.form.add("old_password", "原密码", _password_edit())
        self.new = self.form.add("new_password", "新密码", _password_edit(), "至少 8 位")
        self.new2 = self.form.add("new_password2", "再输一次", _password_edit())
        self.buttons.button(self.buttons.StandardButton.Ok).setText("重置密码" if username else "修改密码")
        self.finish_layout()
        self.resize(520, self.sizeHint().height())

    def save(self) -> None:
        self.form.clear_errors()
        if self.new.text() != self.new2.text():
            self.form.show_error("new_password2", "两次输入的新密码不一致")
            return
        session, new = self.window.session, self.new.text()
        if self.username is None:
            old = self.old.text()
            self.submit(lambda: users.change_password(session, old, new))
        else:
            username = self.username
            self.submit(lambda: users.reset_password(session, username, new))

    def _failed(self, exc: BaseException) -> None:
        # The service names the new password "password" when an admin resets it.
        if isinstance(exc, FieldError) and exc.field == "password":
            exc = exc.under("new_password")
        super()._failed(exc)


class UsersDialog(QDialog):
    """The user list with its actions; results and refusals show in the line under the table, not in pop-ups."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.entries: list[users.UserEntry] = []
        self.child: QDialog | None = None
        self.setWindowTitle("用户管理")
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("用户管理", "title"))
        layout.addWidget(styled_label("每个用户只能看到和办理管辖范围内的记录。停用的用户不能登录，"
                                      "其办理过的记录和审计日志都保留。", "hint"))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self.edit_user)
        layout.addWidget(self.table, 1)
        self.status = styled_label("", "hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        # The county's permission table: one choice it may make (app/workflow/duties.py), audited when changed.
        self.county_bills = QCheckBox("县级角色（医保审核、民政审核、审批）可以录入就诊账单（默认不可以；即使可以，"
                                      "录入账单的人也不能审批该申请）")
        self.county_bills.setChecked(window.session.duties().county_records_bills)
        self.county_bills.setVisible(window.session.may("change_settings").allowed)
        self.county_bills.toggled.connect(self.set_county_bills)
        layout.addWidget(self.county_bills)
        bar = QHBoxLayout()
        self.add_button = QPushButton("新增用户…")
        self.edit_button = QPushButton("修改…")
        self.password_button = QPushButton("重置密码…")
        self.active_button = QPushButton("停用")
        self.unlock_button = QPushButton("解除锁定")
        close = QPushButton("关闭")
        for button, slot in ((self.add_button, self.add_user), (self.edit_button, self.edit_user),
                             (self.password_button, self.reset_password), (self.active_button, self.toggle_active),
                             (self.unlock_button, self.unlock), (close, self.accept)):
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.insertStretch(5)
        self.add_button.setProperty("primary", True)
        layout.addLayout(bar)
        self.resize(820, 460)
        self._selection_changed()
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        session = self.window.session
        Op(self, lambda: users.list_users(session)).success(lambda rows: self._fill(rows, select)).run()

    def _fill(self, rows: list[users.UserEntry], select: str | None) -> None:
        self.entries = rows
        self.table.setRowCount(len(rows))
        grey = QColor("#8a94a3")
        county = self.window.reader.store.setting("county") or {}
        for r, u in enumerate(rows):
            scope = f"{u.jurisdiction} {place_name(u.jurisdiction, county)}"
            state = "在用" if u.active else "已停用"
            if u.locked_until is not None:
                state += f"，已锁定至 {u.locked_until:%H:%M}"
            values = (u.username, u.display_name, u.role, scope, state, str(clock.local_date(u.created_at)))
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if not u.active:
                    item.setForeground(grey)
                self.table.setItem(r, c, item)
            if u.username == select:
                self.table.selectRow(r)
        self._selection_changed()

    def selected(self) -> users.UserEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        entry = self.selected()
        for button in (self.edit_button, self.password_button, self.active_button):
            button.setEnabled(entry is not None)
        self.active_button.setText("启用" if entry is not None and not entry.active else "停用")
        self.unlock_button.setEnabled(entry is not None and entry.locked_until is not None)

    def _say(self, text: str, role: str = "hint") -> None:
        self.status.setProperty("role", role)
        self.status.setText(text)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _open(self, dialog: QDialog, done) -> None:
        """Window-modal without a nested event loop; the list refreshes when the child is accepted."""
        self.child = dialog
        dialog.accepted.connect(done)
        dialog.open()

    def add_user(self) -> None:
        dialog = UserDialog(self.window, parent=self)
        self._open(dialog, lambda: self._changed(f"已新增用户 {dialog.result_value.username}", dialog.result_value.username))

    def edit_user(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._open(UserDialog(self.window, entry, self), lambda: self._changed(f"已修改用户 {entry.username}", entry.username))

    def reset_password(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._open(PasswordDialog(self.window, entry.username, self),
                       lambda: self._say(f"已重置 {entry.username} 的密码；请当面告诉本人，并请其登录后修改"))

    def toggle_active(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        session, active = self.window.session, not entry.active
        word = "启用" if active else "停用"
        Op(self, lambda: users.set_active(session, entry.username, active)).success(
            lambda _: self._changed(f"已{word}用户 {entry.username}", entry.username)).failure(self._refused).run()

    def unlock(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        session = self.window.session
        Op(self, lambda: login.unlock(session, entry.username)).success(
            lambda _: self._changed(f"已解除 {entry.username} 的锁定，可以立即登录", entry.username)).failure(
            self._refused).run()

    def set_county_bills(self, allowed: bool) -> None:
        session = self.window.session
        word = "可以" if allowed else "不再"
        Op(self, lambda: county.set_county_records_bills(session, allowed)).success(
            lambda _: self._say(f"已修改权限表：县级角色{word}录入就诊账单（已记入审计日志；重新登录后菜单随之变化）")).failure(
            self._refused).run()

    def _changed(self, text: str, username: str) -> None:
        self._say(text)
        self.refresh(username)

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, FieldError):
            self._say(str(exc), "error")  # not beside a field: the label says which
        else:
            show_error(self, exc)
