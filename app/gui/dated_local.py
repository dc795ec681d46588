"""自某日起修改地方参数: one local value from a date, then what re-settling would change, and doing it if asked."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox

from app.gui.date_field import DateField
from app.gui.forms import FormDialog
from app.gui.ops import Op
from app.services import bills, county
from app.store import clock


class DatedLocalDialog(FormDialog):
    """Pick the value, its new figure and the date it takes effect; saving is audited."""

    def __init__(self, window, policy):
        super().__init__(window, "自某日起修改地方参数")
        self.key = self.form.add("local", "地方参数", QComboBox())
        for key, param in policy.locals.items():
            self.key.addItem(f"{param.label}（{param.unit}）", key)
        self.value = self.form.add("value", "新的值", QLineEdit(), "如 60% 或 1500；须是本县正式文件确定的值")
        # A DateField, not QDateEdit: typing a whole date into QDateEdit kept the old one without a word.
        self.start = self.form.add("valid_from", "生效日期", DateField(clock.today().replace(month=1, day=1)),
                                   "此日及以后结算的账单按新值；之前的仍按原值")
        self.buttons.button(self.buttons.StandardButton.Ok).setText("保存并预览重新结算")
        self.finish_layout()

    def save(self) -> None:
        session, key, value, start = (self.window.session, self.key.currentData(), self.value.text(),
                                      self.start.text())  # the service reads it and names the field if not a date

        def work():
            years = county.set_local_from(session, key, value, start)
            return [(year, bills.preview_resettle(session, year)) for year in years]

        self.submit(work)


def offer_resettlement(window, previews: list) -> None:
    """Show what re-settling each reached year would change, and re-settle the years the caseworker accepts."""
    if not previews:
        QMessageBox.information(window, "地方参数", "已保存。该日期以后没有已录入的账单，无需重新结算。")
        return
    lines = "\n".join(f"{year} 年：{p.changed} 笔结算有变化，未支付的金额 {p.unpaid} 项直接更新，"
                      f"已支付的生成补付/追回 {p.adjustments} 笔" for year, p in previews)
    asked = QMessageBox.question(window, "重新结算", f"已保存（已记入审计日志）。重新结算将会：\n{lines}\n\n现在重新结算吗？")
    if asked != QMessageBox.StandardButton.Yes:
        return
    session = window.session
    reason = "重新结算（地方参数自某日起修改）"

    def work():
        last = None
        for year, _ in previews:
            for last in bills.resettle_year(session, year, reason):
                yield last.done, last.total
        return last

    Op(window, work).with_progress("正在重新结算…").success(
        lambda last: window.statusBar().showMessage("重新结算完成，补付追回见“补付追回与发放”", 10000)).run()
