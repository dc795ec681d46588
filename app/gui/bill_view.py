"""账单录入: the slip's figures, a live preview of the three tiers, and “为什么是这个数” with the clauses."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import MoneyError, parse_money, shown
from app.domain.names import HOSPITAL_LEVELS, VISIT_KINDS
from app.documents.plain import plain_explanation
from app.gui.date_field import DateField
from app.gui.forms import Form, styled_label
from app.gui.ops import Op, show_error
from app.gui.pdf_preview import show_document
from app.services import bills, paperwork, registry
from app.store import clock
from app.domain.errors import FieldError

TIER_LABELS = (("basic_paid", "基本医保"), ("serious_illness_paid", "大病保险"), ("assistance_paid", "医疗救助"),
               ("tilt_assistance_paid", "倾斜救助"))


class BillView(QWidget):
    """Bill entry for one person; Enter saves, Esc clears."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.person_id: str | None = None
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.title = styled_label("账单录入", "title")
        left.addWidget(self.title)
        self.who = styled_label("请先在“家庭”页选中一位成员", "hint")
        left.addWidget(self.who)
        box = QGroupBox("医院一站式结算单")
        self.form = Form(QFormLayout(box))
        self.hospital = self.form.add("hospital", "医院", QComboBox())
        self.hospital.setEditable(True)
        self.hospital.addItems(["南陵县医院", "南陵县中医院", "芜湖市第一人民医院", "安徽省立医院"])
        self.level = self.form.add("hospital_level", "医院级别", QComboBox())
        self.level.addItems(HOSPITAL_LEVELS)
        self.level.setCurrentText("县级")
        self.kind = self.form.add("kind", "就诊类别", QComboBox())
        self.kind.addItems(VISIT_KINDS)
        self.admitted = self.form.add("admitted_on", "入院（就诊）日期", self._date())
        self.discharged = self.form.add("discharged_on", "出院（结算）日期", self._date())
        self.total = self.form.add("total_cost", "医疗费用总额（元）", QLineEdit())
        self.covered = self.form.add("policy_covered", "政策范围内费用（元）", QLineEdit())
        self.basic = self.form.add("basic_paid", "基本医保统筹支付（元）", QLineEdit(), "结算单有则填；空着由政策测算")
        self.serious = self.form.add("serious_illness_paid", "大病保险支付（元）", QLineEdit(), "同上")
        self.invoice = self.form.add("invoice_number", "发票号", QLineEdit())
        flags = QHBoxLayout()
        self.referred = QCheckBox("规范转诊")
        self.in_province = QCheckBox("省内就医")
        self.in_province.setChecked(True)
        self.major = QCheckBox("重特大疾病病种")
        for c in (self.referred, self.in_province, self.major):
            flags.addWidget(c)
        self.form.layout.addRow("", _wrap(flags))
        # Where the patient was treated decides whether 救助 pays at all (芜医保〔2021〕76号 二(二)5).
        where = QHBoxLayout()
        self.in_insured_area = QCheckBox("在参保地就医")
        self.in_insured_area.setToolTip("在参保地（统筹地区）的定点医疗机构就医；到外地就医的取消勾选")
        self.emergency = QCheckBox("急诊、抢救")
        self.filed_remote = QCheckBox("已办异地就医备案")
        for c in (self.in_insured_area, self.emergency, self.filed_remote):
            where.addWidget(c)
        self.form.layout.addRow("", _wrap(where))
        left.addWidget(box)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("保存（回车）")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.save)
        self.save_button.setVisible(window.session.may("record_bill").allowed)
        clear = QPushButton("清空（Esc）")
        clear.clicked.connect(self.clear)
        self.print_button = QPushButton("打印刚保存的结算单…")
        self.print_button.setEnabled(False)
        self.print_button.clicked.connect(self.print_slip)
        buttons.addWidget(self.save_button)
        buttons.addWidget(clear)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        left.addStretch(1)
        outer.addLayout(left, 5)
        right = QVBoxLayout()
        preview = QGroupBox("三重制度测算（随输入即时更新）")
        pv = QVBoxLayout(preview)
        self.tiers = QLabel("")
        self.tiers.setTextFormat(Qt.TextFormat.RichText)
        pv.addWidget(self.tiers)
        self.duplicate = QLabel("")
        self.duplicate.setProperty("role", "error")
        self.duplicate.setWordWrap(True)
        pv.addWidget(self.duplicate)
        right.addWidget(preview)
        why = QGroupBox("为什么是这个数")
        wl = QVBoxLayout(why)
        self.steps = QTextBrowser()
        wl.addWidget(self.steps)
        right.addWidget(why, 2)
        year = QGroupBox("本年累计及年度限额")
        yl = QVBoxLayout(year)
        self.year = QLabel("")
        self.year.setTextFormat(Qt.TextFormat.RichText)
        self.year.setWordWrap(True)
        yl.addWidget(self.year)
        right.addWidget(year, 1)
        outer.addLayout(right, 6)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.preview)
        for w in (self.total, self.covered, self.basic, self.serious, self.invoice):
            w.textChanged.connect(lambda _: self.timer.start())
            w.returnPressed.connect(self.save)
        for w in (self.hospital, self.level, self.kind):
            w.currentTextChanged.connect(lambda _: self.timer.start())
        for w in (self.admitted, self.discharged):
            w.changed.connect(self.timer.start)
        for w in self._flags():
            w.toggled.connect(lambda _: self.timer.start())
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.clear)
        self._generation = 0
        self.clear()

    @staticmethod
    def _date() -> DateField:
        return DateField(clock.today())

    def set_person(self, person_id: str) -> None:
        self.person_id = person_id
        session = self.window.session
        Op(self, lambda: registry.person(session, person_id)).success(self._show_person).run()

    def _show_person(self, p: dict) -> None:
        self.who.setText(f"{p['name']}　{p['id_number']}　{p['address']}")
        self.total.setFocus()
        self.timer.start()

    def bill(self) -> bills.BillInput:
        return bills.BillInput(
            hospital=self.hospital.currentText(), admitted_on=self.admitted.text(),
            discharged_on=self.discharged.text(), kind=self.kind.currentText(),
            total_cost=self.total.text().strip(), policy_covered=self.covered.text().strip(),
            invoice_number=self.invoice.text().strip(), hospital_level=self.level.currentText(),
            basic_paid=self.basic.text().strip() or None, serious_illness_paid=self.serious.text().strip() or None,
            referred=self.referred.isChecked(), in_province=self.in_province.isChecked(),
            major_disease=self.major.isChecked(), emergency=self.emergency.isChecked(),
            in_insured_area=self.in_insured_area.isChecked(), filed_remote=self.filed_remote.isChecked())

    def _flags(self) -> tuple[QCheckBox, ...]:
        """The slip's yes/no boxes, in form order."""
        return (self.referred, self.in_province, self.major, self.in_insured_area, self.emergency, self.filed_remote)

    def preview(self) -> None:
        if self.person_id is None:
            return
        self._generation += 1
        generation = self._generation
        session, pid, bill = self.window.session, self.person_id, self.bill()
        Op(self, lambda: bills.preview_bill(session, pid, bill)).success(
            lambda r: self._show_preview(generation, r)).failure(lambda e: self._preview_failed(generation, e)).run()

    def _preview_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        if isinstance(exc, FieldError):
            self.tiers.setText(f"<span style='color:#5f6b7a'>尚不能测算：{escape(str(exc))}</span>")
            self.steps.clear()
            self.duplicate.setText("")
            return
        show_error(self, exc)

    def _show_preview(self, generation: int, r: dict) -> None:
        if generation != self._generation:
            return
        rows = "".join(f"<tr><td>{label}</td><td align='right'><b>{shown(r['amounts'][key])}</b></td></tr>"
                       for key, label in TIER_LABELS)
        rows += f"<tr><td>个人自付</td><td align='right'><b>{shown(r['personal_pay'])}</b></td></tr>"
        self.tiers.setText(f"<p>适用类别：<b>{escape(r['applied_category'])}</b></p>"
                           f"<table cellspacing='6' style='font-size:12pt'>{rows}</table>")
        self.duplicate.setText(r["duplicate"] or "")
        html = []
        try:  # the family's layer first, in plain words, then the formulas with their clauses
            figures = {**r["amounts"], "personal_pay": r["personal_pay"],
                       "personal_pay_parts": r["personal_pay_parts"],
                       "total_cost": parse_money(self.total.text(), "total_cost"),
                       "policy_covered": parse_money(self.covered.text(), "policy_covered")}
            html.append(f"<p style='font-size:11pt'>{escape(plain_explanation(figures, 1, self.kind.currentText()))}</p>")
        except MoneyError:
            pass
        for s in r["steps"]:
            html.append(f"<p><b>{escape(s['tier'])} {escape(s['amount'])} 元</b><br/>{escape(s['explain'])}<br/>"
                        f"<span style='color:#5f6b7a'>依据：{escape(s['reference'])}</span></p>")
        for w in r["warnings"]:
            html.append(f"<p style='color:#b3261e'>{escape(w['message'])}</p>")
        self.steps.setHtml("".join(html))
        totals = r["year_totals"]
        lines = [f"本年（含本次）基本医保 {shown(totals['basic_paid'])}，"
                 f"大病保险 {shown(totals['serious_illness_paid'])}，"
                 f"医疗救助 {shown(totals['assistance_paid'])}，倾斜救助 {shown(totals['tilt_assistance_paid'])}，"
                 f"个人自付 {shown(totals['personal_pay'])}"]
        for limit in r["limits"]:
            left = ("不设限额" if limit["limit"] is None
                    else f"年度限额 {shown(limit['limit'])}，剩余 <b>{shown(limit['left'])}</b>")
            lines.append(f"{escape(limit['name'])}：已用 {shown(limit['used'])}，{left}")
        self.year.setText("<br/>".join(lines))

    def save(self) -> None:
        if self.person_id is None:
            return
        self.form.clear_errors()
        session, pid, bill = self.window.session, self.person_id, self.bill()
        Op(self, lambda: bills.record_bill(session, pid, bill)).success(self._saved).failure(self._failed).run()

    def _saved(self, row: dict) -> None:
        self.last_visit = row["visit_id"]
        self.print_button.setEnabled(True)
        self.window.statusBar().showMessage(
            f"已保存：医疗救助 {shown(row['assistance_paid'])} 元，倾斜救助 {shown(row['tilt_assistance_paid'])} 元，"
            f"个人自付 {shown(row['personal_pay'])} 元", 8000)
        self.clear()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, FieldError) and self.form.show_error(exc.field, exc.reason):
            return
        show_error(self, exc)

    def print_slip(self) -> None:
        session, visit_id = self.window.session, self.last_visit
        show_document(self, "一站式结算单", lambda path: paperwork.settlement_slip(session, path, visit_id=visit_id))

    def clear(self) -> None:
        for w in (self.total, self.covered, self.basic, self.serious, self.invoice):
            w.clear()
        self.referred.setChecked(False)
        self.major.setChecked(False)
        # Each bill starts from the default reading (参保地, not 急诊): a previous bill's 外地 is not carried over.
        self.in_insured_area.setChecked(True)
        self.emergency.setChecked(False)
        self.filed_remote.setChecked(False)
        self.form.clear_errors()
        # A preview still running was of the form as it was: once the bill is saved it would count it twice (the
        # saved bill and the same figures as a draft), as the walk's 本年累计 line showed; it is dropped.
        self._generation += 1
        self.tiers.setText("")
        self.steps.clear()
        self.duplicate.setText("")
        self.year.setText("")
        self.total.setFocus()


def _wrap(layout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w
