"""Where the files shipped beside the code live (resources/, policies/): the checkout, or the frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def base_dir() -> Path:
    """The folder that holds resources/ and policies/.

    A PyInstaller build unpacks them into sys._MEIPASS (the bundle's _internal folder); from a checkout or
    an editable install they sit at the repository root, one level above this package.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parents[1]


def resource_path(*parts: str) -> Path:
    """A shipped file or folder by its path under the base folder, e.g. resource_path("resources", "fonts")."""
    return base_dir().joinpath(*parts)
