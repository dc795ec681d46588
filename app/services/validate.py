"""Field checks shared by the use cases; each failure is an FieldError naming the field, in Chinese."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from app.domain.dates import parse_day
from app.domain.money import MoneyError, parse_money
from app.store import clock
from app.domain.errors import FieldError


def text(value: object, field: str, label: str, max_len: int = 100) -> str:
    """A required piece of text, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, f"请填写{label}", label)
    value = value.strip()
    if len(value) > max_len:
        raise FieldError(field, f"不能超过 {max_len} 个字", label)
    return value


def day(value: object, field: str, label: str, today: date | None = None, allow_future: bool = False) -> date:
    """A date given as date or as people write it ("2024-03-05", "2024/3/5", "2024年3月5日", "20240305");
    not in the future unless allowed."""
    if isinstance(value, date):
        parsed = value
    else:
        found = parse_day(str(value or ""))
        if found is None:
            shown = str(value or "").strip()
            raise FieldError(field, f"“{shown}”不是有效日期，请写成 2024-03-05 的形式" if shown else
                             "请填写日期，例如 2024-03-05", label)
        parsed = found
    if not allow_future and parsed > (today or clock.today()):
        raise FieldError(field, f"{parsed} 在今天之后，请核对", label)
    return parsed


def money(value: object, field: str, label: str | None = None) -> Decimal:
    """An amount in yuan to the fen (exponent -2, so str() writes it as money.fmt does): not negative, at most two
    decimals; `label` where the key's own label is too general."""
    try:
        return parse_money(value, field)
    except MoneyError as exc:
        raise exc.under(field, label) if label else exc from None


def region_code(value: object, field: str = "region_code") -> str:
    """A 12-digit 统计用区划代码 of a village (or community)."""
    code = str(value or "").strip()
    if not re.fullmatch(r"\d{12}", code):
        raise FieldError(field, "统计用区划代码应为 12 位数字（县 6 位 + 乡镇 3 位 + 村 3 位）")
    return code
