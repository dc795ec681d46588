"""Writes a 政策测算 to an .xlsx workbook through the one Excel writer: one sheet per table, the columns side by side."""

from __future__ import annotations

from pathlib import Path

from app.documents import xlsx
from app.services.simulation import Simulation


def export_simulation(sim: Simulation, path: Path | str) -> Path:
    """Write every table of the simulation to `path` (the whole file or nothing); returns the path."""
    title = f"{sim.place}{sim.period}医疗救助政策测算"
    with xlsx.Book(path) as book:
        for table in sim.tables.all():
            sheet = book.sheet(table.title.replace("（", "(").replace("）", ")")[:31], list(table.headers),
                               title=f"{title}（{table.title}）", lines=sim.heading(), first_number=2)
            for k, row in enumerate(table.rows):
                sheet.row(list(row), bold=k >= len(table.rows) - table.totals)
    return Path(path)
