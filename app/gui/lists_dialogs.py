"""工具 → 监测预警名单 and 资助参保名单: ask the month or year, save as, build and write off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from app.gui.forms import Form, dialog_buttons, styled_label
from app.gui import files
from app.gui.ops import Op, show_error
from app.services import monitoring, subsidy_roster
from app.store import clock
from app.domain.errors import FieldError


def _produce(steps: Iterator[tuple], write: Callable[[object, Path], Path], path: Path) -> Iterator[tuple]:
    """Pass a builder's (done, total, …) on for the progress dialog, then write what it built; the last item holds it."""
    last = None
    for last in steps:
        yield last
    write(last[2], path)
    yield last


class _ListDialog(QDialog):
    """A small form; 导出 asks where to save, then the work runs in the background and the status bar reports."""

    title = ""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.setWindowTitle(self.title)
        layout = QVBoxLayout(self)
        self.form = Form(QFormLayout())
        layout.addLayout(self.form.layout)
        self.note = styled_label("", "hint")
        self.note.setWordWrap(True)
        self.buttons = dialog_buttons(self, self.export, ok="导出 Excel…")
        self.fill()
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.resize(620, self.sizeHint().height())

    def fill(self) -> None:
        raise NotImplementedError

    def ask_path(self, suggested: str) -> str:
        path = files.save_path(self, "导出 Excel", suggested, "Excel 工作簿 (*.xlsx)")
        return path if not path or path.lower().endswith(".xlsx") else path + ".xlsx"

    def run(self, suggested: str, steps: Callable[[], Iterator[tuple]], write, label: str,
            done: Callable[[object], str]) -> None:
        path = self.ask_path(suggested)
        if not path:
            return
        window = self.window  # the dialog closes now; the operation reports to the window
        Op(window, lambda: _produce(steps(), write, Path(path))).with_progress(label).success(
            lambda last: window.statusBar().showMessage(f"{done(last[2])}，已导出 {path}", 20000)).run()
        self.accept()

    def export(self) -> None:
        raise NotImplementedError


class RiskListDialog(_ListDialog):
    """The month of the 因病返贫致贫风险监测预警 list; shows the policy's thresholds, or why there are none."""

    title = "因病返贫致贫风险监测预警名单"

    def fill(self) -> None:
        today = clock.today()
        last = date(today.year, today.month, 1).toordinal() - 1  # last month's list is the usual one
        shown = date.fromordinal(last)
        self.year = QSpinBox()
        self.year.setRange(2000, today.year)
        self.year.setValue(shown.year)
        self.month = QSpinBox()
        self.month.setRange(1, 12)
        self.month.setValue(shown.month)
        self.form.add("year", "年度", self.year)
        self.form.add("month", "月份", self.month, "本年 1 月 1 日起累计到该月末的费用")
        self.year.valueChanged.connect(self._explain)
        self.month.valueChanged.connect(self._explain)
        self._explain()

    def _explain(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        session, as_of = self.window.session, monitoring.month_end(self.year.value(), self.month.value())
        Op(self, lambda: monitoring.risk_rules(session, as_of)).success(self._rules).failure(self._refused).run()

    def _rules(self, rules) -> None:
        self._say("hint", "预警标准（本县政策）：\n" + "\n".join(r.describe() for r in rules) +
                  "\n名单含完整身份证号码，报送民政、乡村振兴部门核查。")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, FieldError):
            self._say("error", str(exc))  # not beside a field: the label says which
        else:
            show_error(self, exc)

    def _say(self, role: str, text: str) -> None:
        self.note.setProperty("role", role)
        self.note.setText(text)
        self.note.style().unpolish(self.note)
        self.note.style().polish(self.note)
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))  # the text arrives after the layout

    def export(self) -> None:
        year, month = self.year.value(), self.month.value()
        session = self.window.session
        self.run(f"因病返贫致贫风险监测预警名单_{year}年{month}月.xlsx",
                 lambda: monitoring.build_risk_list(session, year, month), _export_risk_list,
                 f"正在生成 {year}年{month}月监测预警名单…", lambda risk: f"{risk.period}监测预警名单 {len(risk.entries)} 人")


class SubsidyRosterDialog(_ListDialog):
    """The year and that year's individual contribution for the 资助参保 roster."""

    title = "资助参保名单"

    def fill(self) -> None:
        today = clock.today()
        self.year = QSpinBox()
        self.year.setRange(2000, today.year + 1)
        self.year.setValue(today.year + 1)
        self.contribution = QLineEdit()
        self.contribution.setPlaceholderText("例如 400")
        self.contribution.textEdited.connect(self.form.clear_errors)
        self.form.add("year", "资助年度", self.year)
        self.form.add("contribution", "个人缴费标准（元/人·年）", self.contribution,
                      "当年医保筹资文件规定的城乡居民医保个人缴费标准；本县政策文件已写明当年标准的可留空")
        self.year.valueChanged.connect(self._declared)
        self._declared()
        self.note.setText("以该年 1 月 1 日有效的身份类别为准；同时具有多个类别的，按就高原则只资助一次。"
                          "参加职工医保或所属类别没有资助规定的人员另列“未列入名单”并注明原因。")

    def _declared(self) -> None:
        """Show the policy file's contribution for the year, if it has one, as what an empty field will use."""
        try:
            found = subsidy_roster.declared_contribution(self.window.session, self.year.value())
        except FieldError:
            found = None
        self.contribution.setPlaceholderText(f"留空即按政策文件 {found[0]} 元" if found else "例如 400")
        self.contribution.setToolTip(f"本县政策文件写明的个人缴费标准：{found[0]} 元（{found[1]}）" if found else "")
        self._has_declared = found is not None

    def export(self) -> None:
        self.form.clear_errors()
        try:
            text = self.contribution.text().strip()
            if not text and not self._has_declared:
                raise FieldError("contribution", "请填写该年度的个人缴费标准：资助金额按它计算（本县政策文件没有写明当年的标准）")
            paid = subsidy_roster.contributions(text)
        except FieldError as exc:
            self.form.show_error(exc.field, exc.reason)
            return
        year, session = self.year.value(), self.window.session
        self.run(f"资助参保名单_{year}年度.xlsx", lambda: subsidy_roster.build_subsidy_roster(session, year, paid),
                 _export_subsidy_roster, f"正在生成 {year} 年度资助参保名单…",
                 lambda r: f"{r.year}年度资助参保名单 {len(r.entries)} 人，合计 {r.total} 元")


# The Excel writer loads XlsxWriter (~100 ms); imported when a list is first written, not at the app's start.
def _export_risk_list(*args):
    from app.services.monitoring_xlsx import export_risk_list

    return export_risk_list(*args)


def _export_subsidy_roster(*args):
    from app.services.subsidy_roster_xlsx import export_subsidy_roster

    return export_subsidy_roster(*args)
