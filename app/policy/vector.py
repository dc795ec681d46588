"""The building blocks of blocks.py in vectorised form: integer fen and rates in millionths, over numpy columns.

Every function here is the column form of one block in blocks.py and must give the same fen: amounts are int64 fen,
rates int64 millionths (ppm), products int64 fen·ppm, and rounding is half-up to the fen as round_fen does. The
batch settlement (batch.py) refuses to compile a value that is not a whole fen or a whole millionth, so nothing here
ever rounds what the per-visit engine would not.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

PPM = 1_000_000
HALF = PPM // 2
# "No limit" as an amount (fen) and as a product (fen·ppm): far above anything a year can reach, and safe to add to.
NO_LIMIT = 1 << 52
NO_LIMIT_PPM = 1 << 62


class Inexact(ValueError):
    """A rule value that integer fen or millionths cannot hold exactly; the batch settles such a case per visit."""


def fen(value: Decimal | None) -> int:
    """A Decimal amount in yuan as whole fen; None (不设) is NO_LIMIT."""
    if value is None:
        return NO_LIMIT
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise Inexact(f"{value} 不是整分")
    return int(scaled)


def ppm(rate: Decimal) -> int:
    """A Decimal ratio as whole millionths."""
    scaled = rate * PPM
    if scaled != scaled.to_integral_value():
        raise Inexact(f"{rate} 不能精确到百万分之一")
    return int(scaled)


def limit_ppm(limit_fen: np.ndarray) -> np.ndarray:
    """A limit in fen as a product bound (fen·ppm); NO_LIMIT stays unlimited."""
    return np.where(limit_fen >= NO_LIMIT, NO_LIMIT_PPM, limit_fen * PPM)


def round_ppm(product: np.ndarray) -> np.ndarray:
    """round_fen of a non-negative fen·ppm product, half-up."""
    return (product + HALF) // PPM


def over_deductible(amount: np.ndarray, deductible: np.ndarray) -> np.ndarray:
    """blocks.over_deductible: what lies above the deductible (0 stands for 不设: the whole amount)."""
    return np.maximum(amount - deductible, 0)


def banded(amount: np.ndarray, lower: np.ndarray, upper: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """blocks.rate_times as a fen·ppm product: each bracket (columns of lower/upper/rate, one per band) at its rate.

    A flat rate is one band from 0 with no upper end; unused bands have rate 0."""
    top = np.minimum(amount[:, None], upper)
    return (np.maximum(top - lower, 0) * rate).sum(axis=1)


def assisted(base: np.ndarray, deductible: np.ndarray, rate: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """blocks.assisted on cumulative bases: (base − deductible) × rate under the limit (fen), to the fen."""
    return round_ppm(np.minimum(over_deductible(base, deductible) * rate, limit_ppm(limit)))


class Groups:
    """Contiguous groups of rows (a person's year under one category): grouped running sums."""

    def __init__(self, group: np.ndarray):
        self.group = group
        n = len(group)
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if n else np.zeros(0, np.int64)
        self.start_of = np.repeat(starts, np.diff(np.r_[starts, n])) if n else np.zeros(0, np.int64)

    def cumsum(self, x: np.ndarray) -> np.ndarray:
        """Running sum within each group, this row included."""
        total = np.cumsum(x)
        return total - (total[self.start_of] - x[self.start_of])

    def before(self, x: np.ndarray) -> np.ndarray:
        """Running sum within each group of the rows before this one."""
        return self.cumsum(x) - x

    def previous(self, x: np.ndarray) -> np.ndarray:
        """Each row's value of the row before it in its group (0 for a group's first row)."""
        out = np.r_[0, x[:-1]] if len(x) else x
        return np.where(self.start_of == np.arange(len(x)), 0, out)


def sum_by(group: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """The sum of x over each group numbered 0 … n − 1 (exact in int64)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, group, x)
    return out


def settle_running(groups: Groups, pay, guess: np.ndarray, rounds: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Solve the engine's running recurrence — each row pays what `pay` gives it once the rows before it in its group
    have paid — for all rows at once.

    `pay(paid)` gives every row's payment from the current payments of the rows before it (the per-visit form: the
    year's cumulative result less what was paid, clamped). Each round settles at least one more row of every group
    exactly, and a round that changes nothing has reached the one sequence the recurrence allows. `guess` is where the
    rounds start: the cumulative result's increments settle an ordinary year in one round. Groups still changing
    after `rounds` are returned as unsettled, for the caller to settle per visit. Returns (paid, unsettled rows)."""
    paid = guess
    for _ in range(rounds):
        again = pay(paid)
        changed = again != paid
        if not changed.any():
            return again, changed
        paid = again
    return paid, np.isin(groups.group, groups.group[changed])
