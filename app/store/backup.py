"""Backups with SQLite's online backup API: timestamped files, the last N kept, restore with a safety copy."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from app.store.errors import StoreError

PREFIX = "jiuzhu-"
SUFFIX = ".sqlite3"
DEFAULT_KEEP = 30


def backups_dir(db_path: Path) -> Path:
    """Backups live beside the database, in a `backups` folder."""
    return db_path.parent / "backups"


def list_backups(folder: Path) -> list[Path]:
    """Backup files, oldest first (names sort by their timestamp)."""
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}")) if folder.is_dir() else []


def backup(conn: sqlite3.Connection, folder: Path, label: str = "manual", keep: int = DEFAULT_KEEP) -> Path:
    """Copy the live database consistently into a new timestamped file; delete the oldest beyond `keep`."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{PREFIX}{stamp}-{label}{SUFFIX}"
    partial = target.with_suffix(".partial")
    try:
        dest = sqlite3.connect(str(partial))
        try:
            conn.backup(dest)
        finally:
            dest.close()
        partial.replace(target)  # a backup file either is complete or does not exist
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"备份失败：{exc}。请检查 {folder} 是否可写、磁盘是否已满") from None
    for old in list_backups(folder)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return target


def backed_up_today(folder: Path) -> bool:
    """Whether any backup was written today (by its file name's date)."""
    today = datetime.now().strftime("%Y%m%d")
    return any(p.name.startswith(f"{PREFIX}{today}") for p in list_backups(folder))


def check_file(path: Path) -> None:
    """Refuse a file that is not an intact SQLite database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} 不是可用的数据库文件：{exc}") from None
    if result != "ok":
        raise StoreError(f"{path} 已损坏（integrity_check：{result}），不能用于恢复")


def restore(source: Path, db_path: Path) -> Path | None:
    """Replace the database with a backup; the current database is first backed up (returned), if readable."""
    if not source.is_file():
        raise StoreError(f"找不到备份文件 {source}")
    check_file(source)
    safety = None
    if db_path.exists():
        try:
            current = sqlite3.connect(str(db_path))
            try:
                safety = backup(current, backups_dir(db_path), label="before-restore", keep=0)
            finally:
                current.close()
        except StoreError:
            safety = None  # a damaged database cannot be copied; restoring is why we are here
    staged = db_path.with_name(db_path.name + ".restoring")
    staged.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(str(staged))
    try:
        src.backup(dest)
    finally:
        src.close()
        dest.close()
    # The old database's WAL must not be replayed onto the restored file.
    for extra in (db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        extra.unlink(missing_ok=True)
    staged.replace(db_path)
    return safety
