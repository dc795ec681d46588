"""The GUI at start on a damaged database: the dialog names the backup's date and restores it (pytest-qt)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

from app.gui.app import open_or_recover  # noqa: E402
from app.gui.recovery import RecoveryDialog  # noqa: E402
from app.store import backup  # noqa: E402
from app.store.check import check_database  # noqa: E402
from app.store.errors import DatabaseDamaged  # noqa: E402
from app.store.store import open_store  # noqa: E402

from .killing import cli  # noqa: E402
from .test_damaged import _middle_page, _truncate, visits  # noqa: E402

pytestmark = pytest.mark.faults
SHOTS = os.environ.get("JIUZHU_SCREENSHOTS")


@pytest.fixture
def damaged(demo_county, tmp_path) -> DatabaseDamaged:
    db = tmp_path / "county.sqlite3"
    shutil.copy2(demo_county, db)
    assert cli("backup", "--db", str(db))[0] == 0
    _middle_page(db)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    return info.value


def test_the_dialog_restores_the_newest_backup_and_keeps_the_damaged_file(qtbot, damaged):
    db = Path(damaged.path)
    before = db.read_bytes()
    dialog = RecoveryDialog(None, damaged)
    qtbot.addWidget(dialog)
    dialog.show()
    when = backup.taken_at(damaged.backup)
    assert dialog.restore_button.text() == f"恢复最近的备份（{when:%Y-%m-%d %H:%M}）"
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "recovery-dialog.png"))
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=20_000)
    assert dialog.set_aside is not None and dialog.set_aside.read_bytes() == before
    assert check_database(db) == [] and visits(db) == visits(damaged.backup)
    store = open_or_recover(db, smoke=True)
    assert store is not None
    store.close()


def test_a_failed_restore_is_shown_in_the_dialog_and_nothing_is_moved(qtbot, damaged):
    _truncate(damaged.backup)
    dialog = RecoveryDialog(None, damaged)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "恢复没有完成" in dialog.status.text(), timeout=20_000)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert not [p for p in Path(damaged.path).parent.iterdir() if ".damaged-" in p.name]


def test_without_a_backup_there_is_nothing_to_press(qtbot, damaged):
    damaged.backup = None
    dialog = RecoveryDialog(None, damaged)
    qtbot.addWidget(dialog)
    assert not dialog.restore_button.isEnabled()


def test_smoke_start_on_a_damaged_database_says_so_without_a_dialog(damaged, capsys):
    assert open_or_recover(Path(damaged.path), smoke=True) is None
    assert "已损坏" in capsys.readouterr().err
