"""Rules of the house that a test can hold: the core never imports Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def test_only_gui_imports_qt():
    offenders = []
    for path in APP.rglob("*.py"):
        if "gui" in path.relative_to(APP).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6") for n in names):
                offenders.append(str(path.relative_to(APP)))
    assert offenders == []


def test_engine_runs_without_qt_loaded():
    code = ("import sys, app.cli, app.policy.settle, app.policy.engine; "
            "assert not [m for m in sys.modules if m.startswith('PySide6')]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_store_and_session_start_without_pypinyin():
    """pypinyin takes about a second to import on a slow machine; every command opens the store, few spell a name."""
    code = "import sys, app.store, app.services.session; print(sorted(m for m in sys.modules if m.startswith('pypinyin')))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_initials_load_pypinyin_on_first_use():
    from app.domain.names import initials

    assert initials("张三") == "zs"
