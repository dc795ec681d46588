"""政策: the active policy's rules in Chinese with their references; the admin edits the local values."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.gui.dated_local import DatedLocalDialog, offer_resettlement
from app.gui.first_run import LocalParametersForm
from app.gui.forms import dialog_buttons, styled_label
from app.gui.ops import Op
from app.policy.describe import describe
from app.policy.loader import policy_source
from app.services import applications, county, one_person_offices
from app.workflow import rules


class LocalValuesDialog(QDialog):
    """Edit the county's local values; saving goes through the audited county service."""

    def __init__(self, window, policy_id: str, values: dict[str, str]):
        super().__init__(window)
        self.window = window
        self.setWindowTitle("修改地方参数")
        self.resize(760, 600)
        layout = QVBoxLayout(self)
        hint = styled_label("每项修改都记入审计日志。数值须是本县正式文件确定的值。", "hint")
        layout.addWidget(hint)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        self.form = LocalParametersForm(policy_id, values)
        scroll.setWidget(self.form)
        layout.addWidget(scroll, 1)
        layout.addWidget(dialog_buttons(self, self.save))
        self.policy_id = policy_id

    def save(self) -> None:
        values = self.form.values()
        if values is None:
            return
        session, policy_id = self.window.session, self.policy_id

        def work():
            place = session.store.setting("county") or {}
            county.configure_county(session, place.get("code", session.user.jurisdiction[:6]), place.get("name", ""),
                                    policy_id, values)

        Op(self, work).success(lambda _: self.accept()).run()


class WorkflowSettingsDialog(QDialog):
    """Where 公示 falls, its days, and each step's limit in working days (the app's defaults until changed)."""

    def __init__(self, window, current: dict):
        super().__init__(window)
        self.window = window
        self.setWindowTitle("依申请救助办理设置")
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("文件未规定公示和办理时限，以下默认值是本程序的选择，县里可按本地规定修改；"
                                      "修改记入审计日志。", "hint"))
        form = QFormLayout()
        self.after = QComboBox()
        self.after.addItem("乡镇审核之后（默认）", "township_review")
        self.after.addItem("村评议之后", "village_review")
        self.after.setCurrentIndex(self.after.findData(current["notice_after"]))
        form.addRow("公示安排在", self.after)
        self.days = QSpinBox()
        self.days.setRange(1, 60)
        self.days.setValue(int(current["notice_days"]))
        form.addRow("公示天数", self.days)
        self.phone = QLineEdit(current.get("contact_phone", ""))
        self.phone.setPlaceholderText("例如 0553-1234567，印在公示名单上")
        form.addRow("公示联系电话", self.phone)
        self.one_person = QLineEdit(" ".join(current.get("one_person_offices", [])))
        self.one_person.setPlaceholderText("乡镇 9 位或村 12 位区划代码，以空格分隔")
        self.one_person.setToolTip("这些乡镇或村只有一名经办人：同一人可以办理两个村级或乡镇级环节，"
                                   "办理记录和审批表上会注明")
        form.addRow("仅一名经办人的乡镇或村", self.one_person)
        self.limits: dict[str, QSpinBox] = {}
        for state, days in current["limits"].items():
            if state == "public_notice":
                continue
            box = QSpinBox()
            box.setRange(1, 90)
            box.setValue(int(days))
            box.setSuffix(" 个工作日")
            self.limits[state] = box
            label = "批准后发放" if state == "approved" else rules.STATE_NAMES[state]
            form.addRow(f"{label}时限", box)
        layout.addLayout(form)
        layout.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        session = self.window.session
        after, days = self.after.currentData(), self.days.value()
        limits = {state: box.value() for state, box in self.limits.items()}
        phone, offices = self.phone.text(), self.one_person.text().replace("，", " ").replace(",", " ").split()

        def work():  # both checked before either is saved
            clean = one_person_offices.checked(session, offices)
            applications.configure(session, after, days, limits, phone)
            one_person_offices.set_offices(session, clean)

        Op(self, work).success(lambda _: self.accept()).run()


class PolicyView(QWidget):
    """The rules, values by date, references and the local parameters, as `policy show` prints them."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = styled_label("政策", "title")
        top.addWidget(self.title)
        top.addStretch(1)
        self.edit = QPushButton("修改地方参数…")
        self.edit.clicked.connect(self.edit_locals)
        top.addWidget(self.edit)
        self.dated = QPushButton("自某日起修改地方参数…")
        self.dated.clicked.connect(self.edit_dated)
        top.addWidget(self.dated)
        self.workflow = QPushButton("依申请救助办理设置…")
        self.workflow.clicked.connect(self.edit_workflow)
        top.addWidget(self.workflow)
        layout.addLayout(top)
        self.text = QTextBrowser()
        layout.addWidget(self.text, 1)

    def refresh(self) -> None:
        session = self.window.session
        allowed = session.may("change_settings").allowed
        self.edit.setVisible(allowed)
        self.dated.setVisible(allowed)
        self.workflow.setVisible(allowed)

        def work():
            eng = county.engine(session)
            return (eng.policy, session.store.setting("local", {}), policy_source(eng.policy.id).describe(),
                    county.dated_locals(session))

        Op(self, work).success(self._show).run()

    def _show(self, result) -> None:
        policy, local, origin, dated = result
        self.policy = policy
        self.policy_id = policy.id
        self.local = local
        self.title.setText(f"政策 · {policy.region} · {policy.document}")
        shown = "\n".join(f"  {policy.locals[k].label}：{v}" for k, v in local.items() if k in policy.locals)
        changes = "\n".join(f"  {policy.locals[k].label}：自 {e['from']} 起 {e['value']}" for k, entries in dated.items()
                            if k in policy.locals for e in entries)
        if changes:
            shown += f"\n\n本县自某日起修改的地方参数：\n{changes}"
        self.text.setPlainText(f"政策文件：{origin}\n\n本县填写的地方参数：\n{shown or '  （无）'}\n\n{describe(policy)}")

    def edit_workflow(self) -> None:
        session = self.window.session
        Op(self, lambda: {**applications.settings(session), "one_person_offices": one_person_offices.offices(
            session.store)}).success(lambda current: WorkflowSettingsDialog(self.window, current).exec()).run()

    def edit_dated(self) -> None:
        dialog = DatedLocalDialog(self.window, self.policy)
        if dialog.exec():
            self.refresh()
            offer_resettlement(self.window, dialog.result_value)

    def edit_locals(self) -> None:
        if LocalValuesDialog(self.window, self.policy_id, self.local).exec():
            self.refresh()
