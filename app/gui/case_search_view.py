"""依申请查询: find any case (any state, any year) by name, ID number or initials, and open its full history."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.gui.workflow_view import ApplicationDialog
from app.services import case_search
from app.store import clock
from app.workflow import rules


class CaseSearchView(QWidget):
    """Typing searches after a pause; the state and year narrow it; double-click opens the case's page."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("依申请查询 · 所有环节、所有年度", "title"))
        bar = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText("姓名、身份证号或拼音首字母（如 zs）")
        self.query.setClearButtonEnabled(True)
        bar.addWidget(self.query, 2)
        bar.addWidget(QLabel("环节"))
        self.state = QComboBox()
        self.state.addItem("全部", None)
        for key, name in rules.STATE_NAMES.items():
            self.state.addItem(name, key)
        bar.addWidget(self.state)
        bar.addWidget(QLabel("年度"))
        self.year = QComboBox()
        self.year.addItem("全部", None)
        bar.addWidget(self.year)
        layout.addLayout(bar)
        self.count = styled_label("", "hint")
        layout.addWidget(self.count)
        self.table = DataTable(["申请人", "身份证号", "年度", "所在环节", "批准金额（元）", "最后办理"], "依申请查询")
        self.table.activated_record.connect(self.open)
        layout.addWidget(self.table, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _: self.timer.start())
        self.state.currentIndexChanged.connect(lambda _: self.run_search())
        self.year.currentIndexChanged.connect(lambda _: self.run_search())
        self.rows: list[dict] = []

    def refresh(self) -> None:
        session = self.window.session
        Op(self, lambda: case_search.case_years(session)).success(self._years).run()

    def _years(self, years: list[int]) -> None:
        chosen = self.year.currentData()
        self.year.blockSignals(True)
        self.year.clear()
        self.year.addItem("全部", None)
        for y in years:
            self.year.addItem(f"{y} 年", y)
        self.year.setCurrentIndex(max(self.year.findData(chosen), 0))
        self.year.blockSignals(False)
        self.run_search()

    def run_search(self) -> None:
        session, query = self.window.session, self.query.text()
        state, year = self.state.currentData(), self.year.currentData()
        Op(self, lambda: case_search.search_cases(session, query, state, year)).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        self.rows = rows
        more = "（只显示最近办理的前 500 件，请输入姓名或身份证号缩小范围）" if len(rows) >= case_search.LIMIT else ""
        self.count.setText(f"找到 {len(rows)} 件{more}。双击查看办理经过、附件和文书。")
        self.table.set_rows([(r["name"], r["id_number"], r["year"], r["state_name"],
                              Decimal(r["approved_amount"]) if r["approved_amount"] else None,
                              clock.local_time(r["updated_at"]).strftime("%Y-%m-%d %H:%M")) for r in rows])

    def open(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            ApplicationDialog(self.window, self.rows[index]["id"]).exec()
            self.run_search()
