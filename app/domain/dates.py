"""Calendar dates as caseworkers write them: 2025-03-20, 2025/3/20, 2025.3.20, 20250320, 2025年3月20日."""

from __future__ import annotations

import re
from datetime import date

# Year, month and day with any one of the separators people type, or eight digits in a row.
_WRITTEN = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?")
_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_day(text: str) -> date | None:
    """The date written, or None if it is not one (a wrong month or day included)."""
    raw = text.strip()
    found = _WRITTEN.fullmatch(raw) or _DIGITS.fullmatch(raw)
    if not found:
        return None
    try:
        return date(*(int(x) for x in found.groups()))
    except ValueError:
        return None
