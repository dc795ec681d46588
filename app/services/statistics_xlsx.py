"""Writes the 统计 screen's figures to an .xlsx workbook, one sheet per breakdown, never leaving a half-written file."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from app.services import xlsx_style as style
from app.services.statistics import COLUMNS, Breakdown, Row, Statistics


def export_statistics(stats: Statistics, path: Path | str) -> Path:
    """Write the three breakdowns (按类别, 按乡镇, 按月份) to `path`; returns the path written."""
    wb = Workbook()
    wb.remove(wb.active)
    for breakdown in stats.breakdowns:
        _sheet(wb.create_sheet(breakdown.title), stats, breakdown)
    return style.save_whole(wb, Path(path))


def _sheet(ws: Worksheet, stats: Statistics, breakdown: Breakdown) -> None:
    with_code = breakdown.kind == "township"  # a township's code is how other systems know it
    headers = [breakdown.key_header, *(["区划代码"] if with_code else []), *(label for _, label in COLUMNS)]
    width = len(headers)
    style.title_lines(ws, f"{stats.place}{stats.period}医疗救助统计（{breakdown.title}）", [
        f"统计范围：{stats.place}（{stats.jurisdiction or '全部'}）　出院（结算）日期："
        f"{stats.year}年{stats.first_month}月—{stats.last_month}月　"
        f"生成时间：{stats.generated_at:%Y-%m-%d %H:%M}　金额单位：元"], width)
    header_row = style.header(ws, headers)
    for row in (*breakdown.rows, breakdown.total):
        _data_row(ws, row, with_code, bold=row is breakdown.total)
    style.finish(ws, header_row, width)  # headers and the label column stay in view


def _data_row(ws: Worksheet, row: Row, with_code: bool, bold: bool) -> None:
    values: list[object] = [row.label, *([row.key or ""] if with_code else [])]
    values.extend(row.value(name) for name, _ in COLUMNS)
    style.data_row(ws, values, first_number=3 if with_code else 2, bold=bold)
