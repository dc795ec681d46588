"""名单导入: choose a department's .xlsx list, see each row's meaning and problems, apply only the ticked changes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.forms import styled_label
from app.gui import files
from app.gui.ops import Op
from app.gui.tables import DataTable, filling
from app.services import identity_import

ACTIONABLE = ("new", "changed", "ended")
COLOURS = {"new": "#1e6b34", "changed": "#8a5a00", "ended": "#6b3d1e", "rejected": "#b3261e",
           **{kind: "#b3261e" for kind in identity_import.LEFT_OUT}}


class ImportView(QWidget):
    """The list's rows, each with what it would change; the caseworker ticks what to apply."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.parsed = None
        self.changes: list = []
        self.applied: int | None = None  # how many changes the last 应用 made, shown once in the summary
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label("身份名单导入（民政、乡村振兴）", "title"))
        bar = QHBoxLayout()
        choose = QPushButton("选择名单文件（.xlsx 或 .csv）…")
        choose.clicked.connect(self.choose)
        bar.addWidget(choose)
        self.apply_button = QPushButton("应用勾选的变化")
        self.apply_button.setProperty("primary", True)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        bar.addWidget(self.apply_button)
        self.report_button = QPushButton("导出未导入的行…")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.report)
        bar.addWidget(self.report_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = styled_label("比对只读取名单，不作任何修改；勾选后点“应用”，全部变化一次保存并记入审计日志。", "hint")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = DataTable(["应用", "原表行号", "结果", "姓名", "身份证号", "身份类别", "起始", "终止", "说明"], "名单导入",
                               sortable=False)
        layout.addWidget(self.table, 1)

    def choose(self) -> None:
        path = files.open_path(self, "选择身份名单", "名单 (*.xlsx *.csv);;所有文件 (*)")
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> None:
        session = self.window.session
        Op(self, lambda: identity_import.import_list(session, path)).with_progress("正在读取和比对名单…").success(
            self._show).run()

    def _show(self, result) -> None:
        self.parsed, self.changes = result
        rows = [(c, c.kind) for c in self.changes] + [(r, "rejected") for r in self.parsed.rejected]
        counts: dict[str, int] = {}
        with filling(self.table):  # a re-compared list refills the table while it is shown
            self.table.setRowCount(len(rows))
            for r, (item, kind) in enumerate(rows):
                counts[kind] = counts.get(kind, 0) + 1
                tick = QTableWidgetItem()
                if kind in ACTIONABLE:
                    tick.setFlags(tick.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    tick.setCheckState(Qt.CheckState.Checked)
                else:
                    tick.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(r, 0, tick)
                if kind == "rejected":
                    values = (str(item.line), "未导入", item.name, item.id_number, "", "", "", item.reason)
                else:
                    row = item.row
                    values = (str(row.line), identity_import.KIND_NAMES[kind], row.name, row.id_number, row.category,
                              str(row.valid_from), str(row.valid_to or ""), item.note)
                for c, value in enumerate(values, start=1):
                    cell = QTableWidgetItem(value)
                    if c == len(values):
                        cell.setToolTip(value)  # a long explanation is cut at the column's edge
                    if kind in COLOURS:
                        cell.setForeground(QColor(COLOURS[kind]))
                    self.table.setItem(r, c, cell)
        names = {**identity_import.KIND_NAMES, "rejected": "未导入"}
        applied, self.applied = self.applied, None
        done = f"已应用 {applied} 项变化；重新比对后，" if applied else ""
        self.summary.setText(f"{self.parsed.path.name}（{self.parsed.source}名单）：{done}" +
                             "，".join(f"{names[k]} {n}" for k, n in counts.items()) +
                             ("。" if applied else "。尚未作任何修改，勾选后点“应用”。"))
        self.apply_button.setEnabled(any(k in ACTIONABLE for _, k in rows))
        self.report_button.setEnabled(bool(identity_import.not_imported(self.parsed, self.changes)))

    def chosen(self) -> list:
        return [c for r, c in enumerate(self.changes)
                if c.kind in ACTIONABLE and self.table.item(r, 0).checkState() == Qt.CheckState.Checked]

    def apply(self) -> None:
        chosen, session, source = self.chosen(), self.window.session, self.parsed.source
        if not chosen:
            return
        Op(self, lambda: identity_import.apply(session, chosen, source, source)).with_progress("正在应用…").success(
            self._applied).run()

    def _applied(self, count: int) -> None:
        self.applied = count
        self.window.statusBar().showMessage(f"已应用 {count} 项变化，涉及的账单已按新身份重新结算（均记入审计日志）", 15000)
        self.load(self.parsed.path)

    def report(self) -> None:
        target = files.save_path(self, "导出未导入的行", f"{self.parsed.path.stem}_未导入.xlsx", "Excel 工作簿 (*.xlsx)")
        if target:
            parsed, changes = self.parsed, self.changes
            Op(self, lambda: identity_import.rejected_report(parsed, Path(target), changes)).success(
                lambda p: self.window.statusBar().showMessage(f"已导出 {p}", 8000)).run()
