"""Deadlines in working days on the official calendar of holidays and 调休 (chinese-calendar)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


# 全国年节及纪念日放假办法 (as revised in 2024, in force from 2025): the holidays on fixed dates of the solar
# calendar, as (month, day): 元旦 1月1日, 劳动节 5月1日、2日, 国庆节 10月1日至3日. 清明节 falls on the 清明 solar term, which the package computes
# for any year. The lunar ones (春节, 端午节, 中秋节) and the year's 调休 come only with the State Council's notice for the
# year, so a year the package does not know yet is Monday–Friday less what is certain: never a fixed-date holiday
# counted as a working day (1 January of such a year was, and a deadline across it came a day early).
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def is_workday(day: date) -> bool:
    """A working day by the State Council's calendar; for a year the package does not know yet, Monday–Friday other
    than the holidays whose dates the law fixes (FIXED_HOLIDAYS and 清明)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS and not _qingming(day)


def _qingming(day: date) -> bool:
    if day.month != 4:
        return False
    try:
        return any(name == "清明" for _, name in chinese_calendar.get_solar_terms(day, day))
    except (NotImplementedError, ValueError, KeyError, IndexError):
        return False


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
