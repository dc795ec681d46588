"""依申请救助 screens: 待我处理 worklist, the application page with its timeline and actions, and 公示名单."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import fmt, shown
from app.gui.date_field import DateField
from app.gui.forms import Form, dialog_buttons, styled_label
from app.gui import files
from app.gui.ops import Op, show_error
from app.gui.pdf_preview import show_document
from app.gui.tables import DataTable
from app.services import applications as apps
from app.services import case_search, paperwork
from app.store import clock
from app.domain.errors import FieldError
from app.workflow import rules


class ActionDialog(QDialog):
    """One decision: an opinion is required; 村评议 adds the meeting, 民政认定收入财产 the 财产核查, 批准 the amount
    and a reason if it differs. The decision is sent from here, so a refusal shows beside its field and everything
    typed stays."""

    def __init__(self, parent, app: dict, action: str, computed: dict | None, send=None):
        super().__init__(parent)
        self.send = send
        self.setWindowTitle(f"{rules.ACTION_NAMES[action]} · {app['name']}")
        self.action = action
        layout = QVBoxLayout(self)
        self.form = Form(QFormLayout())
        layout.addLayout(self.form.layout)
        self.opinion = QPlainTextEdit()
        self.opinion.setFixedHeight(80)
        label = "理由" if action in ("return", "reject", "withdraw") else "意见"
        self.form.add("opinion", label, self.opinion, "必填" if action in rules.NEEDS_TEXT else "")
        self.meeting = None
        if app["state"] == "village_review" and action == "pass":
            self.meeting = DateField(clock.today())
            self.form.add("meeting_date", "评议会议日期", self.meeting)
            self.attendees, self.votes_for, self.votes_against = (QSpinBox(), QSpinBox(), QSpinBox())
            for box in (self.attendees, self.votes_for, self.votes_against):
                box.setRange(0, 999)
            self.form.add("attendees", "到会人数", self.attendees)
            self.form.add("votes_for", "同意票", self.votes_for)
            self.form.add("votes_against", "反对票", self.votes_against)
        self.asset_check = None
        if action == "civil_opinion":
            self.asset_check = QComboBox()
            self.asset_check.addItem("请选择…", None)
            self.asset_check.addItem("符合（收入、财产符合低收入家庭核查条件）", True)
            self.asset_check.addItem("不符合", False)
            recorded = app.get("passes_asset_check")
            self.asset_check.setCurrentIndex(0 if recorded is None else (1 if recorded else 2))
            self.form.add("asset_check", "财产核查结果", self.asset_check, "民政认定后必选")
        self.amount = None
        if action == "approve":
            known = computed is not None and computed["amount"] is not None
            self.amount = QLineEdit(fmt(computed["amount"]) if known else "")
            bound = f"；不能超过{apps.ceiling_text(computed)}" if known else ""
            self.form.add("amount", "批准金额（元）", self.amount, f"默认为测算金额{bound}")
            self.amount_reason = QLineEdit()
            self.form.add("amount_reason", "金额不同的理由", self.amount_reason,
                          f"与测算金额不同时必填，至少 {apps.MIN_REASON} 个字，印在审批表上")
        if action == "reject":
            layout.addWidget(styled_label("理由将写入《不予救助通知书》。", "hint"))
        layout.addWidget(dialog_buttons(self, self.save, "确定"))
        self.resize(560, self.sizeHint().height())
        self.computed = computed

    def save(self) -> None:
        """Send the decision; on a refusal keep the dialog and all it holds, with the reason beside its field."""
        if self.send is None:
            self.accept()
            return
        self.form.clear_errors()
        decision = self.decision()
        Op(self, lambda: self.send(decision)).success(lambda _: self.accept()).failure(self._refused).run()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, apps.ZeroAmount):
            self._confirm_zero(exc)
            return
        if isinstance(exc, FieldError) and self.form.show_error(exc.field, exc.reason):
            self.adjustSize()  # a refused amount's reason names the bound: the dialog grows to show it
            return
        show_error(self, exc)

    def _confirm_zero(self, exc: apps.ZeroAmount) -> None:
        """An approval at 0.00 元 is sent again only once the approver has read why and said yes."""
        asked = QMessageBox.question(self, "以 0.00 元批准？", f"{exc.message}\n\n确实要以 0.00 元批准吗？"
                                     "不符合救助条件的，请改选“不予救助”。",
                                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                     QMessageBox.StandardButton.No)
        if asked != QMessageBox.StandardButton.Yes:
            self.form.show_error(exc.field, exc.reason)
            return
        decision = self.decision()
        decision.confirm_zero = True
        Op(self, lambda: self.send(decision)).success(lambda _: self.accept()).failure(self._refused).run()

    def decision(self) -> apps.Decision:
        d = apps.Decision(self.action, self.opinion.toPlainText())
        if self.meeting is not None:
            d.meeting_date = self.meeting.text()
            d.attendees, d.votes_for, d.votes_against = (self.attendees.value(), self.votes_for.value(),
                                                         self.votes_against.value())
        if self.asset_check is not None:
            d.asset_check = self.asset_check.currentData()
        if self.amount is not None:
            text = self.amount.text().strip()
            if self.computed is None or self.computed["amount"] is None or text != fmt(self.computed["amount"]):
                d.amount = text
            d.amount_reason = self.amount_reason.text()
        return d


class ApplicationDialog(QDialog):
    """The application page: who and what, the engine's computation, the timeline, and this user's actions."""

    def __init__(self, window, app_id: str):
        super().__init__(window)
        self.window = window
        self.app_id = app_id
        self.setWindowTitle("依申请救助")
        self.resize(900, 680)
        layout = QVBoxLayout(self)
        self.header = styled_label("", "title")
        layout.addWidget(self.header)
        self.facts = styled_label("", "hint")
        self.facts.setWordWrap(True)
        layout.addWidget(self.facts)
        self.computation = QTextBrowser()
        self.computation.setMaximumHeight(140)
        layout.addWidget(self.computation)
        layout.addWidget(styled_label("办理经过", "hint"))
        self.steps = DataTable(["环节", "办理", "办理人", "角色", "时间", "意见 / 记录"], "办理经过")
        layout.addWidget(self.steps, 1)
        self.attachments = styled_label("", "hint")
        self.attachments.setWordWrap(True)
        layout.addWidget(self.attachments)
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)
        self.load()

    def load(self) -> None:
        session, app_id = self.window.session, self.app_id

        def work():
            app = apps.application(session, app_id)
            try:
                computed = apps.compute_amount(session, app_id)
            except FieldError as exc:
                computed = {"error": str(exc)}
            return (app, computed, apps.timeline(session, app_id), case_search.attachments(session, app_id),
                    apps.steps(session, app_id), apps.approval_waits(session, app_id))

        Op(self, work).success(self._show).run()

    def _show(self, result) -> None:
        app, computed, steps, attached, taken, waits = result
        self.app, self.computed = app, (None if "error" in computed else computed)
        self.header.setText(f"{app['name']} · {app['year']} 年依申请救助 · {app['state_name']}")
        due = f"，本环节限 {app['due']} 前办结" if app["due"] else ""
        late = "（已逾期）" if app["overdue"] else ""
        check = {None: apps.PENDING_CHECK, 1: "符合", 0: "不符合"}[app["passes_asset_check"]]
        self.facts.setText(f"家庭年收入 {app['annual_income']} 元，低收入家庭标准 {app['low_income_standard']} 元，"
                           f"财产核查：{check}{due}{late}" + (f"\n{waits}" if waits else ""))
        if "error" in computed:
            self.computation.setPlainText(computed["error"])
        elif computed["pending"]:
            self.computation.setHtml(f"<b>测算金额：{computed['pending']}</b><br/>财产核查结果由县级民政审核在"
                                     f"“民政认定收入财产”时录入，录入后自动测算。其他环节可以照常办理。")
        else:
            lines = [f"<b>测算金额：{shown(computed['amount'])} 元</b>"]
            lines += [f"{escape(s['explain'])}<br/><span style='color:#5f6b7a'>依据：{escape(s['reference'])}</span>"
                      for s in computed["steps"]]
            if app["approved_amount"]:
                lines.append(f"批准金额：{shown(app['approved_amount'])} 元" +
                             (f"（理由：{escape(app['amount_reason'])}）" if app["amount_reason"] else ""))
            self.computation.setHtml("<br/>".join(lines))
        self.steps.set_rows([(s["state_name"], s["action_name"], s["display_name"], s["role"],
                              clock.local_time(s["at"]).strftime("%Y-%m-%d %H:%M"), paperwork.step_record(s))
                             for s in steps])
        self.attachments.setText("附件：" + ("；".join(f"{a['kind']} {a['filename']}（{a['added_by']}）"
                                                   for a in attached) or "无"))
        while self.buttons.count():
            item = self.buttons.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for action in sorted(rules.ACTION_NAMES):
            may = self.window.session.may(action, app, taken)
            # A step this user's role takes but one person may not take twice is shown greyed, saying who may.
            if may.allowed or may.field == "user":
                b = QPushButton(rules.ACTION_NAMES[action])
                b.setObjectName(f"action-{action}")
                # 批准 waiting for the county's other opinions is greyed too, saying what it waits for, rather than
                # refused after the approver has filled in the amount.
                waiting = may.allowed and action == "approve" and waits
                b.setEnabled(may.allowed and not waiting)
                b.setToolTip(waits if waiting else may.reason)
                b.clicked.connect(lambda _=False, a=action: self.take(a))
                self.buttons.addWidget(b)
        attach = QPushButton("添加附件…")
        attach.setVisible(self.window.session.may("attach", app).allowed)
        attach.clicked.connect(self.attach)
        self.buttons.addWidget(attach)
        form = QPushButton("打印审批表…")
        form.clicked.connect(self.print_form)
        self.buttons.addWidget(form)
        if app["state"] == "rejected":
            notice = QPushButton("打印不予救助通知书…")
            notice.clicked.connect(self.print_rejection)
            self.buttons.addWidget(notice)
        self.buttons.addStretch(1)

    def take(self, action: str) -> None:
        """Decide in a dialog for the state this page shows; the page reloads afterwards either way (someone else
        may have acted meanwhile)."""
        self.action_dialog(action).exec()
        self.load()

    def action_dialog(self, action: str) -> ActionDialog:
        """The dialog for one decision, sending it for the state this page shows."""
        session, app_id, state = self.window.session, self.app_id, self.app["state"]
        return ActionDialog(self, self.app, action, self.computed,
                            lambda decision: apps.act(session, app_id, state, decision))

    def print_form(self) -> None:
        session, app_id = self.window.session, self.app_id
        show_document(self, "审批表", lambda path: paperwork.approval_form(session, app_id, path))

    def print_rejection(self) -> None:
        session, app_id = self.window.session, self.app_id
        show_document(self, "不予救助通知书", lambda path: paperwork.rejection_notice(session, app_id, path))

    def attach(self) -> None:
        path = files.open_path(self, "选择扫描件", "图片或 PDF (*.jpg *.jpeg *.png *.pdf);;所有文件 (*)")
        if not path:
            return
        kind, ok = _choose(self, "附件类别", apps.ATTACHMENT_KINDS)
        if ok:
            session, app_id = self.window.session, self.app_id
            Op(self, lambda: apps.attach(session, app_id, kind, path)).success(
                lambda _: (self.window.statusBar().showMessage("附件已保存", 5000), self.load())).run()


def _choose(parent, title: str, options) -> tuple[str, bool]:
    from PySide6.QtWidgets import QInputDialog

    return QInputDialog.getItem(parent, title, title, list(options), 0, False)


class WorklistView(QWidget):
    """待我处理: the cases waiting for this user's role, oldest first, overdue ones in red."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("待我处理 · 依申请救助", "title"))
        self.count = styled_label("", "hint")
        layout.addWidget(self.count)
        bar = QHBoxLayout()
        self.only_overdue = QCheckBox("只看逾期")
        self.only_overdue.toggled.connect(lambda _: self.refresh())
        bar.addWidget(self.only_overdue)
        self.new = QPushButton("为选中人员登记依申请救助…")
        self.new.setToolTip("先在“家庭”页选中申请人")
        self.new.clicked.connect(self.create)
        bar.addWidget(self.new)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.table = DataTable(["申请人", "身份证号", "年度", "所在环节", "本环节始于", "限办日期", "状态"], "待我处理")
        self.table.activated_record.connect(self.open)
        layout.addWidget(self.table, 1)
        self.rows: list[dict] = []

    def refresh(self) -> None:
        session, overdue_only = self.window.session, self.only_overdue.isChecked()
        self.new.setVisible(session.may("create_application").allowed)
        Op(self, lambda: apps.overdue(session) if overdue_only else apps.worklist(session)).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        self.rows = rows
        late = sum(1 for r in rows if r["overdue"])
        self.count.setText(f"共 {len(rows)} 件" + (f"，其中 {late} 件已逾期（红色）" if late else "") + "。双击打开办理。")
        self.table.set_rows([(a["name"], a["id_number"], a["year"], a["state_name"], clock.local_date(a["state_since"]),
                              a["due"], "逾期" if a["overdue"] else "") for a in rows],
                            ["#b3261e" if a["overdue"] else None for a in rows])

    def open(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            ApplicationDialog(self.window, self.rows[row]["id"]).exec()
            self.refresh()

    def create(self) -> None:
        member = self.window.household.selected()
        if member is None:
            show_error(self, FieldError("person_id", "请先在“家庭”页选中申请人", "申请人"))
            return
        dialog = NewApplicationDialog(self.window, member)
        if dialog.exec():
            self.refresh()


class NewApplicationDialog(QDialog):
    """登记依申请救助: the year and the household's income as declared."""

    def __init__(self, window, member: dict):
        super().__init__(window)
        self.window = window
        self.member = member
        self.setWindowTitle(f"登记依申请救助 · {member['name']}")
        layout = QVBoxLayout(self)
        self.form = Form(QFormLayout())
        layout.addLayout(self.form.layout)
        self.year = QSpinBox()
        self.year.setRange(2000, clock.today().year)
        self.year.setValue(clock.today().year)
        self.form.add("year", "申请年度", self.year)
        self.income = self.form.add("annual_income", "家庭年度总收入（元）", QLineEdit())
        self.standard = self.form.add("low_income_standard", "农村低收入家庭标准（元）", QLineEdit())
        self.assets = QComboBox()
        self.assets.addItems(["待民政核查", "符合财产核查条件", "不符合"])
        self.form.add("passes_asset_check", "财产核查", self.assets)
        layout.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        self.form.clear_errors()
        check = {0: None, 1: True, 2: False}[self.assets.currentIndex()]
        session, pid, year = self.window.session, self.member["id"], self.year.value()
        income, standard = self.income.text(), self.standard.text()
        Op(self, lambda: apps.create_application(session, pid, year, income, standard, check)).success(
            lambda _: self.accept()).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, FieldError) and self.form.show_error(exc.field, exc.reason):
            return
        show_error(self, exc)


class NoticeView(QWidget):
    """公示名单: names, villages and amounts of the cases on public notice, ID numbers masked."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(styled_label("公示名单 · 医疗救助（依申请）", "title"))
        top.addStretch(1)
        print_button = QPushButton("打印公示名单…")
        print_button.clicked.connect(self.print_list)
        top.addWidget(print_button)
        roster_button = QPushButton("打印发放花名册…")
        roster_button.clicked.connect(self.print_roster)
        top.addWidget(roster_button)
        batch_button = QPushButton("批量打印已批准申请的审批表…")
        batch_button.clicked.connect(self.print_forms)
        top.addWidget(batch_button)
        layout.addLayout(top)
        self.hint = styled_label("", "hint")
        layout.addWidget(self.hint)
        self.table = DataTable(["姓名", "身份证号", "村（居）", "拟救助金额（元）", "公示开始", "公示结束"], "公示名单")
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        session = self.window.session
        Op(self, lambda: apps.notice_list(session)).success(self._show).run()

    def print_list(self) -> None:
        session = self.window.session
        show_document(self, "公示名单", lambda path: paperwork.notice_list(session, path))

    def print_forms(self) -> None:
        session = self.window.session
        show_document(self, "审批表（批量）", lambda path: paperwork.approval_forms_batch(session, path))

    def print_roster(self) -> None:
        session = self.window.session
        show_document(self, "发放花名册", lambda path: paperwork.roster(session, path))

    def _show(self, rows: list[dict]) -> None:
        self.hint.setText(f"正在公示 {len(rows)} 人。身份证号只显示前 4 位和后 4 位。")
        self.table.set_rows([(a["name"], a["id_number"], a["village"],
                              a["amount"] if a["amount"] is not None else a["amount_note"], a["notice_start"],
                              a["notice_end"]) for a in rows])
