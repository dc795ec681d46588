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


class TermsKept:
    """Terms the tiers built, with the days they hold (Resolver.held_span), so that a visit only tests its day against
    them: 基本医保's by kind, level and scheme, 大病保险's by scheme, each pool's, and the others' (common.planned). The
    engine keeps one per category for all its cases (KindPlan); each key names all the terms depend on besides it."""

    __slots__ = ("basic", "serious", "pools", "plan")

    def __init__(self) -> None:
        self.basic: dict[tuple[str, str | None, str], tuple[date, date, tuple]] = {}
        self.serious: dict[str, tuple[date, date, tuple]] = {}
        self.pools: dict[int, tuple[date, date, tuple]] = {}
        self.plan: dict[tuple, tuple[date, date, object]] = {}


@dataclass(slots=True, init=False)  # its own __init__: one is made per case and category, and the generated one costs 2x
class YearState:
    """Running figures for one person's year under one category."""

    basic_paid: Decimal
    basic_paid_by_kind: dict[str, Decimal]
    referred_admissions: int
    chain_deductible: Decimal
    serious_base: Decimal
    serious_paid: Decimal
    pools: dict[int, PoolState]
    secondary_base: Decimal
    secondary_paid: Decimal
    secondary_total_cost: Decimal  # the year's 医疗总费用 in the section's kinds, for a graded rate
    gates: dict[int, tuple[bool, str]]  # pool → a tier paid on application: open?, why
    serious_after: tuple | None  # 大病保险's terms, base, over the deductible and rated after the last computed visit
    # The terms kept (TermsKept), by tier: the engine passes its category's
    basic_terms: dict[tuple[str, str | None, str], tuple[date, date, tuple]]
    serious_terms: dict[str, tuple[date, date, tuple]]
    pool_terms: dict[int, tuple[date, date, tuple]]
    plan: dict[tuple, tuple[date, date, object]]

    def __init__(self, kept: TermsKept | None = None) -> None:
        self.basic_paid = self.chain_deductible = self.serious_base = self.serious_paid = ZERO
        self.secondary_base = self.secondary_paid = self.secondary_total_cost = ZERO
        self.referred_admissions = 0
        self.basic_paid_by_kind, self.pools, self.gates = {}, {}, {}
        self.serious_after = None
        if kept is None:
            kept = TermsKept()
        self.basic_terms, self.serious_terms, self.pool_terms, self.plan = kept.basic, kept.serious, kept.pools, kept.plan

    def paid(self) -> Decimal:
        """What the per-visit tiers paid this year, tallied as they paid it: the same sum as SettleResult.total_paid's
        visits, without a second pass over them (the engine compares it across a person's categories)."""
        total = self.basic_paid + self.serious_paid + self.secondary_paid
        for ps in self.pools.values():
            total += ps.paid
            for bs in ps.blocks.values():
                total += bs.paid
        return total
