"""Writes the 统计 screen's figures to an .xlsx workbook, one sheet per breakdown, never leaving a half-written file."""

from __future__ import annotations

from pathlib import Path

from app.documents import xlsx
from app.services.statistics import COLUMNS, Breakdown, Row, Statistics


def export_statistics(stats: Statistics, path: Path | str) -> Path:
    """Write the three breakdowns (按类别, 按乡镇, 按月份) to `path`; returns the path written."""
    with xlsx.Book(path) as book:
        for breakdown in stats.breakdowns:
            _sheet(book, stats, breakdown)
    return Path(path)


def _sheet(book: xlsx.Book, stats: Statistics, breakdown: Breakdown) -> None:
    with_code = breakdown.kind == "township"  # a township's code is how other systems know it
    headers = [breakdown.key_header, *(["区划代码"] if with_code else []), *(label for _, label in COLUMNS)]
    # headers and the label column stay in view
    sheet = book.sheet(breakdown.title, headers, first_number=3 if with_code else 2,
                       title=f"{stats.place}{stats.period}医疗救助统计（{breakdown.title}）", lines=[
        f"统计范围：{stats.place}（{stats.jurisdiction or '全部'}）　出院（结算）日期："
        f"{stats.year}年{stats.first_month}月—{stats.last_month}月　"
        f"生成时间：{stats.generated_at:%Y-%m-%d %H:%M}　金额单位：元"])
    for row in (*breakdown.rows, breakdown.total):
        sheet.row(_values(row, with_code), bold=row is breakdown.total)


def _values(row: Row, with_code: bool) -> list[object]:
    return [row.label, *([row.key or ""] if with_code else []), *(row.value(name) for name, _ in COLUMNS)]
