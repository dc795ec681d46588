"""The one-page 政策测算 summary for the meeting that decides: the fund by tier, a chart, who gains and loses, limits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Paragraph, Spacer, Table, TableStyle

from app.documents.layout import build, grid, register_font, styles, usable_width
from app.domain.money import shown

if TYPE_CHECKING:
    from app.services.simulation import Simulation
    from app.services.simulation_tables import Table as SimTable

# The chart's bars: what the 医疗救助基金 pays, by tier (rows of the 按待遇 table).
CHART_TIERS = (("医疗救助", colors.HexColor("#4472c4")), ("倾斜救助", colors.HexColor("#ed7d31")),
               ("再救助", colors.HexColor("#a5a5a5")), ("依申请救助", colors.HexColor("#ffc000")))
# The 受益与减少 rows worth a meeting's page; the bands stay in the workbook.
SUMMARY_ROWS = ("受益人数", "受益金额合计", "最多受益", "减少人数", "减少金额合计", "最多减少", "不变人数")
PAGE_HEIGHT = 170 * mm   # landscape A4 less the margins, header and page number


def _text(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(value) if hasattr(value, "quantize") else str(value)


def _grid(table: SimTable, width: float, rows: list[tuple] | None = None) -> Table:
    body = [list(table.headers)] + [[_text(v) for v in row] for row in (rows if rows is not None else table.rows)]
    first = 26 * mm if len(table.headers) > 2 else width / 2
    rest = (width - first) / max(len(table.headers) - 1, 1)
    out = grid(body, [first] + [rest] * (len(table.headers) - 1), numeric_columns=range(1, len(table.headers)))
    if table.totals:
        out.setStyle(TableStyle([("BACKGROUND", (0, len(body) - table.totals), (-1, -1), colors.HexColor("#f2f2f2"))]))
    return out


def chart(sim: Simulation, width: float, height: float) -> Drawing:
    """Grouped bars: each column's 医疗救助基金 spending by tier, in 万元 (drawing only: the tables carry the fen)."""
    font = register_font()
    by_label = {row[0]: row for row in sim.tables.tiers.rows}
    names = [name for name, _ in sim.scenarios]
    # 现行 at 1, then each proposal at 2k, its 增减 column beside it.
    picks = [1] + [2 * k for k in range(1, len(names))]
    tiers = [(label, colour) for label, colour in CHART_TIERS if any(by_label[label][p] for p in picks)]
    tiers = tiers or list(CHART_TIERS[:1])
    d = Drawing(width, height)
    d.add(String(width / 2, height - 12, "医疗救助基金支出（万元）", fontName=font, fontSize=10, textAnchor="middle"))
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 40, 34, width - 60, height - 62
    bars.data = [[float(by_label[label][p]) / 10000 for p in picks] for label, _ in tiers]
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
    for k, (_, colour) in enumerate(tiers):
        bars.bars[k].fillColor = colour
        bars.bars[k].strokeColor = None
    d.add(bars)
    legend = Legend()
    legend.x, legend.y = 40, 12
    legend.fontName, legend.fontSize = font, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 7
    legend.colorNamePairs = [(colour, label) for label, colour in tiers]
    d.add(legend)
    return d


def simulation_summary(path: Path | str, sim: Simulation) -> Path:
    """Write the one-page summary (landscape A4); everything is shrunk onto the page rather than run onto a second."""
    s = styles()
    wide = usable_width(True)
    left = wide * 0.56
    right = wide - left - 6 * mm
    t = sim.tables
    fund = t.fund
    said = "；".join(f"{name} {shown(fund[k])} 元" + (f"（{'+' if fund[k] >= fund[0] else ''}{shown(fund[k] - fund[0])}）"
                                                      if k else "")
                     for k, (name, _) in enumerate(sim.scenarios))
    changes = [row for row in t.changes.rows if row[0] in SUMMARY_ROWS]
    story = [Paragraph(f"{sim.place}{sim.period}医疗救助政策测算", s["title"]),
             *(Paragraph(line, s["small"]) for line in sim.heading()),
             Spacer(1, 2 * mm),
             Paragraph(f"医疗救助基金支出：{said}", s["base"]),
             Spacer(1, 2 * mm)]
    top = Table([[_grid(t.tiers, left), chart(sim, right, 62 * mm)]], colWidths=[left + 6 * mm, right])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(top)
    story.append(Spacer(1, 3 * mm))
    bottom = Table([[_grid(t.changes, left, changes), _grid(t.limits, right)]], colWidths=[left + 6 * mm, right])
    bottom.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(bottom)
    story.append(Spacer(1, 3 * mm))
    story.append(_grid(t.categories, wide))
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph("按乡镇、按月份的数字和受影响最大的 20 人见同时导出的 Excel 工作簿。", s["small"]))
    page = KeepInFrame(wide, PAGE_HEIGHT, story, mode="shrink")
    return build(Path(path), [page], header=f"{sim.place} 医疗救助政策测算（内部讨论稿）",
                 title=f"{sim.place}{sim.period}医疗救助政策测算", wide=True)
