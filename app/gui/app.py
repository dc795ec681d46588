"""Starting the desktop app: font and style, logging, the store, first run, login, the main window, --smoke."""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.gui import theme, translations, walk_probe
from app.gui.ops import report_errors_on_stderr, show_error
from app.services import users
from app.services.session import SYSTEM, Session, User
from app.store.errors import DatabaseDamaged, StoreError
from app.store.store import Store, open_store

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


def _logging(folder: Path) -> Path | None:
    path = folder / "jiuzhu.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None  # a read-only folder: opening the database says so in words; no log is no reason to fail first
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("jiuzhu").addHandler(handler)
    logging.getLogger("jiuzhu").setLevel(logging.INFO)
    return path


def _reader(store: Store) -> Store:
    """A second connection for reads on the GUI thread (WAL lets it read while the worker writes)."""
    from app.gui.main_window import _reader_store

    return _reader_store(store)


def run_gui(db_path: Path, smoke: bool = False, screenshots: Path | None = None) -> int:
    """Run the app on the database at `db_path`; with `smoke`, open every screen once offscreen and exit 0.

    A smoke run reports errors on stderr and exits 1 instead of showing a dialog nobody can close.
    """
    errors = report_errors_on_stderr() if smoke else []
    if smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if QApplication.instance() is None:
        # Fractional scaling (125%, 150% on Windows laptops) must be chosen before the application exists.
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("救助通")
    translations.install(app)
    theme.apply(app)
    walk_probe.install()  # only when packaging/walk.py asked for it
    _logging(db_path.parent / "logs")
    sys.excepthook = lambda t, e, tb: show_error(None, e)
    store = open_or_recover(db_path, smoke)
    if store is None:
        return 2
    session = Session(store, SYSTEM)
    from app.gui.first_run import FirstRunDialog
    from app.gui.login import LoginDialog

    if not users.has_admin(store.conn):
        wizard = FirstRunDialog(session)
        if smoke:
            _snap(wizard, screenshots, "00-first-run")
            return 1 if errors else 0
        if not wizard.exec():
            return 0
        user = wizard.admin_user
    elif smoke:
        user = users.find_user(store.conn, "admin") or SYSTEM
    else:
        login = LoginDialog(store.path)
        if not login.exec():
            return 0
        user = login.user
    window = open_window(store, user)
    if smoke:
        return _smoke(app, window, screenshots) or (1 if errors else 0)
    window.start_daily_backup()
    return app.exec()


def open_window(store: Store, user: User) -> MainWindow:
    """Show the main window for a signed-in user (at start, and after a switch of user); the application holds it."""
    from app.gui.main_window import MainWindow

    window = MainWindow(Session(store, user), Session(_reader(store), user))
    QApplication.instance().main_window = window  # the one window the program shows; a switch replaces it
    window.show()
    return window


def open_or_recover(db_path: Path, smoke: bool = False) -> Store | None:
    """The store, or None after telling why not: a damaged database offers its newest backup, any other problem
    (read-only, disk full, newer version) is a message box. With `smoke` nothing is shown, only written to stderr."""
    try:
        # The day's backup is made after the window is up (MainWindow.start_daily_backup), not before it appears.
        return open_store(db_path, daily_backup=False)
    except DatabaseDamaged as exc:
        sys.stderr.write(str(exc) + "\n")
        if smoke:
            return None
        from app.gui.recovery import RecoveryDialog

        if not RecoveryDialog(None, exc).exec():
            return None
        return open_or_recover(db_path, smoke)
    except StoreError as exc:
        sys.stderr.write(str(exc) + "\n")
        if not smoke:
            QMessageBox.critical(None, "无法打开数据库", str(exc))
        return None


def _snap(widget, folder: Path | None, name: str) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        widget.resize(widget.size().expandedTo(widget.sizeHint()))
        widget.grab().save(str(folder / f"{name}.png"))


def _smoke(app: QApplication, window, screenshots: Path | None) -> int:
    """Visit every screen, let background work finish, save screenshots if asked, exit 0."""
    from app.gui.ops import Op, pool

    def settle() -> None:
        for _ in range(200):
            app.processEvents()
            pool().waitForDone(50)
            app.processEvents()
            if not Op.running:
                break

    window.registry.query.setText("张")
    window.registry.run_search()
    settle()
    if window.registry.model.rowCount():
        window.open_person(window.registry.model.person_id(0))
        settle()
        member = window.household.selected()
        if member:
            window.open_bill(member["id"])
            settle()
    for i, (name, page) in enumerate(window.pages):
        window.nav.setCurrentRow(i)
        settle()
        _snap(window, screenshots, f"{i + 1:02d}-{name}")
    window.close()
    QTimer.singleShot(0, app.quit)
    return 0
