"""同步与交换: sync with the county database, export and import USB packages, and what could not be merged."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.exchange.package import SUFFIX
from app.gui.forms import scrolled, styled_label
from app.gui import files
from app.gui.ops import Op, show_error
from app.gui.site_keys_view import SiteKeysBox
from app.gui.tables import DataTable
from app.services import packages, sync
from app.services.session import Session
from app.store import clock
from app.store.db import connect
from app.store.store import Store


class _Progress(QObject):
    moved = Signal(str, int, int)


def _when(stamp: str | None) -> str:
    if not stamp:
        return "从未"
    return clock.local_time(stamp).strftime("%Y-%m-%d %H:%M")


def _overview(session) -> dict:
    return {"state": sync.state(session), "pending": sync.pending(session), "export": packages.export_state(session),
            "pending_export": packages.pending_export(session), "conflicts": sync.conflicts(session)}


class ExchangeView(QWidget):
    """Last sync, what waits to be sent, a sync with progress and cancel; packages both ways; conflicts."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self._cancel = False
        self._running = False
        self._shown = 0.0
        self.signals = _Progress()
        self.signals.moved.connect(self._moved, Qt.ConnectionType.QueuedConnection)
        # The boxes scroll together on a laptop's screen rather than being squeezed until their texts overlap (a
        # sync's report and the comparison's reasons run to several lines).
        page = QWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(page))
        layout = QVBoxLayout(page)
        layout.addWidget(styled_label("与县里交换数据", "title"))

        online = QGroupBox("县级数据库同步（联网时）")
        grid = QGridLayout(online)
        self.url = QLineEdit()
        self.url.setPlaceholderText("postgresql://用户名@县里服务器地址/数据库名（县信息员提供）")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码（不保存）")
        grid.addWidget(QLabel("县级数据库地址"), 0, 0)
        grid.addWidget(self.url, 0, 1, 1, 2)
        grid.addWidget(self.password, 0, 3)
        self.last_sync = styled_label("", "hint")
        self.last_sync.setWordWrap(True)
        grid.addWidget(QLabel("上次同步"), 1, 0)
        grid.addWidget(self.last_sync, 1, 1, 1, 3)
        self.pending = styled_label("", "hint")
        self.pending.setWordWrap(True)
        grid.addWidget(QLabel("待送出"), 2, 0)
        grid.addWidget(self.pending, 2, 1, 1, 3)
        self.sync_button = QPushButton("立即同步")
        self.sync_button.setProperty("primary", True)
        self.sync_button.clicked.connect(self.start_sync)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.status = styled_label("", "hint")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.sync_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.bar, 1)
        # Keeps the buttons their natural size while the progress bar is hidden.
        row.addStretch(1)
        grid.addLayout(row, 3, 0, 1, 4)
        grid.addWidget(self.status, 4, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        layout.addWidget(online)

        # After each sync: this site against the county, kind by kind, so a record one side lacks is seen at once.
        self.compared = QGroupBox("与县里核对（每次同步后）")
        checked = QVBoxLayout(self.compared)
        self.compare_summary = styled_label("", "hint")
        self.compare_summary.setWordWrap(True)
        checked.addWidget(self.compare_summary)
        self.compare_table = DataTable(["对象", "本站", "县里", "本站缺", "暂存待上级", "未能合并", "本站多", "待送出",
                                        "县里未采用"], "与县里核对", sortable=False)
        self.compare_table.setMinimumHeight(200)
        self.compare_table.setMaximumHeight(300)
        checked.addWidget(self.compare_table)
        self.compared.setVisible(False)
        layout.addWidget(self.compared)

        offline = QGroupBox("U 盘交换包（不联网时）")
        box = QVBoxLayout(offline)
        self.export_info = styled_label("", "hint")
        self.export_info.setWordWrap(True)
        box.addWidget(self.export_info)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("导出交换包…")
        self.export_button.clicked.connect(self.export)
        self.import_button = QPushButton("导入交换包…")
        self.import_button.clicked.connect(self.import_package)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.package_result = styled_label("", "hint")
        self.package_result.setWordWrap(True)
        box.addWidget(self.package_result)
        layout.addWidget(offline)

        self.keys = SiteKeysBox(window, self.address)
        layout.addWidget(self.keys)

        layout.addWidget(styled_label("未能合并的记录（同步冲突）：属于其他站点的记录以所属站点为准，请与县信息员核对", "hint"))
        self.conflicts = DataTable(["时间", "来源", "对象", "记录", "原因"], "同步冲突", sortable=False)
        self.conflicts.setMinimumHeight(160)
        layout.addWidget(self.conflicts, 1)

    def refresh(self) -> None:
        self.keys.refresh()
        # Counting what waits can scan many rows on a county's database: done on the search thread.
        searcher = self.window.searcher
        Op(self, lambda: _overview(searcher), on=self.window.search_pool).success(self._show).run()

    def _show(self, o: dict) -> None:
        st = o["state"]
        if not self.url.text():
            self.url.setText(st.get("url") or "")
        result = "；".join(st.get("last_result") or [])
        self.last_sync.setText(f"{_when(st['last_at'])}" + (f"：{result}" if result else ""))
        self.pending.setText("，".join(f"{k} {v} 条" for k, v in o["pending"].items())
                             or "没有，本站的记录都已送到县里")
        ex = o["export"]
        self.export_info.setText(f"上次导出：{_when(ex['last_at'])}" + (f"（{ex['last_file']}）" if ex["last_file"] else "")
                                 + f"；此后有变化的记录 {o['pending_export']} 条")
        self.conflicts.setRowCount(len(o["conflicts"]))
        for i, c in enumerate(o["conflicts"]):
            for j, value in enumerate((_when(c["at"]), c["source"], c["entity_name"], c["what"], c["reason"])):
                self.conflicts.setItem(i, j, QTableWidgetItem(value))

    def address(self) -> str:
        """The county database's address to connect with (the typed password added), or empty."""
        url = self.url.text().strip()
        return sync.with_password(url, self.password.text()) if url else ""

    def start_sync(self) -> None:
        url = self.url.text().strip()
        if not url:
            self.status.setText("请先填写县级数据库地址（县信息员提供）")
            return
        session = self.window.session
        self._cancel = False
        self._running = True
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self.status.setText("正在连接县级数据库…")

        connect_to = sync.with_password(url, self.password.text())
        if sync.without_password(url) != url:
            self.url.setText(sync.without_password(url))  # a password typed into the address is not shown again

        def work():
            # Its own connection: a long pull holds a write transaction, which must not be the one the screens
            # save through (they wait for it instead, up to the busy timeout).
            own = Session(Store(connect(session.store.path), session.store.path), session.user)
            try:
                sync.remember_url(own, url)
                return sync.sync(own, connect_to, progress=self._report, cancelled=lambda: self._cancel)
            finally:
                own.store.close()

        Op(self, work).success(self._synced).failure(self._failed).run()

    def _report(self, what: str, done: int, of: int) -> None:
        # Called on the worker thread; a few updates a second are enough for a person to follow.
        now = time.monotonic()
        if now - self._shown >= 0.2:
            self._shown = now
            self.signals.moved.emit(what, done, of)

    def _moved(self, what: str, done: int, of: int) -> None:
        if not self._running:
            return
        self.bar.setRange(0, of)
        self.bar.setValue(min(done, of) if of else 0)
        self.status.setText(f"{what}：{done} / {of} 条" if of else f"{what}：{done} 条")

    def cancel(self) -> None:
        self._cancel = True
        self.status.setText("正在取消（当前一批送完即停，已送达的不会丢失）…")

    def _done(self) -> None:
        self._running = False
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.bar.setVisible(False)
        self.refresh()

    def _synced(self, report: sync.SyncReport) -> None:
        self._done()
        self.keys.refresh()  # a first sync takes in the county's keys
        self.status.setText(("同步未完成：" if report.anchor else "同步完成：") + "；".join(report.lines()))
        if report.comparison is not None:
            self._show_comparison(report.comparison)

    def _show_comparison(self, comparison) -> None:
        self.compared.setVisible(True)
        lines = comparison.lines()
        self.compare_summary.setText(lines[0] if comparison.agrees else "\n".join(lines))
        kinds = [k for k in comparison.kinds if k.here or k.county]
        self.compare_table.setRowCount(len(kinds))
        for i, k in enumerate(kinds):
            values = (k.name, k.here, k.county, len(k.missing), len(k.waiting), len(k.refused), len(k.extra),
                      len(k.unsent) + len(k.lost), len(k.aside))
            for j, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if j >= 3 and value:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.compare_table.setItem(i, j, item)

    def _failed(self, exc: BaseException) -> None:
        self._done()
        self.status.setText(f"同步没有完成：{exc}")

    def export(self) -> None:
        default = f"交换包-{clock.local_now():%Y%m%d-%H%M}{SUFFIX}"
        path = files.save_path(self, "导出交换包", default, f"交换包 (*{SUFFIX})")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        session = self.window.session
        Op(self, lambda: packages.export_package(session, path)).with_progress("正在导出交换包…").success(
            lambda m: self._packaged(f"已导出 {path}：" + "，".join(
                f"{packages.NAMES[t]} {n}" for t, n in m["counts"].items() if n))).run()

    def import_package(self) -> None:
        path = files.open_path(self, "导入交换包", f"交换包 (*{SUFFIX});;所有文件 (*)")
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        session = self.window.session
        Op(self, lambda: packages.import_here(session, path)).with_progress("正在核对并导入交换包…").success(
            lambda r: self._packaged("；".join(r.lines()), "hint" if r.nothing_new else "done")).failure(
            self._not_imported).run()

    def _not_imported(self, exc: BaseException) -> None:
        """A refused package says so where the result goes and in a dialog: a grey line alone was missed."""
        text = str(exc)
        self._packaged(text if text.startswith("交换包未导入") else f"交换包未导入：{text}", "error")
        show_error(self, exc)

    def _packaged(self, text: str, role: str = "done") -> None:
        self.package_result.setText(text)
        self.package_result.setProperty("role", role)
        self.package_result.style().unpolish(self.package_result)  # the style sheet reads the role again
        self.package_result.style().polish(self.package_result)
        self.refresh()
