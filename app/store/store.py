"""Opening a store: refuse a damaged or read-only database with the reason, create or upgrade the schema (backing
up first), refuse newer databases, daily backup."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from app.store import audit
from app.store import backup as backups
from app.store import integrity
from app.store.clock import now
from app.store.db import connect, ensure_writable, read_only_message, transaction
from app.store.errors import DatabaseDamaged, DatabaseReadOnly, StoreError
from app.store.schema import LATEST, MIGRATIONS


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, db_path: Path | None, target: int = LATEST) -> list[int]:
    """Apply the missing migrations, each in its own transaction; back up first if the database had data."""
    current = schema_version(conn)
    if current > LATEST:
        raise StoreError(f"数据库 {db_path} 由更新版本的救助通写入（数据库版本 {current}，本程序只认识到 {LATEST}）。"
                         f"请安装新版本的救助通再打开；为免损坏数据，本程序不会打开它")
    pending = [m for m in MIGRATIONS if current < m.version <= target]
    if pending and current > 0 and db_path is not None:
        backups.backup(conn, backups.backups_dir(db_path), label=f"before-v{pending[0].version}", keep=0)
    for m in pending:
        if m.rebuilds:
            conn.execute("PRAGMA foreign_keys = OFF")
        try:
            with transaction(conn):
                if callable(m.apply):
                    m.apply(conn)
                else:
                    for statement in m.apply:
                        conn.execute(statement)
                if m.rebuilds and conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise StoreError(f"升级到数据库版本 {m.version} 时发现记录之间的引用不一致，已撤销本次升级")
                conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                             (m.version, m.name, now()))
                conn.execute(f"PRAGMA user_version = {int(m.version)}")
        finally:
            if m.rebuilds:
                conn.execute("PRAGMA foreign_keys = ON")
        audit.columns_changed(conn)
    return [m.version for m in pending]


@dataclass
class Store:
    """An open database and where it lives; `db` is sqlite-utils over the same connection, for reads."""

    conn: sqlite3.Connection
    path: Path

    @property
    def db(self) -> sqlite_utils.Database:
        # Reads only: sqlite-utils' write helpers commit by themselves, which would split a transaction.
        return sqlite_utils.Database(self.conn)

    @property
    def backups(self) -> Path:
        return backups.backups_dir(self.path)

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else default

    def close(self) -> None:
        self.conn.close()


def open_store(path: Path | str, daily_backup: bool = True, create: bool = True) -> Store:
    """Open (creating if allowed) and upgrade the database at `path`.

    Raises DatabaseDamaged (with the newest backup to offer) if the file is not whole, DatabaseReadOnly if it
    cannot be written, before anything is changed."""
    path = Path(path)
    if not path.exists() and not create:
        raise StoreError(f"找不到数据库 {path}")
    existed = path.exists()
    if existed and path.stat().st_size == 0:
        if backups.own_backups(path):  # a database that had backups was not meant to be empty
            raise damaged(path, "文件是空的（0 字节），而它旁边有备份：内容已经丢失")
    elif existed:
        try:
            problem = integrity.header_problem(path)
        except OSError as exc:
            raise StoreError(f"无法读取数据库 {path}：{exc.strerror}。请检查本用户是否有读写这个文件的权限") from None
        if problem:
            raise damaged(path, problem)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise DatabaseReadOnly(read_only_message(path)) from None
    backups.clear_leftovers(path)  # a backup killed half-way is no backup; its file would only fill the disk
    try:
        conn = connect(path)
    except DatabaseDamaged as exc:
        raise damaged(path, exc.detail) from None
    try:
        problem = integrity.damage(conn, path) if existed else None
        if problem:
            raise damaged(path, problem)
        ensure_writable(conn, path)
        migrate(conn, path)
        if daily_backup and not backups.backed_up_today(path):
            backups.backup(conn, backups.backups_dir(path), label="daily")
    except BaseException:
        conn.close()
        raise
    store = Store(conn, path)
    from app.exchange import keys  # the site's keys, made at its first start (a database from before them too)

    keys.mine(store)
    return store


def damaged(path: Path, detail: str) -> DatabaseDamaged:
    """The error for a damaged database: what is wrong, and the newest backup beside it to restore."""
    latest = backups.newest(path)
    text = f"数据库 {path} 已损坏：{detail}。为免损坏扩大，救助通不会打开它。"
    if latest is None:
        text += f"在 {backups.backups_dir(path)} 中没有找到备份；请不要删除或覆盖这个文件，联系县里的技术人员。"
    else:
        when = backups.taken_at(latest)
        text += (f"最近的备份是 {when:%Y-%m-%d %H:%M} 的 {latest.name}；恢复后，此后录入的内容需要重新录入，"
                 f"损坏的文件会改名留在原处，不会删除。" if when else f"最近的备份是 {latest.name}。")
    return DatabaseDamaged(text, path, latest, detail)
