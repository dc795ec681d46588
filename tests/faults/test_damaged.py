"""A damaged database is found at open, refused with the newest backup named, and restored on request while the
damaged file is kept aside (renamed, never deleted): through the store, the command line and the GUI dialog."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.store import backup
from app.store.check import check_database
from app.store.errors import DatabaseDamaged
from app.store.store import open_store

from .killing import AS_ADMIN, cli

pytestmark = pytest.mark.faults


def _middle_page(db: Path) -> None:
    """Overwrite one whole page in the middle of the file with random bytes (a bad sector, a torn copy)."""
    with sqlite3.connect(db) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = db.stat().st_size // page
    with db.open("r+b") as f:
        f.seek((pages // 2) * page)
        f.write(random.Random(7).randbytes(page))


def _truncate(db: Path) -> None:
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 2)


def _not_sqlite(db: Path) -> None:
    db.write_bytes(b"PK\x03\x04" + b"\x00" * 26 + "这是一个 Excel 文件，被另存成了数据库的名字".encode() * 50)


def _header(db: Path) -> None:
    with db.open("r+b") as f:
        f.write(b"\x00" * 16)


def _empty(db: Path) -> None:
    db.write_bytes(b"")


DAMAGE = {"middle-page": _middle_page, "truncated": _truncate, "not-sqlite": _not_sqlite, "header": _header,
          "emptied": _empty}


@pytest.fixture
def county(demo_county, tmp_path) -> tuple[Path, Path]:
    """A copy of the demo county with one backup of it beside it: (database, backup)."""
    db = tmp_path / "county.sqlite3"
    shutil.copy2(demo_county, db)
    code, out, err = cli("backup", "--db", str(db))
    assert code == 0, err
    return db, backup.newest(db)


def visits(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM visits").fetchone()[0]


@pytest.mark.parametrize("kind", DAMAGE)
def test_damage_is_found_at_open_and_the_newest_backup_is_named(county, kind):
    db, saved = county
    DAMAGE[kind](db)
    damaged = db.read_bytes()
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    error = info.value
    assert error.backup == saved and Path(error.path) == db
    assert "已损坏" in str(error) and str(db) in str(error) and saved.name in str(error)
    assert db.read_bytes() == damaged, "opening must not write to a damaged file"
    assert backup.list_backups(backup.backups_dir(db)) == [saved], "no backup is taken of a damaged file"


@pytest.mark.parametrize("kind", ["middle-page", "truncated", "not-sqlite"])
def test_the_command_line_says_how_to_restore_and_restoring_keeps_the_damaged_file(county, kind):
    db, saved = county
    expected = visits(saved)
    DAMAGE[kind](db)
    damaged = db.read_bytes()
    code, out, err = cli("resettle", *AS_ADMIN, "--year", "2025", "--db", str(db))
    assert code == 2 and "已损坏" in err and "Traceback" not in err
    command = err.split("请运行：")[1].strip()
    assert command == f'jiuzhu restore "{saved}" --db "{db}"'
    code, out, err = cli("restore", str(saved), "--db", str(db))
    assert code == 0, err
    aside = [p for p in db.parent.iterdir() if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged, "the damaged file is kept, renamed, unchanged"
    assert "损坏的数据库已改名留存" in out
    assert check_database(db) == [] and visits(db) == expected
    assert backup.list_backups(backup.backups_dir(db)) == [saved], "the damaged file is never offered as a backup"


def test_a_damaged_backup_is_refused_and_the_database_left_alone(county):
    db, saved = county
    _middle_page(db)
    damaged = db.read_bytes()
    _truncate(saved)
    code, out, err = cli("restore", str(saved), "--db", str(db))
    assert code == 2 and ("不能用于恢复" in err or "不是可用的数据库" in err)
    assert db.read_bytes() == damaged
    assert not [p for p in db.parent.iterdir() if ".damaged-" in p.name]


def test_no_backup_says_so(tmp_path, demo_county):
    db = tmp_path / "county.sqlite3"
    shutil.copy2(demo_county, db)
    _truncate(db)
    code, out, err = cli("resettle", *AS_ADMIN, "--year", "2025", "--db", str(db))
    assert code == 2 and "没有找到备份" in err and "restore" not in err


@pytest.mark.parametrize("kind", ["truncated", "not-sqlite", "header"])
def test_a_file_too_large_for_quick_check_at_open_is_still_checked(county, kind, monkeypatch):
    """Beyond QUICK_CHECK_MAX_BYTES only the header, the schema and each table's ends are read at open."""
    from app.store import integrity

    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    db, saved = county
    open_store(db).close()  # whole: the cheap checks pass
    DAMAGE[kind](db)
    with pytest.raises(DatabaseDamaged):
        open_store(db)


def test_a_large_file_missing_its_last_page_is_found_by_its_header(county, monkeypatch):
    """One page cut off the end (a copy that stopped short): the header still counts it, so the file is refused."""
    from app.store import integrity

    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    db, _ = county
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size - 4096)
    with pytest.raises(DatabaseDamaged) as info:
        open_store(db)
    assert "文件不完整" in str(info.value)
