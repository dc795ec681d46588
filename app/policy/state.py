"""What a year's settlement carries from one visit to the next: cumulative bases and what was paid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.policy.blocks import ZERO


@dataclass(slots=True)
class BlockState:
    """An above-limit block: the qualifying cost beyond the limit, and what the block paid."""

    qualifying_excess: Decimal = ZERO
    paid: Decimal = ZERO


@dataclass(slots=True)
class PoolState:
    """An assistance pool: the year's cumulative base and what it paid."""

    base: Decimal = ZERO
    paid: Decimal = ZERO
    blocks: dict[int, BlockState] = field(default_factory=dict)
    # The terms of the last visit and its figures after it (over the deductible, eligible, rated and rounded, beyond
    # the annual limit): the next visit's figures before it while the terms are the same.
    after: tuple | None = None


@dataclass(slots=True)
class YearState:
    """Running figures for one person's year under one category."""

    basic_paid: Decimal = ZERO
    basic_paid_by_kind: dict[str, Decimal] = field(default_factory=dict)
    referred_admissions: int = 0
    chain_deductible: Decimal = ZERO
    serious_base: Decimal = ZERO
    serious_paid: Decimal = ZERO
    pools: dict[int, PoolState] = field(default_factory=dict)
    secondary_base: Decimal = ZERO
    secondary_paid: Decimal = ZERO
    secondary_total_cost: Decimal = ZERO  # the year's 医疗总费用 in the section's kinds, for a graded rate
    gates: dict[int, tuple[bool, str]] = field(default_factory=dict)  # pool → a tier paid on application: open?, why
    # The plan: terms a tier built, with the days they hold (Resolver.held_span), so that a visit only tests its day
    # against them; the engine passes its category's (KindPlan), kept across cases.
    serious_terms: dict[str, tuple[date, date, tuple]] = field(default_factory=dict)  # by scheme
    serious_after: tuple | None = None  # 大病保险's terms, base, over the deductible and rated after the last computed visit
    basic_terms: dict[tuple[str, str | None, str], tuple[date, date, tuple]] = field(default_factory=dict)
    pool_terms: dict[int, tuple[date, date, tuple]] = field(default_factory=dict)  # the category's, by pool
    # the other tiers' (common.planned); the engine passes its category's (KindPlan.kept), kept across cases
    plan: dict[tuple, tuple[date, date, object]] = field(default_factory=dict)

    def paid(self) -> Decimal:
        """What the per-visit tiers paid this year, tallied as they paid it: the same sum as SettleResult.total_paid's
        visits, without a second pass over them (the engine compares it across a person's categories)."""
        total = self.basic_paid + self.serious_paid + self.secondary_paid
        for ps in self.pools.values():
            total += ps.paid
            for bs in ps.blocks.values():
                total += bs.paid
        return total
