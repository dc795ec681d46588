"""Where the database lives by default: the OS's per-user data folder."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir


def default_db_path() -> Path:
    """%LOCALAPPDATA%\\jiuzhu\\jiuzhu.sqlite3 on Windows, ~/.local/share/jiuzhu/ on Linux."""
    return Path(user_data_dir("jiuzhu", appauthor=False)) / "jiuzhu.sqlite3"
