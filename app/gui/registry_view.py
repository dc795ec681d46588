"""人员查询: search as you type (debounced) by ID number, name or pinyin initials, optionally by village."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.gui.ops import Op
from app.gui.people_model import PeopleModel
from app.services import search
from app.services.demo import regions

SEARCH_LIMIT = 200_000


class RegistryView(QWidget):
    """The search box, village filter and the lazily filled table of people."""

    person_chosen = Signal(str)
    new_household = Signal()

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        title = QLabel("人员查询")
        title.setProperty("role", "title")
        layout.addWidget(title)
        bar = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText("输入身份证号、姓名，或拼音首字母（如 zs 查找张三）")
        self.query.setClearButtonEnabled(True)
        bar.addWidget(self.query, 3)
        self.village = QComboBox()
        self.village.addItem("全部村（居）", None)
        try:
            towns, villages = regions(window.county_code or "340223")
            for code, name in villages:
                self.village.addItem(f"{towns.get(code[:9], '')} {name}", code)
        except OSError:
            pass  # no bundled village list for this county: search by name and ID only
        bar.addWidget(self.village, 2)
        add = QPushButton("登记新家庭")
        add.clicked.connect(self.new_household.emit)
        bar.addWidget(add)
        layout.addLayout(bar)
        self.status = QLabel("")
        self.status.setProperty("role", "hint")
        layout.addWidget(self.status)
        self.model = PeopleModel(window.reader)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Fixed widths: sizing to contents would read every row of a large result.
        for column, width in enumerate((90, 180, 50, 100, 90)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(lambda idx: self._open(idx.row()))
        self.table.activated.connect(lambda idx: self._open(idx.row()))
        layout.addWidget(self.table, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        # Short enough that results follow typing within 100 ms, long enough to skip the keys in between.
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _: self.timer.start())
        self.village.currentIndexChanged.connect(lambda _: self.timer.start())
        self.query.returnPressed.connect(self._enter)
        self._generation = 0

    def _enter(self) -> None:
        if self.model.rowCount() == 1:
            self._open(0)
        else:
            self.table.setFocus()
            self.table.selectRow(0)

    def run_search(self) -> None:
        self._generation += 1
        generation = self._generation
        text, village = self.query.text(), self.village.currentData()
        self.status.setText("正在查找…")
        session = self.window.session
        Op(self, lambda: search.search_ids(session, text, village, SEARCH_LIMIT)).success(
            lambda ids: self._show(generation, ids)).run()

    def _show(self, generation: int, ids: list[str]) -> None:
        if generation != self._generation:
            return  # a newer keystroke's search is on its way
        self.model.set_ids(ids)
        more = "（只显示前 200000 人，请输入更精确的条件）" if len(ids) >= SEARCH_LIMIT else ""
        self.status.setText(f"找到 {len(ids)} 人{more}。回车或双击打开其家庭。")

    def _open(self, row: int) -> None:
        pid = self.model.person_id(row)
        if pid:
            self.person_chosen.emit(pid)
