"""Preview and print: the preview shows every page, and printing sends every page to the printer."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtPrintSupport import QPrinter  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from app.documents import forms  # noqa: E402
from app.gui.pdf_preview import PdfPreview, print_pdf  # noqa: E402


def test_preview_and_print_a_multi_page_roster(qtbot, tmp_path):
    rows = [{"name": f"测试{i}", "id_number": "340223199001010038", "village": "籍山镇茶丰村委会", "amount": "100.00"}
            for i in range(90)]
    path = forms.roster(tmp_path / "roster.pdf", "南陵县", "测试", rows)
    pages = len(PdfReader(str(path)).pages)
    preview = PdfPreview(None, path, "发放花名册")
    qtbot.addWidget(preview)
    assert preview.document.pageCount() == pages > 1
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    print_pdf(preview.document, printer)
    assert len(PdfReader(str(tmp_path / "printed.pdf")).pages) == pages
