"""Each benchmark's figures as rows (figure, value, target), printed and, with --json, written for bench/run.py."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
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


def cpu() -> float:
    """CPU seconds of this process and of its worker processes (those that have ended)."""
    mine, theirs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def per_doubling(sizes: list[float], times: list[float]) -> float:
    """How much the time grows each time the size doubles, from the smallest to the largest measured: 2.0 is
    linear, 4.0 quadratic (the exponent of time ∝ size^k, as 2^k)."""
    if len(sizes) < 2 or min(times) <= 0 or sizes[-1] <= sizes[0]:
        return float("nan")
    return 2 ** (math.log(times[-1] / times[0]) / math.log(sizes[-1] / sizes[0]))


def growth(sizes: list[float], times: list[float]) -> str:
    """The growth of a figure as printed beside it; a figure growing clearly faster than linear says so."""
    ratio = per_doubling(sizes, times)
    if ratio != ratio:
        return "growth: —"
    flag = "; FASTER THAN LINEAR" if ratio > 2.5 else ""
    return f"×{ratio:.2f} per doubling (linear 2, quadratic 4){flag}"
