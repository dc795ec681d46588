"""政策测算: pick local values to change (one column per proposal), run the year in the background, read every table and
a chart current beside proposed, export the workbook and the one-page PDF. Nothing here changes a record."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import shown
from app.gui import files
from app.gui.date_field import DateField
from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.services import simulation, statistics
from app.services.simulation import MAX_SCENARIOS, Proposal, Simulation
from app.store import clock

FIXED = 2   # the grid's first columns: 地方参数 and 现行; the proposals follow


class SimulationView(QWidget):
    """The proposals grid above, the results below; the page is offered only to those who may simulate."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.sim: Simulation | None = None
        self.choices: list[simulation.LocalChoice] = []
        self.policy_file: Path | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("政策测算", "title"))
        layout.addWidget(styled_label(
            "用本县已录入的账单，按拟调整的地方参数（或另一政策文件）重新测算全年医疗救助基金支出，与现行并列比较。"
            "测算只读取记录，不改变任何结算。", "hint"))
        bar = QHBoxLayout()
        self.year = QComboBox()
        bar.addWidget(QLabel("年度"))
        bar.addWidget(self.year)
        self.full_year = QCheckBox("本年未过完时按已过天数折算全年")
        bar.addWidget(self.full_year)
        bar.addWidget(QLabel("调整自"))
        self.start = DateField()
        self.start.line.setPlaceholderText("留空：全年")
        self.start.setMaximumWidth(170)
        bar.addWidget(self.start)
        self.policy_button = QPushButton("另选政策文件…")
        self.policy_button.clicked.connect(self.choose_policy)
        bar.addWidget(self.policy_button)
        self.policy_label = QLabel("（按本县现行政策文件）")
        bar.addWidget(self.policy_label)
        bar.addStretch(1)
        layout.addLayout(bar)
        edit = QHBoxLayout()
        self.param = QComboBox()
        self.param.setMinimumWidth(320)
        edit.addWidget(QLabel("地方参数"))
        edit.addWidget(self.param)
        for text, slot in (("添加参数行", self.add_param), ("删去选中行", self.remove_param),
                           ("添加方案列", self.add_column), ("删去最后一列", self.remove_column)):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, slot=slot: slot())
            edit.addWidget(button)
        edit.addStretch(1)
        self.run_button = QPushButton("测算")
        self.run_button.setProperty("primary", True)
        self.run_button.clicked.connect(self.compute)
        edit.addWidget(self.run_button)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.clicked.connect(self.export)
        self.pdf_button = QPushButton("一页摘要 PDF…")
        self.pdf_button.clicked.connect(self.print_summary)
        for b in (self.export_button, self.pdf_button):
            b.setEnabled(False)
            edit.addWidget(b)
        layout.addLayout(edit)
        self.grid = QTableWidget(0, FIXED + 1)
        self.grid.verticalHeader().setVisible(False)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.grid.horizontalHeader().setMinimumSectionSize(90)
        self.grid.setMaximumHeight(150)
        self._headers()
        layout.addWidget(self.grid)
        self.summary = styled_label("", "hint")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

    def refresh(self) -> None:
        if self.year.count():
            return
        session = self.window.session
        Op(self, lambda: (statistics.years(session), simulation.local_choices(session))).success(
            lambda r: self._loaded(*r)).run()

    def _loaded(self, years: list[int], choices: list[simulation.LocalChoice]) -> None:
        self.year.clear()
        for y in years or [clock.today().year]:
            self.year.addItem(f"{y} 年", y)
        self.choices = choices
        self.param.clear()
        for c in choices:
            self.param.addItem(f"{c.label}（{c.unit}）", c.key)

    def _headers(self) -> None:
        names = ["地方参数", simulation.CURRENT] + [f"方案{k}" for k in range(1, self.grid.columnCount() - FIXED + 1)]
        self.grid.setHorizontalHeaderLabels(names)

    def add_param(self, key: str | None = None) -> None:
        key = key or self.param.currentData()
        choice = next((c for c in self.choices if c.key == key), None)
        if choice is None or any(self.grid.item(r, 0).data(Qt.ItemDataRole.UserRole) == key
                                 for r in range(self.grid.rowCount())):
            return
        r = self.grid.rowCount()
        self.grid.insertRow(r)
        for c, text in enumerate((f"{choice.label}（{choice.unit}）", choice.current)):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(choice.note)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.grid.setItem(r, c, item)
        for c in range(FIXED, self.grid.columnCount()):
            self.grid.setItem(r, c, QTableWidgetItem(""))

    def remove_param(self) -> None:
        for r in sorted({i.row() for i in self.grid.selectedIndexes()}, reverse=True):
            self.grid.removeRow(r)

    def add_column(self) -> None:
        if self.grid.columnCount() - FIXED >= MAX_SCENARIOS:
            self.window.statusBar().showMessage(f"最多并列 {MAX_SCENARIOS} 个方案", 5000)
            return
        c = self.grid.columnCount()
        self.grid.insertColumn(c)
        for r in range(self.grid.rowCount()):
            self.grid.setItem(r, c, QTableWidgetItem(""))
        self._headers()

    def remove_column(self) -> None:
        if self.grid.columnCount() > FIXED + 1:
            self.grid.removeColumn(self.grid.columnCount() - 1)

    def choose_policy(self) -> None:
        path = files.open_path(self, "选择拟采用的政策文件", "政策文件 (*.yaml *.yml)")
        self.policy_file = Path(path) if path else None
        self.policy_label.setText(f"各方案按 {self.policy_file.name}" if self.policy_file else "（按本县现行政策文件）")

    def proposals(self) -> list[Proposal]:
        """One proposal per column: the values typed in it (an empty cell keeps today's value)."""
        out = []
        for c in range(FIXED, self.grid.columnCount()):
            local = {}
            for r in range(self.grid.rowCount()):
                text = (self.grid.item(r, c).text() if self.grid.item(r, c) else "").strip()
                if text:
                    local[self.grid.item(r, 0).data(Qt.ItemDataRole.UserRole)] = text
            out.append(Proposal(self.grid.horizontalHeaderItem(c).text(), local, self.policy_file))
        return out

    def compute(self) -> None:
        session, year = self.window.session, self.year.currentData()
        if year is None:
            return
        proposals, start, full = self.proposals(), self.start.text().strip() or None, self.full_year.isChecked()
        Op(self, lambda: simulation.simulate(session, year, proposals, start, full)).with_progress(
            f"正在测算 {year} 年…").success(self._done).run()

    def _done(self, last) -> None:
        if not last or last[2] is None:
            self.window.statusBar().showMessage("测算已取消", 5000)
            return
        self.show_result(last[2])

    def show_result(self, sim: Simulation) -> None:
        self.sim = sim
        fund = sim.tables.fund
        said = "；".join(f"{name} {shown(fund[k])} 元" + (f"（增减 {shown(fund[k] - fund[0])}）" if k else "")
                        for k, (name, _) in enumerate(sim.scenarios))
        self.summary.setText("\n".join([f"医疗救助基金支出：{said}", *sim.heading()]))
        self.tabs.clear()
        for k, table in enumerate(sim.tables.all()):
            view = DataTable(table.headers, f"政策测算_{table.title}")
            view.set_rows(table.rows)
            # Columns side by side at their own widths: a stretched last column made one proposal look apart.
            view.horizontalHeader().setStretchLastSection(False)
            if k == 0:
                # The table gets most of the width: with three proposals its seven value columns need it.
                split = QSplitter(Qt.Orientation.Horizontal)
                split.addWidget(view)
                split.addWidget(self._chart(sim))
                split.setSizes([700, 380])
                self.tabs.addTab(split, table.title)
            else:
                self.tabs.addTab(view, table.title)
        for b in (self.export_button, self.pdf_button):
            b.setEnabled(True)

    @staticmethod
    def _chart(sim: Simulation) -> QChartView:
        # Drawing values only (万元); the tables and the exports carry the exact fen.
        series = QBarSeries()
        for label, values in sim.tables.fund_series():
            bars = QBarSet(label)
            for v in values:
                bars.append(float(v / 10000))
            series.append(bars)
        series.setLabelsVisible(True)
        series.setLabelsFormat("@value")
        series.setLabelsPrecision(4)
        chart = QChart()
        chart.addSeries(series)
        chart.setTitle("医疗救助基金支出（万元）")
        axis = QBarCategoryAxis()
        axis.append([name for name, _ in sim.scenarios])
        chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis)
        values = QValueAxis()
        values.setLabelFormat("%.1f")
        values.setMin(0)
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(values)
        values.applyNiceNumbers()  # ticks at round amounts (0, 10, 20 … 万元), not at fifths of the tallest bar
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        view = QChartView(chart)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        return view

    def _name(self, suffix: str) -> str:
        return f"政策测算_{self.sim.place}_{self.sim.period}{suffix}"

    def export(self) -> None:
        self._save("导出 Excel", ".xlsx", "Excel 工作簿 (*.xlsx)", _export)

    def print_summary(self) -> None:
        self._save("一页摘要 PDF", ".pdf", "PDF 文件 (*.pdf)", _pdf)

    def _save(self, title: str, suffix: str, filters: str, write) -> None:
        if self.sim is None:
            return
        path = files.save_path(self, title, self._name(suffix), filters)
        if path:
            sim = self.sim
            Op(self, lambda: write(sim, path)).success(
                lambda _: self.window.statusBar().showMessage(f"已写入 {path}", 10000)).run()


def _export(sim: Simulation, path: str):
    # XlsxWriter is loaded on the first export, not at the app's start.
    from app.services.simulation_xlsx import export_simulation

    return export_simulation(sim, path)


def _pdf(sim: Simulation, path: str):
    from app.documents.simulation_pdf import simulation_summary

    return simulation_summary(path, sim)
