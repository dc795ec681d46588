"""统计: counts and amounts by category, township and month, with charts and export to Excel."""

from __future__ import annotations

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QValueAxis,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import shown
from app.gui.forms import styled_label
from app.gui import files
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.services import statistics
from app.services.application_statistics import ApplicationPayments, application_payments
from app.store import clock

class StatisticsView(QWidget):
    """Choose a year and months, compute in the background, show each breakdown as a table and a chart."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.stats: statistics.Statistics | None = None
        layout = QVBoxLayout(self)
        title = styled_label("统计", "title")
        layout.addWidget(title)
        bar = QHBoxLayout()
        self.year = QComboBox()
        bar.addWidget(QLabel("年度"))
        bar.addWidget(self.year)
        self.first = QSpinBox()
        self.first.setRange(1, 12)
        self.last = QSpinBox()
        self.last.setRange(1, 12)
        self.last.setValue(12)
        bar.addWidget(QLabel("月份"))
        bar.addWidget(self.first)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.last)
        run = QPushButton("统计")
        run.setProperty("primary", True)
        run.clicked.connect(self.compute)
        bar.addWidget(run)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(False)
        bar.addWidget(self.export_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = styled_label("", "hint")
        layout.addWidget(self.summary)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

    def refresh(self) -> None:
        if self.year.count():
            return
        session = self.window.session
        Op(self, lambda: statistics.years(session)).success(self._years).run()

    def _years(self, years: list[int]) -> None:
        self.year.clear()
        for y in years or [clock.today().year]:
            self.year.addItem(f"{y} 年", y)
        if years:
            self.compute()

    def compute(self) -> None:
        session, year = self.window.session, self.year.currentData()
        first, last = self.first.value(), max(self.first.value(), self.last.value())
        if year is None:
            return
        Op(self, lambda: (statistics.year_statistics(session, year, first, last),
                          application_payments(session, year, first, last))).with_progress(
            "正在统计…").success(lambda r: self._show(*r)).run()

    def _show(self, stats: statistics.Statistics, paid: ApplicationPayments | None = None) -> None:
        self.stats = stats
        total = stats.total
        applied = "" if paid is None else (
            f"；依申请救助已发放 {paid.disbursed_people} 人 {shown(paid.disbursed_amount)} 元，"
            f"已批准待发放 {paid.waiting_people} 人 {shown(paid.waiting_amount)} 元")
        self.summary.setText(f"{stats.place} {stats.period}：{total.people} 人、{total.visits} 人次，"
                             f"医疗救助 {shown(total.assistance_paid)} 元，倾斜救助 {shown(total.tilt_assistance_paid)} 元"
                             f"{applied}")
        self.tabs.clear()
        for b in stats.breakdowns:
            split = QSplitter(Qt.Orientation.Vertical)
            split.addWidget(self._table(b))
            split.addWidget(self._chart(b))
            split.setSizes([300, 260])
            self.tabs.addTab(split, b.title)
        self.export_button.setEnabled(True)

    @staticmethod
    def _table(b: statistics.Breakdown) -> DataTable:
        table = DataTable([b.key_header, *(label for _, label in statistics.COLUMNS)], f"统计 {b.title}")
        table.setObjectName(f"statistics-{b.title}")
        line = lambda row: [row.label, *(row.value(name) for name, _ in statistics.COLUMNS)]  # noqa: E731
        table.set_rows([line(row) for row in b.rows], total=line(b.total))
        return table

    @staticmethod
    def _chart(b: statistics.Breakdown) -> QChartView:
        # Chart values are for drawing only; the table and the export carry the exact amounts.
        assist = QBarSet("医疗救助（万元）")
        tilt = QBarSet("倾斜救助（万元）")
        for row in b.rows:
            assist.append(float(row.assistance_paid / 10000))
            tilt.append(float(row.tilt_assistance_paid / 10000))
        series = QBarSeries()
        series.append(assist)
        series.append(tilt)
        chart = QChart()
        chart.addSeries(series)
        chart.setTitle(f"{b.title}：医疗救助与倾斜救助")
        axis = QBarCategoryAxis()
        axis.append([row.label for row in b.rows])
        chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis)
        values = QValueAxis()
        values.setLabelFormat("%.1f")
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(values)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        view = QChartView(chart)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        return view

    def export(self) -> None:
        if self.stats is None:
            return
        name = f"医疗救助统计_{self.stats.place}_{self.stats.period}.xlsx"
        path = files.save_path(self, "导出 Excel", name, "Excel 工作簿 (*.xlsx)")
        if path:
            stats = self.stats
            Op(self, lambda: _export(stats, path)).success(
                lambda _: self.window.statusBar().showMessage(f"已导出 {path}", 10000)).run()

def _export(stats, path):
    # XlsxWriter (~100 ms to import) is loaded on the first export, not at the app's start.
    from app.services.statistics_xlsx import export_statistics

    return export_statistics(stats, path)
