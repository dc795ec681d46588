"""The household's bills: a sortable table (voided ones marked), 作废, 更正 and the selected rows to Excel."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.names import HOSPITAL_LEVELS, VISIT_KINDS
from app.gui import files
from app.gui.forms import FormDialog
from app.gui.ops import Op
from app.gui.tables import filling
from app.services import bill_changes, bills, money_xlsx
from app.services.paperwork import place

COLUMNS = (("name", "姓名"), ("year", "年度"), ("hospital", "医院"), ("admitted_on", "入院"), ("discharged_on", "出院（结算）"),
           ("invoice_number", "发票号"), ("total_cost", "总额"), ("basic_paid", "基本医保"),
           ("serious_illness_paid", "大病保险"), ("assistance_paid", "医疗救助"), ("tilt_assistance_paid", "倾斜救助"),
           ("personal_pay", "个人自付"), ("status_name", "状态"))
_NUMBERS = {"year", "total_cost", "basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid",
            "personal_pay"}


class _Number(QTableWidgetItem):
    """A cell that sorts by its amount, not its text."""

    def __init__(self, value) -> None:
        super().__init__("" if value in (None, "") else str(value))
        self.value = Decimal(str(value)) if value not in (None, "") else Decimal(-1)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < other.value if isinstance(other, _Number) else super().__lt__(other)


class BillsPanel(QWidget):
    """Bills of the household; `changed` after a void or correction (the page refreshes what it shows)."""

    changed = Signal()

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.rows: list[dict] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([h for _, h in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        layout.addWidget(self.table)
        bar = QHBoxLayout()
        may = window.session.may("correct_bill").allowed
        for text, slot, shown in (("作废所选账单…", self.void, may), ("更正所选账单…", self.correct, may),
                                  ("所选账单导出 Excel…", self.export, True)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            b.setVisible(shown)
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)

    def show_household(self, household_id: str) -> None:
        session = self.window.session
        Op(self, lambda: bill_changes.household_bills(session, household_id)).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        self.rows = rows
        with filling(self.table):
            self.table.setRowCount(len(rows))
            for r, b in enumerate(rows):
                for c, (key, _) in enumerate(COLUMNS):
                    item = _Number(b[key]) if key in _NUMBERS else QTableWidgetItem(str(b[key] or ""))
                    item.setData(Qt.ItemDataRole.UserRole, r)
                    if b["status"] == "void":
                        item.setForeground(QColor("#8a8f98"))
                        item.setToolTip(f"已作废：{b['void_reason']}（{b['voided_by']}）")
                    self.table.setItem(r, c, item)

    def selected(self) -> list[dict]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.rows[self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)] for r in rows]

    def _one_live(self) -> dict | None:
        chosen = self.selected()
        if len(chosen) != 1 or chosen[0]["status"] != "live":
            QMessageBox.information(self, "账单", "请选中一张有效（未作废）的账单")
            return None
        return chosen[0]

    def void(self) -> None:
        b = self._one_live()
        if b is None:
            return
        reason, ok = QInputDialog.getText(
            self, "作废账单", f"作废 {b['name']} 的账单（{b['hospital']} 发票号 {b['invoice_number']}）。\n"
                              "作废后该年度重新结算；已发放的金额生成追回。\n作废原因：")
        if not ok:
            return
        session = self.window.session
        Op(self, lambda: bill_changes.void_bill(session, b["id"], reason)).success(
            lambda c: self._done(f"已作废；重新结算后未支付金额更新 {c.unpaid} 项，补付/追回 {c.adjustments} 笔")).run()

    def correct(self) -> None:
        b = self._one_live()
        if b is not None and CorrectDialog(self.window, b).exec():
            self._done("已更正：原账单作废，更正后的账单已结算")

    def _done(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)
        self.changed.emit()

    def export(self) -> None:
        chosen = self.selected() or self.rows
        if not chosen:
            return
        path = files.save_path(self, "导出账单", "账单.xlsx", "Excel 工作簿 (*.xlsx)")
        if path:
            session = self.window.session
            Op(self, lambda: money_xlsx.export_bills(chosen, path, place(session))).success(
                lambda p: self.window.statusBar().showMessage(f"已导出 {len(chosen)} 张账单到 {p}", 8000)).run()


class CorrectDialog(FormDialog):
    """更正: the bill's figures to fix, and the reason; saving voids the old bill and records this one."""

    def __init__(self, window, old: dict):
        super().__init__(window, f"更正账单 · {old['name']}")
        self.old = old
        self.fields = {}
        for key, label in (("hospital", "医院"), ("invoice_number", "发票号"), ("total_cost", "医疗费用总额（元）"),
                           ("policy_covered", "政策范围内费用（元）"), ("basic_paid", "基本医保统筹支付（元）"),
                           ("serious_illness_paid", "大病保险支付（元）")):
            # The slip's own basic and 大病 figures as entered (empty where the engine computed them).
            value = old[f"slip_{key}"] if key in ("basic_paid", "serious_illness_paid") else old[key]
            self.fields[key] = self.form.add(key, label, QLineEdit(value or ""))
        self.level = self.form.add("hospital_level", "医院级别", QComboBox())
        self.level.addItems(HOSPITAL_LEVELS)
        self.level.setCurrentText(old["hospital_level"] or "县级")
        self.kind = self.form.add("kind", "就诊类别", QComboBox())
        self.kind.addItems(VISIT_KINDS)
        self.kind.setCurrentText(old["kind"])
        self.admitted = self.form.add("admitted_on", "入院（就诊）日期", _date(old["admitted_on"]))
        self.discharged = self.form.add("discharged_on", "出院（结算）日期", _date(old["discharged_on"]))
        self.reason = self.form.add("void_reason", "更正原因", QLineEdit(), "必填：原账单作废时记下这个原因")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("作废原账单并保存更正")
        self.finish_layout()

    def save(self) -> None:
        f = {k: w.text().strip() for k, w in self.fields.items()}
        new = bills.BillInput(hospital=f["hospital"], admitted_on=self.admitted.date().toPython(),
                              discharged_on=self.discharged.date().toPython(), kind=self.kind.currentText(),
                              total_cost=f["total_cost"], policy_covered=f["policy_covered"],
                              invoice_number=f["invoice_number"], hospital_level=self.level.currentText(),
                              basic_paid=f["basic_paid"] or None, serious_illness_paid=f["serious_illness_paid"] or None)
        session, old_id, reason = self.window.session, self.old["id"], self.reason.text()
        self.submit(lambda: bill_changes.correct_bill(session, old_id, new, reason))


def _date(text: str) -> QDateEdit:
    from datetime import date

    d = QDateEdit(date.fromisoformat(text))
    d.setCalendarPopup(True)
    d.setDisplayFormat("yyyy-MM-dd")
    return d
