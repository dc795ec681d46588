"""补付追回与发放: a year's 补付/追回 lines, the 发放 batches, drawing up a batch (roster) and confirming it paid."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui import files
from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.pdf_preview import show_document
from app.gui.tables import filling
from app.services import disbursement, money_xlsx
from app.services.paperwork import place
from app.store import clock
from app.domain.refs import short_ref

LINE_COLUMNS = (("name", "姓名"), ("hospital", "医院"), ("invoice_number", "发票号"), ("tier_name", "项目"),
                ("line_type", "类型"), ("old_amount", "原金额"), ("new_amount", "新金额"), ("amount", "差额"),
                ("state_name", "状态"), ("reason", "原因"))
BATCH_COLUMNS = (("short", "批次"), ("title", "名称"), ("line_count", "笔数"), ("total", "合计（元）"),
                 ("state_name", "状态"), ("created_by", "制表人"), ("confirmed_by", "确认发放人"), ("confirmed", "确认时间"),
                 ("cancelled", "撤销"))


def _table(columns: tuple) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels([h for _, h in columns])
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.setSortingEnabled(True)
    return t


def _fill(table: QTableWidget, columns: tuple, rows: list[dict]) -> None:
    with filling(table):
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (key, _) in enumerate(columns):
                item = QTableWidgetItem(str(row.get(key) if row.get(key) is not None else ""))
                item.setToolTip(item.text() if len(item.text()) > 16 else "")  # a long 原因 is cut at the edge
                table.setItem(r, c, item)


def _when(stamp: str | None) -> str:
    return clock.local_time(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


class MoneyView(QWidget):
    """The office's payments of a year: what was adjusted, what each batch paid, and the next batch."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.lines: list[dict] = []
        self.batches: list[dict] = []
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("补付追回与发放", "title"))
        layout.addWidget(styled_label("已发放的金额不改动：重新结算、账单作废或更正、身份类别变化产生的差额逐笔列为补付或追回，"
                                      "随下一个发放批次办理。", "hint"))
        top = QHBoxLayout()
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(clock.today().year - 1)
        self.year.setPrefix("年度 ")
        self.year.valueChanged.connect(lambda _: self.refresh())
        top.addWidget(self.year)
        session = window.session
        for text, slot, action in (("导出补付追回 Excel…", self.export, "print"),
                                   ("生成发放批次并打印花名册…", self.create_batch, "disburse_batch"),
                                   ("打印所选批次花名册…", self.print_batch, "print"),
                                   ("打印所选批次结算单…", self.print_slips, "print"),
                                   ("确认所选批次已发放", self.confirm_batch, "confirm_disbursement"),
                                   ("撤销所选批次…", self.cancel_batch, "cancel_disbursement")):
            b = QPushButton(text)
            b.clicked.connect(slot)
            b.setVisible(session.may(action).allowed)
            top.addWidget(b)
        top.addStretch(1)
        layout.addLayout(top)
        self.lines_table = _table(LINE_COLUMNS)
        layout.addWidget(self.lines_table, 3)
        layout.addWidget(styled_label("发放批次", "hint"))
        self.batch_table = _table(BATCH_COLUMNS)
        layout.addWidget(self.batch_table, 2)

    def refresh(self) -> None:
        session, year = self.window.session, self.year.value()
        Op(self, lambda: (disbursement.adjustments(session, year), disbursement.batches(session, year))).success(
            self._show).run()

    def _show(self, result: tuple[list[dict], list[dict]]) -> None:
        self.lines, self.batches = result
        _fill(self.lines_table, LINE_COLUMNS, self.lines)
        shown = [{**b, "short": short_ref(b["id"]), "confirmed": _when(b["confirmed_at"]),
                  "cancelled": f"{_when(b['cancelled_at'])} {b['cancelled_by']}：{b['cancel_reason']}"
                  if b["cancelled_at"] else ""} for b in self.batches]
        _fill(self.batch_table, BATCH_COLUMNS, shown)

    def _batch(self) -> dict | None:
        row = self.batch_table.currentRow()
        if row < 0:
            QMessageBox.information(self, "发放批次", "请先在下方选中一个发放批次")
            return None
        short = self.batch_table.item(row, 0).text()
        return next(b for b in self.batches if short_ref(b["id"]) == short)

    def export(self) -> None:
        path = files.save_path(self, "导出补付追回", f"{self.year.value()}年补付追回.xlsx",
                                              "Excel 工作簿 (*.xlsx)")
        if path:
            session, rows, year = self.window.session, self.lines, self.year.value()
            Op(self, lambda: money_xlsx.export_adjustments(rows, path, place(session), year)).success(
                lambda p: self.window.statusBar().showMessage(f"已导出 {len(rows)} 笔到 {p}", 8000)).run()

    def create_batch(self) -> None:
        session, year = self.window.session, self.year.value()
        Op(self, lambda: disbursement.create_batch(session, year)).success(self._created).run()

    def _created(self, batch: dict) -> None:
        self.refresh()
        self._print(batch)

    def print_batch(self) -> None:
        batch = self._batch()
        if batch is not None:
            self._print(batch)

    def _print(self, batch: dict) -> None:
        session = self.window.session
        show_document(self, f"发放花名册 {short_ref(batch['id'])}",
                      lambda path: disbursement.roster_pdf(session, batch["id"], path))

    def print_slips(self) -> None:
        batch = self._batch()
        if batch is not None:
            session = self.window.session
            show_document(self, f"结算单 批次 {short_ref(batch['id'])}",
                          lambda path: disbursement.slips_pdf(session, batch["id"], path))

    def confirm_batch(self) -> None:
        batch = self._batch()
        if batch is None:
            return
        sure = QMessageBox.question(self, "确认发放", f"确认批次 {short_ref(batch['id'])}（{batch['line_count']} 笔，"
                                                  f"合计 {batch['total']} 元）已经发放？确认后不能更改。")
        if sure == QMessageBox.StandardButton.Yes:
            session = self.window.session
            Op(self, lambda: disbursement.confirm_batch(session, batch["id"])).success(lambda _: self.refresh()).run()

    def cancel_batch(self) -> None:
        batch = self._batch()
        if batch is None:
            return
        reason, ok = QInputDialog.getText(
            self, "撤销发放批次", f"撤销批次 {short_ref(batch['id'])}（{batch['line_count']} 笔，合计 {batch['total']} 元）。\n"
                            f"撤销后{disbursement.CANCEL_MEANS}。\n\n撤销原因：")
        if ok:
            session = self.window.session
            Op(self, lambda: disbursement.cancel_batch(session, batch["id"], reason)).success(
                lambda b: (self.refresh(), self.window.statusBar().showMessage(
                    f"发放批次 {short_ref(b['id'])} 已撤销", 8000))).run()
