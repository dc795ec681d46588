"""What the main window does not load at start: the PDF and Excel libraries come with the first document."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("PySide6")


def test_the_window_starts_without_reportlab_or_xlsxwriter():
    code = ("import sys, app.gui.app, app.gui.main_window; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'xlsxwriter', 'openpyxl'}))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
