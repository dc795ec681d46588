"""Where the caseworker's data lives: the OS's per-user data folder (the database, and the county's policy files)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir


def data_dir() -> Path:
    """%LOCALAPPDATA%\\jiuzhu on Windows, $XDG_DATA_HOME/jiuzhu (~/.local/share/jiuzhu) on Linux.

    Apart from the program folder on purpose: an upgrade replaces the program folder, never this one.
    """
    return Path(user_data_dir("jiuzhu", appauthor=False))


def default_db_path() -> Path:
    """The database file in the data folder: %LOCALAPPDATA%\\jiuzhu\\jiuzhu.sqlite3 on Windows."""
    return data_dir() / "jiuzhu.sqlite3"


def county_policies_dir() -> Path:
    """The county's own policy files (`jiuzhu policy install`); one here overrides the bundled policy of its id."""
    return data_dir() / "policies"
