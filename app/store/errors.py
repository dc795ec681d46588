"""Errors of the store and of the use cases, with Chinese messages that name the field."""

from __future__ import annotations

class StoreError(RuntimeError):
    """The database cannot be used as it is (newer version, damaged, read-only); the message says what to do."""


class DatabaseReadOnly(StoreError):
    """The database file, its folder or its disk cannot be written."""


class DiskFull(StoreError):
    """The disk holding the database (or a backup) has no room left; the write was undone."""


class DatabaseDamaged(StoreError):
    """The database file is not an intact SQLite database; `backup` is the newest backup beside it, if any."""

    def __init__(self, message: str, path=None, backup=None, detail: str = ""):
        super().__init__(message)
        self.path = path
        self.backup = backup
        self.detail = detail
