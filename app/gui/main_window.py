"""The main window: navigation, the screens, who is signed in, the idle lock, switching user and remembered layout."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app.gui.bill_import_view import BillImportView
from app.gui.bill_view import BillView
from app.gui.case_search_view import CaseSearchView
from app.gui.daily_backup import START_DELAY_MS, DailyBackup
from app.gui.exchange_view import ExchangeView
from app.gui.household_view import HouseholdView
from app.gui.import_view import ImportView
from app.gui.lists_dialogs import RiskListDialog, SubsidyRosterDialog
from app.gui.forms import styled_label
from app.gui.login import LoginDialog, note_leaving
from app.gui.money_view import MoneyView
from app.gui.ops import Op, single_thread_pool
from app.gui.person_dialogs import HouseholdDialog
from app.gui.policy_view import PolicyView
from app.gui.registry_view import RegistryView
from app.gui.simulation_view import SimulationView
from app.gui.statistics_view import StatisticsView
from app.gui.users_dialogs import PasswordDialog, UsersDialog
from app.gui.workflow_view import NoticeView, WorklistView
from app.services import bills, demo, paperwork, registry
from app.services.session import Session
from app.store import backup, clock

IDLE_MINUTES = 10
_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel}


class MainWindow(QMainWindow):
    """Screens are created once; switching is instant and each refreshes what concerns it."""

    def __init__(self, session: Session, reader: Session):
        super().__init__()
        self.session = session
        self.reader = reader
        # Searching has its own thread and connection, so a keystroke never waits behind saving or re-settling,
        # and a stale search can be interrupted.
        self.search_pool = single_thread_pool()
        self.searcher = Session(_reader_store(session.store), session.user)
        place = session.store.setting("county") or {}
        self.county_code = place.get("code")
        self.is_demo = demo.is_demo(session.store)
        # A demo database holds invented people and a public password: nobody must take it for the county's records.
        self.setWindowTitle(("【演示数据库 · 虚构的人和账单，不可用于实际经办】" if self.is_demo else "")
                            + f"救助通 · {place.get('name', '')}医疗救助经办")
        # The screens, or while locked a blank page: the idle lock and a switch of user hide every record.
        self.shade = QStackedWidget()
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.shade.addWidget(central)
        locked = styled_label("救助通已锁定：请输入密码解锁", "title")
        locked.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shade.addWidget(locked)
        self.setCentralWidget(self.shade)
        self._hidden: list[QWidget] = []
        self.door: LoginDialog | None = None  # the login shown while locked or after signing out
        self.registry = RegistryView(self)
        self.household = HouseholdView(self)
        self.bill = BillView(self)
        self.policy = PolicyView(self)
        self.statistics = StatisticsView(self)
        self.simulation = SimulationView(self)
        self.worklist = WorklistView(self)
        self.cases = CaseSearchView(self)
        self.notices = NoticeView(self)
        self.imports = ImportView(self)
        self.exchange = ExchangeView(self)
        self.money = MoneyView(self)
        self.bill_import = BillImportView(self)
        self.pages = [("人员查询", self.registry), ("家庭", self.household), ("账单录入", self.bill),
                      ("待我处理", self.worklist), ("依申请查询", self.cases), ("公示名单", self.notices),
                      ("补付追回与发放", self.money), ("结算清单导入", self.bill_import), ("名单导入", self.imports),
                      ("同步与交换", self.exchange), ("政策", self.policy), ("统计", self.statistics),
                      ("政策测算", self.simulation)]
        for name, page in self.pages:
            self.nav.addItem(name)
            self.stack.addWidget(page)
        # Pages whose only purpose is a task the permission model does not give this user are not offered.
        for page, action in ((self.bill, "record_bill"), (self.bill_import, "record_bill"),
                             (self.imports, "import_lists"), (self.simulation, "simulate")):
            self.nav.item([p for _, p in self.pages].index(page)).setHidden(not session.may(action).allowed)
        self.nav.currentRowChanged.connect(self._switch)
        self.registry.person_chosen.connect(self.open_person)
        self.registry.new_household.connect(self.new_household)
        self.household.record_bill.connect(self.open_bill)
        self._menus()
        self.user_label = QLabel()
        self.statusBar().addPermanentWidget(self.user_label)
        self._show_user()
        self.idle = QTimer(self)
        self.idle.setInterval(IDLE_MINUTES * 60 * 1000)
        self.idle.timeout.connect(self.lock)
        self.idle.start()
        self._activity = _ActivityFilter(self.idle)
        QApplication.instance().installEventFilter(self._activity)
        settings = QSettings("jiuzhu", "jiuzhu")
        if settings.value("geometry"):
            self.restoreGeometry(settings.value("geometry"))
        else:
            self.resize(1280, 800)
        self.nav.setCurrentRow(0)
        self._categories: list[str] = []
        self.daily = DailyBackup(session.store.path, self.statusBar())

    def start_daily_backup(self) -> None:
        """The day's first backup, once the window is in use (the start does not wait for it)."""
        QTimer.singleShot(START_DELAY_MS, self, self.daily.start)

    def _menus(self) -> None:
        tools = self.menuBar().addMenu("工具")
        tools.addAction("重新结算一个年度…", self.resettle)
        tools.addAction("立即备份数据库", self.backup_now)
        tools.addAction("核对打印的审批表…", self.verify_form)
        tools.addSeparator()
        tools.addAction("因病返贫致贫风险监测预警名单…", lambda: RiskListDialog(self).exec())
        tools.addAction("资助参保名单…", lambda: SubsidyRosterDialog(self).exec())
        if self.is_demo and self.session.may("make_demo").allowed:
            tools.addAction("生成演示数据…", self.make_demo)
        tools.addSeparator()
        if self.session.may("manage_users").allowed:
            tools.addAction("用户管理…", lambda: UsersDialog(self).exec())
        account = self.menuBar().addMenu("账号")
        account.addAction("修改我的密码…", lambda: PasswordDialog(self).exec())
        account.addAction("锁定", self.lock)
        account.addSeparator()
        account.addAction("切换用户…", lambda: self.sign_out("切换用户"))
        account.addAction("退出登录", lambda: self.sign_out("退出登录"))

    def resettle(self) -> None:
        year, ok = QInputDialog.getInt(self, "重新结算", "年度：", clock.today().year, 2000, clock.today().year)
        if not ok:
            return
        session = self.session
        Op(self, lambda: bills.resettle_year(session, year)).with_progress(f"正在重新结算 {year} 年…").success(
            lambda last: QMessageBox.information(
                self, "重新结算", f"{year} 年已重新结算 {last.done if last else 0} 人，"
                                 f"其中 {last.changed if last else 0} 笔结算有变化：未支付的金额 {last.unpaid if last else 0} "
                                 f"项直接更新，已支付的生成补付/追回 {last.adjustments if last else 0} 笔"
                                 "（均已记入审计日志，见“补付追回”）。")).run()

    def verify_form(self) -> None:
        code, ok = QInputDialog.getText(self, "核对审批表", "扫描二维码或输入审批表上的校验码：")
        if ok and code.strip():
            session = self.session
            Op(self, lambda: paperwork.verify_form(session, code)).success(
                lambda r: (QMessageBox.information if r[0] else QMessageBox.warning)(self, "核对审批表", r[1])).run()

    def backup_now(self) -> None:
        session = self.session
        Op(self, lambda: backup.backup(session.conn, session.store.backups)).with_progress("正在备份…").success(
            lambda path: self.statusBar().showMessage(f"已备份到 {path}", 10000)).run()

    def make_demo(self) -> None:
        n, ok = QInputDialog.getInt(self, "生成演示数据", "户数：", 200, 1, 200000)
        if not ok:
            return
        session = self.session
        Op(self, lambda: demo.build_demo(session, n, seed=demo.new_seed())).with_progress(f"正在生成 {n} 户演示数据…").success(
            lambda _: self.statusBar().showMessage("演示数据已生成", 10000)).run()

    def _show_user(self) -> None:
        u = self.session.user
        self.user_label.setText(f"当前用户：{u.display_name}（{u.role}，管辖 {u.jurisdiction or '全部'}）")

    def _switch(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        page = self.pages[row][1]
        if page in (self.policy, self.statistics, self.worklist, self.cases, self.notices, self.exchange, self.money,
                    self.simulation):
            page.refresh()
        elif page is self.household:
            # A bill saved on 账单录入 or a case step changes what the family page lists: show it as it is now.
            member = self.household.selected()
            self.household.refresh(member["id"] if member else None)
        elif page is self.registry:
            self.registry.query.setFocus()

    def go(self, page: QWidget) -> None:
        self.nav.setCurrentRow([p for _, p in self.pages].index(page))

    def open_person(self, person_id: str) -> None:
        # Going first queues the page's refresh of the household it showed before; the one worker runs work in
        # order, so the person asked for arrives after it and stays.
        self.go(self.household)
        self.household.show_person(person_id)

    def open_bill(self, person_id: str) -> None:
        self.bill.set_person(person_id)
        self.go(self.bill)

    def new_household(self) -> None:
        dialog = HouseholdDialog(self)
        if dialog.exec() and dialog.result_value:
            self.open_person(dialog.result_value[1])

    def category_names(self) -> list[str]:
        """The county policy's categories, for the category dialog (read once)."""
        if not self._categories:
            self._categories = registry.policy_categories(self.reader)
        return self._categories

    def _cover(self) -> None:
        """Hide every record: the screens behind a blank page, the menus, and any other window of the program."""
        self.idle.stop()
        self.shade.setCurrentIndex(1)
        self.menuBar().setEnabled(False)
        self.nav.clearFocus()
        self._hidden = [w for w in QApplication.topLevelWidgets()
                        if w is not self and w.isVisible() and not isinstance(w, LoginDialog)]
        for w in self._hidden:
            w.hide()

    def _uncover(self) -> None:
        self.shade.setCurrentIndex(0)
        self.menuBar().setEnabled(True)
        for w in self._hidden:
            w.show()
        self._hidden = []
        self.idle.start()

    def lock(self) -> None:
        """The idle lock (or 账号 → 锁定): nothing stays readable until the same user's password is given again."""
        self._cover()
        note_leaving(self.session.store.path, self.session.user, f"锁定（闲置 {IDLE_MINUTES} 分钟或手动锁定）")
        self._ask(LoginDialog(self.session.store.path, self, locked_user=self.session.user), self._uncover)

    def sign_out(self, why: str) -> None:
        """退出登录 or 切换用户: the user leaves, the login comes back; whoever signs in gets a window of their own
        (its pages and menus follow their role)."""
        self._cover()
        note_leaving(self.session.store.path, self.session.user, why)
        title = "切换用户：请登录" if why == "切换用户" else f"{self.session.user.display_name}已退出登录"
        self._ask(LoginDialog(self.session.store.path, self, title=title), self._hand_over)

    def _ask(self, dialog: LoginDialog, then) -> None:
        """Window-modal, without a nested event loop; 退出 there leaves the program, never gets past the lock."""
        self.door = dialog
        dialog.accepted.connect(then)
        dialog.rejected.connect(self.close)
        dialog.open()

    def _hand_over(self) -> None:
        from app.gui.app import open_window

        self._hidden = []  # another user's window does not bring back the dialogs this one had open
        open_window(self.session.store, self.door.user)
        self.close()
        self.deleteLater()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # A closed window must not wake up ten minutes later asking to be unlocked (it did, in a later test).
        self.idle.stop()
        QSettings("jiuzhu", "jiuzhu").setValue("geometry", self.saveGeometry())
        self.searcher.conn.interrupt()
        self.search_pool.waitForDone(2000)
        self.daily.stop()  # a backup under way stops between two steps and leaves no partial copy
        QApplication.instance().removeEventFilter(self._activity)
        super().closeEvent(event)


class _ActivityFilter(QObject):
    """Any key or click restarts the idle timer."""

    def __init__(self, timer: QTimer):
        super().__init__()
        self.timer = timer

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


def _reader_store(store):
    """A query-only connection to the same database (WAL lets it read while the worker writes)."""
    from app.store.db import connect
    from app.store.store import Store

    conn = connect(store.path)
    conn.execute("PRAGMA query_only = ON")
    return Store(conn, store.path)
