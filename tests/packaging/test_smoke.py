"""`gui --smoke`, the packaging and CI check, ends with a traceback and exit 1 on an error: never a dialog that waits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

ROOT = Path(__file__).resolve().parents[2]


def run_smoke(tmp_path: Path, prelude: str) -> subprocess.CompletedProcess:
    code = (f"{prelude}\nfrom app.cli import main\n"
            f"raise SystemExit(main(['gui', '--smoke', '--db', {str(tmp_path / 'j.sqlite3')!r}]))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_smoke_on_a_fresh_database_passes(tmp_path):
    done = run_smoke(tmp_path, "")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "j.sqlite3").is_file()


def test_an_error_during_smoke_fails_the_run_instead_of_waiting_for_a_click(tmp_path):
    prelude = ("import app.gui.first_run as first_run\n"
               "class Broken:\n"
               "    def __init__(self, *args):\n"
               "        raise RuntimeError('a module missing from the bundle')\n"
               "first_run.FirstRunDialog = Broken")
    done = run_smoke(tmp_path, prelude)  # before: an error dialog, and the run hung until killed
    assert done.returncode == 1
    assert "RuntimeError: a module missing from the bundle" in done.stderr
