"""家庭: members, each member's categories as periods on a timeline, and the actions on them."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.bills_panel import BillsPanel
from app.gui.forms import scrolled, styled_label
from app.gui.ops import Op
from app.gui.pdf_preview import show_document
from app.gui.tables import DataTable
from app.gui.person_dialogs import CategoryDialog, HeadDialog, MemberDialog, MoveDialog
from app.services import paperwork, registry
from app.store import clock

PALETTE = ("#2f6db3", "#c2571a", "#2e8b57", "#8e44ad", "#b8860b", "#c0392b", "#16a085")


def _captioned(widget: QWidget, caption: str) -> QWidget:
    """The widget under a caption, as one piece of a splitter."""
    box = QWidget()
    inner = QVBoxLayout(box)
    inner.setContentsMargins(0, 4, 0, 0)
    inner.addWidget(QLabel(caption))
    inner.addWidget(widget, 1)
    return box


class Timeline(QWidget):
    """One row per member; each category period is a coloured bar between its dates."""

    def __init__(self):
        super().__init__()
        self.members: list[dict] = []
        self.setMinimumHeight(120)

    def set_members(self, members: list[dict]) -> None:
        self.members = members
        self.setMinimumHeight(40 + 28 * max(len(members), 1))
        self.update()

    def _span(self) -> tuple[date, date]:
        starts = [date.fromisoformat(p["valid_from"]) for m in self.members for p in m["periods"]]
        first = min(starts, default=clock.today()).replace(month=1, day=1)
        return min(first, date(clock.today().year - 2, 1, 1)), date(clock.today().year, 12, 31)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        left, right, top = 90, self.width() - 12, 24
        start, end = self._span()
        days = (end - start).days or 1
        x = lambda d: left + (right - left) * (d - start).days / days  # noqa: E731
        painter.setPen(QPen(QColor("#c9d1db")))
        for year in range(start.year, end.year + 1):
            xx = x(date(year, 1, 1))
            painter.drawLine(int(xx), top - 6, int(xx), self.height() - 6)
            painter.setPen(QColor("#5f6b7a"))
            painter.drawText(int(xx) + 3, 14, str(year))
            painter.setPen(QPen(QColor("#c9d1db")))
        colours: dict[str, QColor] = {}
        for row, m in enumerate(self.members):
            y = top + row * 28
            painter.setPen(QColor("#1f3550"))
            painter.drawText(6, y + 16, m["name"])
            for p in m["periods"]:
                colour = colours.setdefault(p["category"], QColor(PALETTE[len(colours) % len(PALETTE)]))
                a = x(max(date.fromisoformat(p["valid_from"]), start))
                b = x(min(date.fromisoformat(p["valid_to"]) if p["valid_to"] else end, end))
                painter.setBrush(colour)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawRoundedRect(QRectF(a, y + 3, max(b - a, 3), 18), 3, 3)
                painter.setPen(QColor("white"))
                painter.drawText(QRectF(a + 4, y + 3, max(b - a - 6, 0), 18), Qt.AlignmentFlag.AlignVCenter,
                                 p["category"])
        painter.end()


class HouseholdView(QWidget):
    """The household page; `record_bill` asks the window to open bill entry for a member."""

    record_bill = Signal(str)

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.household: dict | None = None
        layout = QVBoxLayout(self)
        self.title = styled_label("家庭", "title")
        layout.addWidget(self.title)
        self.subtitle = styled_label("请先在“人员查询”中找到一个人", "hint")
        layout.addWidget(self.subtitle)
        # Sorted by a header click like every table; a row is read through its record index, not its position.
        self.members = DataTable(["姓名", "与户主关系", "证件号码", "性别", "出生日期", "现有身份类别"], "家庭成员")
        self.periods = DataTable(["选中成员的身份类别", "起始日期", "终止日期", "认定部门"], "身份类别期间")
        self.periods.activated_record.connect(lambda _: self.edit_period())
        self.members.itemSelectionChanged.connect(self._show_periods)
        self.timeline = Timeline()
        self.bills = BillsPanel(window)
        self.bills.changed.connect(lambda: self.refresh())
        # In a splitter the caseworker can drag: at a laptop's 1366×768 the stacked tables left the bills one row.
        parts = QSplitter(Qt.Orientation.Vertical)
        parts.setChildrenCollapsible(False)
        for widget, caption, stretch in ((self.members, None, 3), (self.periods, None, 1),
                                         (scrolled(self.timeline), "身份类别时间轴", 1),
                                         (self.bills, "全家账单（点列标题排序；可多选导出；灰色为已作废）", 4)):
            parts.addWidget(_captioned(widget, caption) if caption else widget)
            parts.setStretchFactor(parts.count() - 1, stretch)
        layout.addWidget(parts, 1)
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        session = window.session
        for text, slot, action in (("添加成员", self.add_member, "register"),
                                   ("修改成员信息", self.edit_member, "register"),
                                   ("修改住址", self.edit_address, "register"),
                                   ("设为户主", self.make_head, "register"),
                                   ("迁到另一户…", self.move_member, "register"),
                                   ("登记身份类别", self.add_category, "edit_categories"),
                                   ("修改 / 终止所选期间", self.edit_period, "edit_categories"),
                                   ("删除所选期间（录入错误）", self.remove_period, "edit_categories"),
                                   ("为选中成员录入账单", self.open_bill, "record_bill"),
                                   ("打印选中成员本年结算单…", self.print_year, "print")):
            b = QPushButton(text)
            b.clicked.connect(slot)
            b.setVisible(session.may(action).allowed)
            self.buttons[text] = b
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)

    def show_person(self, person_id: str) -> None:
        session = self.window.session

        def work():
            p = registry.person(session, person_id)
            return registry.household_detail(session, p["household_id"]), person_id

        Op(self, work).success(lambda r: self.show_household(*r)).run()

    def show_household(self, detail: dict, select_person: str | None = None) -> None:
        self.household = detail
        head = next((m["name"] for m in detail["members"] if m["relation_to_head"] == "户主"), "")
        self.title.setText(f"家庭 · 户主 {head}")
        self.subtitle.setText(f"{detail['address']}　统计用区划代码 {detail['region_code']}　共 {len(detail['members'])} 人")
        today = clock.today().isoformat()
        rows = []
        for m in detail["members"]:
            current = "、".join(p["category"] for p in m["periods"]
                               if p["valid_from"] <= today and (p["valid_to"] is None or p["valid_to"] >= today))
            rows.append((m["name"], m["relation_to_head"], m["id_number"], m["sex"] or "", m["birth_date"] or "",
                         current or "—"))
        self.members.set_rows(rows)
        chosen = next((i for i, m in enumerate(detail["members"]) if m["id"] == select_person), None)
        if chosen is not None:
            self.members.selectRow(next(r for r in range(len(rows)) if self.members.record_at(r) == chosen))
        if select_person is None and detail["members"]:
            self.members.selectRow(0)
        self._show_periods()  # the selection may not have changed, so its signal may not come
        self.timeline.set_members(detail["members"])
        self.bills.show_household(detail["id"])

    def _show_periods(self) -> None:
        m = self.selected()
        periods = m["periods"] if m else []
        self._head_actions(m)
        self.periods.set_rows([(p["category"], p["valid_from"], p["valid_to"] or "至今", p["certified_by"])
                               for p in periods])

    def _head_actions(self, m: dict | None) -> None:
        """设为户主 and 迁到另一户 are for a member other than the head (the head moves out after another is made head),
        and for people and households this site registered (another site's are changed where they were made)."""
        is_head = m is not None and m["id"] == self.household["head_person_id"]
        received = m is not None and (m.get("site_id") or self.household.get("site_id")) is not None
        why = ("已是户主：要迁出户主，请先把本户另一成员设为户主" if is_head else
               "这一户或此人是从其他站点接收的：在本机修改不会送到县里，请在登记它的站点办理" if received else "")
        for text in ("设为户主", "迁到另一户…"):
            self.buttons[text].setEnabled(m is not None and not is_head and not received)
            self.buttons[text].setToolTip(why)

    def make_head(self) -> None:
        m = self.selected()
        if m is None:
            return
        dialog = HeadDialog(self.window, self.household, m)
        if dialog.exec():
            self._changed(dialog.result_value, m["id"], f"{m['name']} 已设为户主。")

    def move_member(self) -> None:
        m = self.selected()
        if m is None:
            return
        dialog = MoveDialog(self.window, self.household, m)
        if dialog.exec():
            to = dialog.chosen() or {"head_name": "", "address": "另一户"}
            self._changed(dialog.result_value, None, f"{m['name']} 已迁入 {to['head_name']}户（{to['address']}）。")

    def _changed(self, done, select: str | None, said: str) -> None:
        """The page shows the household as it is now, and says what the caseworker should check next."""
        self.refresh(select)
        QMessageBox.information(self, "已保存", "\n\n".join([said, *done.to_check]))

    def edit_member(self) -> None:
        m = self.selected()
        if m is not None and MemberDialog(self.window, self.household["id"], m).exec():
            self.refresh(m["id"])

    def edit_address(self) -> None:
        if not self.household:
            return
        text, ok = QInputDialog.getText(self, "修改住址", "住址：", text=self.household["address"])
        if ok:
            session, hid = self.window.session, self.household["id"]
            Op(self, lambda: registry.update_household(session, hid, text)).success(lambda _: self.refresh()).run()

    def edit_period(self) -> None:
        if not self.window.session.may("edit_categories").allowed:
            return  # a double-click by someone who only reads the periods
        m = self.selected()
        row = self.periods.current_record()
        if m is None or not 0 <= row < len(m["periods"]):
            return
        dialog = CategoryDialog(self.window, m["id"], m["name"], self.window.category_names(), m["periods"][row])
        if dialog.exec():
            self.refresh(m["id"])

    def remove_period(self) -> None:
        """删除（录入错误）after a confirmation that asks the reason; a period that ended is ended, not removed."""
        m = self.selected()
        row = self.periods.current_record()
        if m is None or not 0 <= row < len(m["periods"]):
            return
        p = m["periods"][row]
        # The confirmation is the reason's dialog: cancelling it removes nothing, and the service refuses an empty one.
        reason, ok = QInputDialog.getText(
            self, "删除身份类别期间（录入错误）",
            f"删除 {m['name']} 的{p['category']}期间 {p['valid_from']} 至 {p['valid_to'] or '今'}？\n"
            "只用于录入错误；身份终止请用“修改 / 终止所选期间”填写终止日期。\n"
            "删除后本人的账单按其余身份类别重新结算，已发放的金额不改，差额记为补付或追回。\n\n删除原因：")
        if ok:
            session, period_id, person_id = self.window.session, p["id"], m["id"]
            Op(self, lambda: registry.remove_category(session, period_id, reason)).success(
                lambda _: self.refresh(person_id)).run()

    def selected(self) -> dict | None:
        if not self.household:
            return None
        row = self.members.current_record()
        return self.household["members"][row] if 0 <= row < len(self.household["members"]) else None

    def refresh(self, select: str | None = None) -> None:
        if self.household:
            session, hid = self.window.session, self.household["id"]
            Op(self, lambda: registry.household_detail(session, hid)).success(
                lambda d: self.show_household(d, select)).run()

    def add_member(self) -> None:
        if not self.household:
            return
        dialog = MemberDialog(self.window, self.household["id"])
        if dialog.exec():
            self.refresh(dialog.result_value)  # stay on the member just added: the next step is usually theirs

    def add_category(self) -> None:
        m = self.selected()
        if m is None:
            return
        names = self.window.category_names()
        dialog = CategoryDialog(self.window, m["id"], m["name"], names)
        if dialog.exec():
            self.refresh(m["id"])

    def print_year(self) -> None:
        m = self.selected()
        if m is None:
            return
        year, ok = QInputDialog.getInt(self, "年度结算单", "年度：", clock.today().year - 1, 2000, clock.today().year)
        if ok:
            session, pid = self.window.session, m["id"]
            show_document(self, f"{m['name']}{year}年结算单",
                          lambda path: paperwork.settlement_slip(session, path, person_id=pid, year=year))

    def open_bill(self) -> None:
        m = self.selected()
        if m is not None:
            self.record_bill.emit(m["id"])
