"""人员查询: search as you type (debounced) by ID number, name or pinyin initials, optionally by village."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.regions import regions
from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.people_model import PeopleModel
from app.services import search

SEARCH_LIMIT = 500_000
FIRST_PAGE = 200


class RegistryView(QWidget):
    """The search box, village filter and the lazily filled table of people."""

    person_chosen = Signal(str)
    new_household = Signal()

    def __init__(self, window):
        super().__init__()
        self.window = window
        layout = QVBoxLayout(self)
        title = styled_label("人员查询", "title")
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
        add.setVisible(window.session.may("register").allowed)
        bar.addWidget(add)
        layout.addLayout(bar)
        self.status = styled_label("", "hint")
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
        """First the page a caseworker sees (fast), then every match for scrolling; a new keystroke interrupts both."""
        self._generation += 1
        generation = self._generation
        text, village = self.query.text(), self.village.currentData()
        self.status.setText("正在查找…")
        searcher = self.window.searcher
        searcher.conn.interrupt()  # abandon the previous keystroke's query, if still running
        Op(self, lambda: search.search_ids(searcher, text, village, FIRST_PAGE), on=self.window.search_pool).success(
            lambda ids: self._first(generation, ids, text, village)).failure(lambda e: self._failed(generation, e)).run()

    def _first(self, generation: int, ids: list[str], text: str, village: str | None) -> None:
        if generation != self._generation:
            return  # a newer keystroke's search is on its way
        self.model.set_ids(ids)
        if len(ids) < FIRST_PAGE:
            self._done(ids)
            return
        self.status.setText(f"已显示前 {len(ids)} 人，正在统计全部结果…")
        searcher = self.window.searcher
        Op(self, lambda: search.search_ids(searcher, text, village, SEARCH_LIMIT), on=self.window.search_pool).success(
            lambda all_ids: self._all(generation, all_ids)).failure(lambda e: self._failed(generation, e)).run()

    def _all(self, generation: int, ids: list[str]) -> None:
        if generation != self._generation:
            return
        row = self.table.currentIndex().row()
        self.model.set_ids(ids)
        if row >= 0:
            self.table.selectRow(row)
        self._done(ids)

    def _done(self, ids: list[str]) -> None:
        more = f"（只列出前 {SEARCH_LIMIT} 人，请输入更精确的条件）" if len(ids) >= SEARCH_LIMIT else ""
        self.status.setText(f"找到 {len(ids)} 人{more}。回车或双击打开其家庭。")

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return  # interrupted by a newer search, as intended
        from app.gui.ops import show_error
        show_error(self, exc)

    def _open(self, row: int) -> None:
        pid = self.model.person_id(row)
        if pid:
            self.person_chosen.emit(pid)
