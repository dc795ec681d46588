"""The main window: navigation, the screens, who is signed in, the idle lock and remembered layout."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QListWidget, QMainWindow, QStackedWidget, QWidget

from app.gui.bill_view import BillView
from app.gui.household_view import HouseholdView
from app.gui.login import LoginDialog
from app.gui.person_dialogs import HouseholdDialog
from app.gui.policy_view import PolicyView
from app.gui.registry_view import RegistryView
from app.services import registry
from app.services.session import Session

IDLE_MINUTES = 10
_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel}


class MainWindow(QMainWindow):
    """Screens are created once; switching is instant and each refreshes what concerns it."""

    def __init__(self, session: Session, reader: Session):
        super().__init__()
        self.session = session
        self.reader = reader
        place = session.store.setting("county") or {}
        self.county_code = place.get("code")
        self.setWindowTitle(f"救助通 · {place.get('name', '')}医疗救助经办")
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.registry = RegistryView(self)
        self.household = HouseholdView(self)
        self.bill = BillView(self)
        self.policy = PolicyView(self)
        self.pages = [("人员查询", self.registry), ("家庭", self.household), ("账单录入", self.bill),
                      ("政策", self.policy)]
        for name, page in self.pages:
            self.nav.addItem(name)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self._switch)
        self.registry.person_chosen.connect(self.open_person)
        self.registry.new_household.connect(self.new_household)
        self.household.record_bill.connect(self.open_bill)
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

    def _show_user(self) -> None:
        u = self.session.user
        self.user_label.setText(f"当前用户：{u.display_name}（{u.role}，管辖 {u.jurisdiction or '全部'}）")

    def _switch(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        page = self.pages[row][1]
        if page is self.policy:
            self.policy.refresh()
        elif page is self.registry:
            self.registry.query.setFocus()

    def go(self, page: QWidget) -> None:
        self.nav.setCurrentRow([p for _, p in self.pages].index(page))

    def open_person(self, person_id: str) -> None:
        self.household.show_person(person_id)
        self.go(self.household)

    def open_bill(self, person_id: str) -> None:
        self.bill.set_person(person_id)
        self.go(self.bill)

    def new_household(self) -> None:
        dialog = HouseholdDialog(self)
        if dialog.exec() and dialog.result_value:
            self.open_person(dialog.result_value[1])

    def category_names(self) -> list[str]:
        """Categories the county's policy recognises, for the category dialog (read once)."""
        if not self._categories:
            self._categories = sorted(registry.known_categories(self.reader))
        return self._categories

    def lock(self) -> None:
        self.idle.stop()
        if LoginDialog(self.reader.conn, self, locked_user=self.session.user).exec():
            self.idle.start()
        else:
            self.close()  # 取消 at the lock means leaving the program, not getting past it

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        QSettings("jiuzhu", "jiuzhu").setValue("geometry", self.saveGeometry())
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
