"""Preview a PDF (QtPdf), print it (QPrintDialog) or save a copy; documents are made off the GUI thread."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
)

from app.gui import files
from app.gui.ops import Op


class PdfPreview(QDialog):
    """A document on screen as it will print, with 打印 and 另存为."""

    def __init__(self, parent, path: Path, title: str):
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"预览 · {title}")
        self.resize(900, 980)
        layout = QVBoxLayout(self)
        self.document = QPdfDocument(self)
        self.document.load(str(self.path))
        view = QPdfView(self)
        view.setDocument(self.document)
        view.setPageMode(QPdfView.PageMode.MultiPage)
        view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        layout.addWidget(view, 1)
        bar = QHBoxLayout()
        for text, slot in (("打印…", self.print_), ("另存为…", self.save_as), ("关闭", self.accept)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            bar.addWidget(b)
        bar.insertStretch(0, 1)
        layout.addLayout(bar)

    def print_(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec():
            print_pdf(self.document, printer)

    def save_as(self) -> None:
        target = files.save_path(self, "另存为", self.path.name, "PDF (*.pdf)")
        if target:
            shutil.copyfile(self.path, target)


def print_pdf(document: QPdfDocument, printer: QPrinter) -> None:
    """Send every page to the printer at its resolution."""
    painter = QPainter(printer)
    try:
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            rect = painter.viewport()
            image = document.render(page, QSize(rect.width(), rect.height()))
            painter.drawImage(rect, image)
    finally:
        painter.end()


def show_document(parent, title: str, make) -> None:
    """Make a document in the background (make(path) writes it), then preview it."""
    folder = Path(tempfile.mkdtemp(prefix="jiuzhu-print-"))
    path = folder / f"{title}.pdf"
    Op(parent, lambda: make(path)).with_progress(f"正在生成{title}…").success(
        lambda made: PdfPreview(parent, made, title).exec()).run()
