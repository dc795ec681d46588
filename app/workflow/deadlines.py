"""Deadlines in working days on the official calendar of holidays and 调休 (chinese-calendar)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_workday(day: date) -> bool:
    """A working day by the State Council's calendar; a year the package does not know yet counts Mon–Fri."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_workdays(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
    if end < start:
        return -workdays_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=n)))
