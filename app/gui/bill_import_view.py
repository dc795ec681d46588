"""结算清单导入: a hospital's or the 医保 system's settlement list, each row ready or refused, then recorded at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.gui import files
from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.services import bill_import
from app.services.identity_import import rejected_report

SHOWN = 1000  # ready rows listed; the summary counts them all
HEADERS = ["原表行号", "结果", "姓名", "医院", "出院（结算）日期", "发票号", "医疗费用总额", "政策范围内费用", "说明"]


class BillImportView(QWidget):
    """Preview first (nothing written), then 导入 records every ready row in one transaction."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.result: bill_import.BillImport | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("结算清单导入（医院、医保系统一站式结算）", "title"))
        bar = QHBoxLayout()
        choose = QPushButton("选择结算清单（.xlsx / .csv）…")
        choose.clicked.connect(self.choose)
        bar.addWidget(choose)
        self.apply_button = QPushButton("导入可导入的账单")
        self.apply_button.setProperty("primary", True)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        bar.addWidget(self.apply_button)
        self.report_button = QPushButton("导出不能导入的行…")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.report)
        bar.addWidget(self.report_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = styled_label("比对只读取清单，不作任何修改；已登记过的账单自动跳过，重复导入不会重复报销。", "hint")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = DataTable(HEADERS, "结算清单导入", sortable=False)
        layout.addWidget(self.table, 1)

    def choose(self) -> None:
        path = files.open_path(self, "选择结算清单", "结算清单 (*.xlsx *.csv);;所有文件 (*)")
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> None:
        session = self.window.session
        Op(self, lambda: bill_import.import_bills(session, path)).with_progress("正在读取和比对结算清单…").success(
            self._show).run()

    def _show(self, result: bill_import.BillImport) -> None:
        self.result = result
        rows = [(str(r.line), "不能导入", r.name, "", "", "", "", "", f"{r.reason}　原行：{' | '.join(v for v in r.values if v)}")
                for r in result.rejected]
        rows += [("", "可导入", result.names.get(b["person_id"], ""), b["hospital"], b["discharged_on"], b["invoice_number"], b["total_cost"],
                  b["policy_covered"], "") for b in result.ready[:SHOWN]]
        self.table.set_rows(rows, ["#b3261e"] * len(result.rejected) + ["#1e6b34"] * (len(rows) - len(result.rejected)))
        # A refusal is read whole: its row grows to the wrapped reason and the original row (it was cut at the
        # column's edge, so the caseworker saw neither how to fix it nor whose row it was).
        for r in range(len(result.rejected)):
            self.table.item(r, len(HEADERS) - 1).setToolTip(rows[r][-1])
            self.table.resizeRowToContents(r)
        more = f"（只列出前 {SHOWN} 张）" if len(result.ready) > SHOWN else ""
        self.summary.setText(f"{result.path.name}：可导入 {len(result.ready)} 张{more}，已登记过（跳过）{result.already} 张，"
                             f"不能导入 {len(result.rejected)} 行（原因见“说明”）。未作任何修改。")
        self.apply_button.setEnabled(bool(result.ready))
        self.report_button.setEnabled(bool(result.rejected))

    def apply(self) -> None:
        session, result = self.window.session, self.result
        Op(self, lambda: bill_import.apply(session, result)).with_progress("正在导入并结算…").success(self._applied).run()

    def _applied(self, count: int) -> None:
        self.window.statusBar().showMessage(f"已导入 {count} 张账单并结算（一次保存，均记入审计日志）", 15000)
        self.load(self.result.path)

    def report(self) -> None:
        target = files.save_path(self, "导出不能导入的行", f"{self.result.path.stem}_不能导入.xlsx",
                                                "Excel 工作簿 (*.xlsx)")
        if target:
            result = self.result
            Op(self, lambda: rejected_report(result, Path(target))).success(
                lambda p: self.window.statusBar().showMessage(f"已导出 {p}", 8000)).run()
