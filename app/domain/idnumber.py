"""居民身份证号码 (GB 11643-1999): check digit, birth date and sex; other document types are kept as typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from operator import mul

from app.domain.errors import FieldError
from app.store import clock

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# [0-9], not \d: \d also matches other scripts' digits (٣, ३), which int() reads but no ID number holds.
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Other documents a person may be registered with, when they have no resident ID number.
ID_TYPES = ("居民身份证", "户口簿", "出生医学证明", "港澳台居民居住证", "外国人永久居留身份证", "其他")


class IdNumberError(FieldError):
    """An ID number that cannot be accepted; the message is Chinese and says how to fix it."""


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked 18-digit resident ID number and what it encodes."""

    value: str
    birth_date: date
    sex: str  # 男 / 女

    @property
    def region(self) -> str:
        return self.value[:6]


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


_PLAIN = str.maketrans({**{c: str(i) for i, c in enumerate("０１２３４５６７８９")}, "ｘ": "X", "Ｘ": "X", "x": "X"})


def normalise(raw: str) -> str:
    """Trim spaces, turn full-width digits and a lower-case x into their plain forms."""
    return "".join(str(raw).translate(_PLAIN).split())


def resident_shaped(raw: str) -> str | None:
    """The plain form of a number written like an 18-character resident ID number, or None.

    A 户口簿 or a residence permit carries the same 公民身份号码 as the ID card; whatever document it is entered
    under, written with spaces, full-width digits or a lower-case x it is still that one number."""
    value = normalise(raw)
    return value if _SHAPE.match(value) else None


def parse_id_number(raw: str, field: str = "id_number", today: date | None = None) -> IdNumber:
    """Check an 18-digit ID number; derive birth date and sex from it."""
    value = normalise(raw)
    if not _SHAPE.match(value):
        raise IdNumberError(field, f"身份证号码应为 18 位（17 位数字加 1 位数字或 X），填写的是“{raw}”")
    expected = check_digit(value[:17])
    if value[17] != expected:
        # Not which last digit would pass: that invites changing it instead of finding the digit mistyped.
        raise IdNumberError(field, "身份证号码校验位不符：常见是某一位抄错或两位颠倒，请对照证件逐位核对")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(field, f"身份证号码中的出生日期 {value[6:14]} 不是有效日期，请核对") from None
    if born < date(1880, 1, 1) or born > (today or clock.today()):
        raise IdNumberError(field, f"身份证号码中的出生日期 {born} 不合理，请核对")
    return IdNumber(value, born, "男" if int(value[16]) % 2 else "女")
