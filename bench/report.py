"""Each benchmark's figures as rows (figure, value, target), printed and, with --json, written for bench/run.py."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from pathlib import Path


def machine() -> str:
    """The machine a run was made on, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(li for li in Path("/proc/meminfo").read_text().splitlines() if li.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def emit(rows: list[tuple[str, str, str]], json_path: str | None) -> None:
    """Print the rows as a table; with a path, also write them there for the one-command report."""
    width = max(len(r[0]) for r in rows)
    for figure, value, target in rows:
        print(f"{figure:<{width}}  {value:<48}  {target}")
    if json_path:
        Path(json_path).write_text(json.dumps([{"figure": f, "value": v, "target": t} for f, v, t in rows],
                                              ensure_ascii=False), encoding="utf-8")
