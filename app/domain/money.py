"""Money as Decimal yuan: parsing with at most two decimals, half-up rounding to the fen."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.domain.errors import FieldError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# No bill, income or limit comes near this; beyond it a typo is far likelier than a real amount.
MAX_AMOUNT = Decimal("1e12")


class MoneyError(FieldError):
    """A money value that cannot be accepted; the message is Chinese and says how to fix it."""


def round_fen(value: Decimal) -> Decimal:
    """Round half-up to the fen, the rounding every document uses for payments."""
    return value.quantize(FEN, ROUND_HALF_UP)  # positional: a keyword costs twice the rounding itself


# As amounts are written on slips and in spreadsheets: "12,000.50", "1200元", "¥1,200". Commas only in groups of
# three, so that a mistyped "1,20" is refused rather than read as 120.
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def _plain(text: str) -> str:
    text = text.strip().removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    return text.replace(",", "") if _GROUPED.fullmatch(text) else text


# The usual amount, as a bill list or form holds it: at most 12 digits and 2 decimals, nothing else to strip.
_SIMPLE = re.compile(r"\d{1,12}(\.\d{1,2})?")


def parse_money(raw: object, field: str, exact: bool = False) -> Decimal:
    """Read an amount in yuan from a string or JSON number; refuse floats' noise, negatives and >2 decimals.

    `exact`: also refuse more than two decimals written even when they are zeros ("45000.000"), as settle-json.md
    does — a script that writes a third place has a different unit or rounding in mind."""
    if type(raw) is str and _SIMPLE.fullmatch(raw):
        return Decimal(raw).quantize(FEN)  # what the checks below would find of it: a list has tens of thousands
    if isinstance(raw, bool) or raw is None:
        raise MoneyError(field, "需要金额（元），例如 \"1234.56\"")
    if isinstance(raw, str) and not raw.strip():  # an empty box: say what to fill in, not that "" is no amount
        raise MoneyError(field, "还没有填写，请填写金额（元），例如 \"1234.56\"")
    if isinstance(raw, float):
        # A JSON number arrives as float; its shortest repr is what the user typed.
        raw = repr(raw)
    try:
        value = Decimal(_plain(str(raw)))
    except InvalidOperation:
        raise MoneyError(field, f"“{raw}”不是金额，请填写数字（元），例如 \"1234.56\"") from None
    if not value.is_finite():
        raise MoneyError(field, f"“{raw}”不是金额，请填写数字（元）")
    if value < 0:
        raise MoneyError(field, f"金额不能为负数（填写的是 {raw}）")
    value = value.copy_abs()  # "-0" is zero, never stored as "-0.00"
    if value >= MAX_AMOUNT:
        raise MoneyError(field, f"金额 {raw} 过大（不能达到一万亿元），请核对")
    if value.as_tuple().exponent < -2 and (exact or value != value.quantize(FEN)):
        raise MoneyError(field, f"金额最多两位小数（到分），“{raw}”有更多位小数")
    return value.quantize(FEN)


def fmt(value: Decimal) -> str:
    """Format a money amount with exactly two decimals (records, files and codes: no separators)."""
    return str(round_fen(value))


def shown(value: Decimal | str) -> str:
    """A money amount as a screen or a printed table shows it: thousands separated, two decimals (12,000.50)."""
    return f"{round_fen(Decimal(value)):,.2f}"


def pct(rate: Decimal) -> str:
    """Format a ratio as a percentage without trailing zeros: 0.75 → 75%, 0.655 → 65.5%."""
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"
