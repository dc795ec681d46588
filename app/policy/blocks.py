"""The settlement building blocks: pure Decimal arithmetic shared by every region's rules."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from app.domain.money import round_fen
from app.policy.values import Band

ZERO = Decimal(0)
ONE = Decimal(1)


def over_deductible(amount: Decimal, deductible: Decimal | None) -> Decimal:
    """What lies above a deductible (起付线); None means 不设起付线."""
    if deductible is None:
        return amount
    return amount - deductible if amount > deductible else ZERO


def capped(amount: Decimal, cap: Decimal | None) -> Decimal:
    """An amount held under a cap or limit (封顶线/年度限额); None means no cap."""
    return amount if cap is None or amount < cap else cap


def due_now(cumulative: Decimal, already: Decimal, most: Decimal) -> Decimal:
    """A visit's payment under a cumulative rule (结算程序 按次结算、年度累计再算并扣减已付): the year's result less what
    was already paid, never below zero nor above `most` (min/max's exact choice, written out: they cost 4x)."""
    paid = cumulative - already
    if ZERO > paid:
        paid = ZERO
    return most if most < paid else paid


def with_uplift(rate: Decimal, uplift: Decimal, ceiling: Decimal = ONE) -> Decimal:
    """A rate raised by percentage points, never above the ceiling (100% unless a document says less)."""
    raised = rate + uplift
    return raised if raised < ceiling else ceiling


def banded(amount: Decimal, bands: tuple[Band, ...], uplift: Decimal = ZERO) -> Decimal:
    """Pay each bracket of `amount` at its own rate (分段累计), each rate raised by `uplift` points."""
    total = ZERO
    for band in bands:
        if amount <= band.lower:
            break
        top = amount if band.upper is None or amount < band.upper else band.upper
        total += (top - band.lower) * with_uplift(band.rate, uplift)
    return total


def rate_times(amount: Decimal, rate: Decimal | tuple[Band, ...], uplift: Decimal = ZERO) -> Decimal:
    """Apply a flat or banded rate."""
    if isinstance(rate, tuple):
        return banded(amount, rate, uplift)
    return amount * with_uplift(rate, uplift)


def assisted(amount: Decimal, deductible: Decimal | None, rate: Decimal, limit: Decimal | None) -> Decimal:
    """The common shape of an annual benefit: (amount − deductible) × rate, held under a limit, to the fen."""
    return round_fen(capped(over_deductible(amount, deductible) * rate, limit))


def tapered_deductible(first: Decimal, admission_no: int, step: Decimal, floor: Decimal) -> Decimal:
    """黔南: the n-th referred admission's deductible falls by `step` of the first, not below `floor` of it."""
    factor = ONE - step * (admission_no - 1)
    return round_fen(first * (factor if factor > floor else floor))


def continued_deductible(level_deductible: Decimal, already_paid: Decimal) -> Decimal:
    """起付线连续计算: a referred admission pays only what its level's deductible exceeds the one already paid."""
    return over_deductible(level_deductible, already_paid)


def above_limit(eligible: Decimal, limit: Decimal | None, rate: Decimal, product: Decimal) -> Decimal | Fraction:
    """Eligible cost left unassisted because the annual limit ran out: eligible − limit ÷ rate, exactly (`product`
    is eligible × rate, which the caller has).

    Past the limit it is a Fraction: 50000 ÷ 75% never ends, and its 28-digit Decimal made 3333.8333… × 75% =
    2500.374999…, rounded to 2500.37 where the exact 2500.375 rounds half-up to 2500.38 (芜湖 倾斜救助)."""
    if limit is None or rate <= 0 or product <= limit:
        return ZERO
    return Fraction(eligible) - Fraction(limit) / Fraction(rate)


def exact_add(a: Decimal | Fraction, b: Decimal | Fraction) -> Decimal | Fraction:
    """a + b, a Decimal while both are (the usual visit), else exactly."""
    return a + b if type(a) is Decimal and type(b) is Decimal else Fraction(a) + Fraction(b)


def exact_times(amount: Decimal | Fraction, rate: Decimal) -> Decimal | Fraction:
    return amount * rate if type(amount) is Decimal else amount * Fraction(rate)


def round_exact(value: Decimal | Fraction) -> Decimal:
    """round_fen of a Decimal or an exact Fraction (half-up: away from zero at half a fen)."""
    if type(value) is not Fraction:
        return round_fen(value)
    fen = abs(value) * 100
    whole = math.floor(fen + Fraction(1, 2))
    return (Decimal(whole if value >= 0 else -whole) / 100).quantize(Decimal("0.01"))
