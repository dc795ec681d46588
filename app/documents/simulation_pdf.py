"""The one-page 政策测算 summary for the meeting that decides: the fund by tier, a chart, who gains and loses, limits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape
from typing import TYPE_CHECKING

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Paragraph, Spacer, Table, TableStyle

from app.documents.layout import build, grid, register_font, styles, usable_width
from app.domain.money import shown

if TYPE_CHECKING:
    from app.services.simulation import Simulation
    from app.services.simulation_tables import Table as SimTable

# The chart's bars: what the 医疗救助基金 pays, by tier.
CHART_COLOURS = (("医疗救助", colors.HexColor("#4472c4")), ("倾斜救助", colors.HexColor("#ed7d31")),
               ("再救助", colors.HexColor("#a5a5a5")), ("依申请救助", colors.HexColor("#ffc000")))
# The 受益与减少 rows worth a meeting's page; the bands stay in the workbook.
SUMMARY_ROWS = ("受益人数", "受益金额合计", "最多受益", "减少人数", "减少金额合计", "最多减少", "不变人数")
WAN = Decimal(10000)
PAGE_HEIGHT = 170 * mm   # landscape A4 less the margins, header and page number


def _text(value: object) -> str:
    """Counts as counts; amounts in 万元 to two places, half-up (a meeting reads 万元; the workbook keeps the fen)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(value / WAN) if isinstance(value, Decimal) else str(value)


def _grid(table: SimTable, width: float, rows: list[tuple] | None = None) -> Table:
    body = [list(table.headers)] + [[_text(v) for v in row] for row in (rows if rows is not None else table.rows)]
    if len(table.headers) > 9:  # many columns side by side: a smaller face keeps each figure on one line
        tight = {k: ParagraphStyle(f"tight-{k}", parent=styles()[k], fontSize=7, leading=9) for k in ("cell", "num", "head")}
        body = [[Paragraph(escape(str(v)), tight["head" if r == 0 else "num" if c else "cell"]) for c, v in enumerate(row)]
                for r, row in enumerate(body)]
    first = 30 * mm if len(table.headers) > 2 else width / 2
    rest = (width - first) / max(len(table.headers) - 1, 1)
    out = grid(body, [first] + [rest] * (len(table.headers) - 1), numeric_columns=range(1, len(table.headers)))
    if table.totals:
        out.setStyle(TableStyle([("BACKGROUND", (0, len(body) - table.totals), (-1, -1), colors.HexColor("#f2f2f2"))]))
    return out


def chart(sim: Simulation, width: float, height: float) -> Drawing:
    """Grouped bars: each column's 医疗救助基金 spending by tier, in 万元 (drawing only: the tables carry the fen)."""
    font = register_font()
    names = [name for name, _ in sim.scenarios]
    series = sim.tables.fund_series()
    colour = dict(CHART_COLOURS)
    d = Drawing(width, height)
    d.add(String(width / 2, height - 12, "医疗救助基金支出（万元）", fontName=font, fontSize=10, textAnchor="middle"))
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 40, 34, width - 60, height - 62
    bars.data = [[float(v) / 10000 for v in values] for _, values in series]
    bars.categoryAxis.categoryNames = names
    bars.categoryAxis.labels.fontName = font
    bars.categoryAxis.labels.fontSize = 8
    bars.valueAxis.labels.fontName = font
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.valueMin = 0
    bars.barLabelFormat = "%.1f"
    bars.barLabels.fontName = font
    bars.barLabels.fontSize = 6.5
    bars.barLabels.nudge = 6
    for k, (label, _) in enumerate(series):
        bars.bars[k].fillColor = colour[label]
        bars.bars[k].strokeColor = None
    d.add(bars)
    legend = Legend()
    legend.x, legend.y = 40, 12
    legend.fontName, legend.fontSize = font, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 7
    legend.colorNamePairs = [(colour[label], label) for label, _ in series]
    d.add(legend)
    return d


def _side_by_side(a, b, left: float, right: float) -> Table:
    out = Table([[a, b]], colWidths=[left + 6 * mm, right])
    out.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return out


def simulation_summary(path: Path | str, sim: Simulation) -> Path:
    """Write the one-page summary (landscape A4); everything is shrunk onto the page rather than run onto a second."""
    s = styles()
    wide = usable_width(True)
    left = wide * 0.42
    right = wide - left - 6 * mm
    t = sim.tables
    fund = t.fund
    said = "；".join(f"{name} {_text(fund[k])} 万元" + (f"（{'+' if fund[k] >= fund[0] else ''}{_text(fund[k] - fund[0])}）"
                                                        if k else "")
                     for k, (name, _) in enumerate(sim.scenarios))
    changes = [row for row in t.changes.rows if row[0] in SUMMARY_ROWS]
    story = [Paragraph(f"{sim.place}{sim.period}医疗救助政策测算", s["title"]),
             *(Paragraph(line, s["small"]) for line in sim.heading("万元（精确到分的数字见 Excel 工作簿）")),
             Spacer(1, 2 * mm),
             Paragraph(f"医疗救助基金支出：{said}", s["base"]),
             Spacer(1, 2 * mm),
             _grid(t.tiers, wide),
             Spacer(1, 3 * mm),
             _side_by_side(chart(sim, left, 62 * mm), _grid(t.changes, right, changes), left, right),
             Spacer(1, 3 * mm),
             _grid(t.categories, wide),
             Spacer(1, 3 * mm),
             _grid(t.limits, wide),
             Spacer(1, 2 * mm),
             Paragraph("按乡镇、按月份的数字和受影响最大的 20 人见同时导出的 Excel 工作簿。", s["small"])]
    page = KeepInFrame(wide, PAGE_HEIGHT, story, mode="shrink")
    return build(Path(path), [page], header=f"{sim.place} 医疗救助政策测算（内部讨论稿）",
                 title=f"{sim.place}{sim.period}医疗救助政策测算", wide=True)
