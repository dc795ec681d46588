"""First run: the admin account, the county and its policy, and every local value that policy leaves to it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.case import CaseError
from app.domain.money import pct
from app.gui.forms import Form, dialog_buttons, styled_label
from app.gui.ops import Op, show_error
from app.policy.loader import PolicyError, load_policy, policy_ids
from app.policy.resolver import parse_local
from app.services import county, users
from app.services.session import Session
from app.domain.errors import FieldError, collect


class LocalParametersForm(QWidget):
    """A form generated from a policy's own declarations of its local parameters (label, unit, bounds)."""

    def __init__(self, policy_id: str, values: dict[str, str] | None = None):
        super().__init__()
        self.policy = load_policy(policy_id).policy
        layout = QFormLayout(self)
        self.form = Form(layout)
        self.edits: dict[str, QLineEdit] = {}
        if not self.policy.locals:
            layout.addRow(QLabel("本政策没有需要县里填写的地方参数。"))
        for key, p in self.policy.locals.items():
            shown = (lambda v: pct(v)) if p.unit == "比例" else (lambda v: f"{v} 元")
            bounds = [f"不低于 {shown(p.minimum)}" if p.minimum is not None else "",
                      f"不高于 {shown(p.maximum)}" if p.maximum is not None else "", "可填“不设”" if p.allow_none else "",
                      f"文件建议值 {p.suggestion}" if p.suggestion else ""]
            hint = "，".join(b for b in bounds if b)
            edit = QLineEdit((values or {}).get(key, ""))
            # The document's figure is shown as a suggestion, never filled in: the county decides (“左右”, “原则上”).
            edit.setPlaceholderText(f"建议值 {p.suggestion}" if p.suggestion
                                    else "如 70%" if p.unit == "比例" else "是 或 否" if p.unit == "是否" else "金额（元）")
            edit.setToolTip(f"{p.label}\n依据：{p.reference}" + (f"\n{p.note}" if p.note else ""))
            self.edits[key] = edit
            self.form.add(key, f"{p.label}（{p.unit}）", edit, hint)

    def values(self) -> dict[str, str] | None:
        """The entered values, or None after marking every field that is missing or out of bounds."""
        self.form.clear_errors()
        out: dict[str, str] = {}
        ok = True
        for key, edit in self.edits.items():
            text = edit.text().strip()
            if not text:
                self.form.show_error(key, "请填写（文件把此值留给县里确定，程序不会代为假定）")
                ok = False
                continue
            try:
                parse_local(key, text, self.policy.locals[key])
            except CaseError as exc:
                self.form.show_error(key, exc.message)
                ok = False
            out[key] = text
        return out if ok else None


class FirstRunDialog(QDialog):
    """Creates the admin and configures the county; the store is empty until this succeeds."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("救助通 · 首次设置")
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        title = styled_label("首次使用：请建立管理员账号，并设置本县适用的政策", "title")
        layout.addWidget(title)
        admin = QGroupBox("管理员账号")
        self.admin_form = Form(QFormLayout(admin))
        self.username = self.admin_form.add("username", "用户名", QLineEdit("admin"))
        self.display_name = self.admin_form.add("display_name", "姓名", QLineEdit())
        self.password = self.admin_form.add("password", "密码", QLineEdit(), "至少 8 位")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = self.admin_form.add("password2", "再输一次", QLineEdit())
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(admin)
        place = QGroupBox("本县及政策")
        self.place_form = Form(QFormLayout(place))
        self.county_code = self.place_form.add("county_code", "县级区划代码", QLineEdit(), "6 位，如 340223")
        self.county_name = self.place_form.add("county_name", "县名", QLineEdit())
        self.policy = QComboBox()
        for pid in policy_ids():
            try:
                p = load_policy(pid).policy
            except PolicyError:  # a broken county file: shown, not offered, and not swapped for the bundled one
                self.policy.addItem(f"{pid}（本县政策文件有误，请运行 jiuzhu policy list 查看）", pid)
                self.policy.model().item(self.policy.count() - 1).setEnabled(False)
                continue
            self.policy.addItem(f"{p.region} · {p.document}", pid)
        usable = [i for i in range(self.policy.count()) if self.policy.model().item(i).isEnabled()]
        self.policy.setCurrentIndex(usable[0] if usable else -1)
        self.place_form.add("policy", "适用政策", self.policy)
        layout.addWidget(place)
        self.locals_box = QGroupBox("地方参数（政策文件留给县里确定的数值）")
        box_layout = QVBoxLayout(self.locals_box)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        box_layout.addWidget(self.scroll)
        layout.addWidget(self.locals_box, 1)
        self.policy.currentIndexChanged.connect(self._policy_changed)
        self._policy_changed()
        layout.addWidget(dialog_buttons(self, self.save, "保存并开始使用", "退出"))
        self.admin_user = None

    def _policy_changed(self) -> None:
        self.locals_form = LocalParametersForm(self.policy.currentData())
        self.scroll.setWidget(self.locals_form)

    def save(self) -> None:
        """Check every section at once and mark each wrong field; save only when nothing is wrong."""
        for f in (self.admin_form, self.place_form):
            f.clear_errors()
        mismatch = self.password.text() != self.password2.text()
        if mismatch:
            self.admin_form.show_error("password2", "两次输入的密码不一致")
        local = self.locals_form.values()  # marks every missing or out-of-bounds value
        args = (self.username.text().strip(), self.display_name.text().strip(), self.password.text(),
                self.county_code.text().strip(), self.county_name.text().strip(), self.policy.currentData(), local)
        session = self.session

        def work():
            username, name, password, code, cname, policy_id, values = args
            problems = users.new_user_problems(session.conn, username, name, "管理员", code, password)
            problems += collect(lambda: county.check_county_code(code))
            problems += collect(lambda: county.check_county(code, policy_id, values)) if values and not problems else []
            if problems or mismatch or values is None:
                return problems  # nothing is saved until every section is right
            admin = users.create_user(session, username, name, "管理员", code, password)
            county.configure_county(Session(session.store, admin), code, cname or code, policy_id, values)
            return admin

        Op(self, work).success(self._done).failure(self._failed).run()

    def _done(self, result) -> None:
        if isinstance(result, list):
            unshown = [exc for exc in result if not self._mark(exc)]
            if unshown:
                show_error(self, unshown[0])
            return
        self.admin_user = result
        self.accept()

    def _mark(self, exc: FieldError) -> bool:
        """Show a refusal beside its field in whichever section holds it."""
        field = {"jurisdiction": "county_code"}.get(exc.field, exc.field)
        if any(f.show_error(field, exc.reason) for f in (self.admin_form, self.place_form)):
            return True
        return exc.field.startswith("local.") and self.locals_form.form.show_error(
            exc.field.removeprefix("local."), exc.reason)

    def _failed(self, exc: BaseException) -> None:
        if not (isinstance(exc, FieldError) and self._mark(exc)):
            show_error(self, exc)
