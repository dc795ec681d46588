"""Amounts in 大写 as accounting writes them: 陆仟零柒元壹角肆分, 整 after 元 or 角, one 零 for a run of zeros."""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import round_fen

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
BIG_UNITS = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """0 < n < 10000, with 零 where an inner place is empty (1005 → 壹仟零伍)."""
    out, zero = [], False
    for place in range(3, -1, -1):
        digit = n // 10 ** place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + SMALL_UNITS[place])
    return "".join(out)


def _integer(n: int) -> str:
    if n == 0:
        return ""
    sections = []
    while n:
        sections.append(n % 10000)
        n //= 10000
    out = []
    need_zero = False
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or s < 1000):
            out.append("零")
        out.append(_section(s) + BIG_UNITS[i])
        need_zero = False
    return "".join(out)


def amount_in_words(value: Decimal) -> str:
    """The 大写 of a non-negative yuan amount, rounded half-up to the fen."""
    value = round_fen(Decimal(value))
    if value < 0:
        raise ValueError("大写金额不能为负数")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    words = _integer(yuan)
    if yuan:
        words += "元"
    if jiao == 0 and fen == 0:
        return words + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 1005.05 → 壹仟零伍元零伍分
    if fen:
        words += DIGITS[fen] + "分"
    else:
        words += "整"
    return words
