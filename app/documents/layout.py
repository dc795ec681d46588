"""A4 page layout shared by every document: the bundled font embedded, header, 第 X 页 共 Y 页, wrapping cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from app.resources import resource_path

FONT = "WenQuanYiMicroHei"


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register the bundled CJK font once; reportlab embeds only the glyphs a document uses (a subset)."""
    font_file = resource_path("resources", "fonts", "wqy-microhei.ttc")
    pdfmetrics.registerFont(TTFont(FONT, str(font_file), subfontIndex=0))
    return FONT


@lru_cache(maxsize=1)
def styles() -> Mapping[str, ParagraphStyle]:
    """Paragraph styles; CJK word wrap so long names and addresses break inside their cells. Made once (a slip has
    a hundred cells, and making the seven styles per cell was a quarter of a slip's time); read-only."""
    font = register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return MappingProxyType({
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, alignment=TA_CENTER, spaceAfter=8),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "num": ParagraphStyle("num", parent=base, fontSize=9, leading=12, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#333333")),
        "head": ParagraphStyle("head", parent=base, fontSize=9, leading=12, alignment=TA_CENTER),
    })


def cell(text: object, style: str = "cell") -> Paragraph:
    """Text that wraps inside a table cell (escaped: names may contain & or <)."""
    from xml.sax.saxutils import escape

    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), styles()[style])


def grid(rows: Sequence[Sequence[object]], widths: Sequence[float], header_rows: int = 1,
         numeric_columns: Sequence[int] = ()) -> Table:
    """A ruled table whose header rows repeat on every page; plain values become wrapping cells."""
    body = []
    for r, row in enumerate(rows):
        out = []
        for c, value in enumerate(row):
            if not isinstance(value, str | int | float | type(None)) and not hasattr(value, "quantize"):
                out.append(value)
            elif r < header_rows:
                out.append(cell(value, "head"))
            else:
                out.append(cell(value, "num" if c in numeric_columns else "cell"))
        body.append(out)
    table = Table(body, colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8edf3")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


class Header(Flowable):
    """Takes no room; from the page it lands on, the running header reads `text` (in a file of several people's
    slips, a slip running onto a second page says whose it is)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self) -> None:
        self.canv.header = self.text  # kept with each page's state by _NumberedCanvas


class _NumberedCanvas(Canvas):
    """Holds pages until the end, so each can say 第 X 页 共 Y 页."""

    header = ""

    def __init__(self, *args, **kwargs):
        # Start in the bundled font, so no page refers to a font the PDF does not carry (Helvetica otherwise).
        kwargs.setdefault("initialFontName", register_font())
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            width, height = self._pagesize
            self.setFont(register_font(), 8)
            self.setFillColor(colors.HexColor("#444444"))
            self.drawString(15 * mm, height - 10 * mm, self.header)
            self.drawCentredString(width / 2, 8 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super().showPage()
        super().save()


def build(path: Path, story: list, header: str, title: str, wide: bool = False) -> Path:
    """Write the story to an A4 PDF (landscape if `wide`), atomically: a half-written file never remains."""
    register_font()
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(str(partial), pagesize=size, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=16 * mm, bottomMargin=15 * mm, title=title, author="救助通", creator="救助通")
    canvas = type("PageCanvas", (_NumberedCanvas,), {"header": header})
    try:
        doc.build(story, canvasmaker=canvas)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def usable_width(wide: bool = False) -> float:
    return (landscape(A4) if wide else A4)[0] - 30 * mm
