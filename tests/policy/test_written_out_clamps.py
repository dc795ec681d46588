"""The per-visit engine's written-out clamps choose exactly what min/max chose, down to a Decimal's exponent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import ZERO
from app.policy import blocks
from app.policy.result import TierShare, VisitResult

# Amounts as the engine meets them: fen, whole yuan and the odd zero of another exponent ("0" beside "0.00").
amounts = st.one_of(st.integers(-500_000, 5_000_000).map(lambda f: Decimal(f) / 100),
                    st.integers(-5_000, 50_000).map(Decimal), st.sampled_from([Decimal(0), Decimal("0.00"), ZERO]))


def same(a: Decimal, b: Decimal) -> bool:
    return a == b and a.as_tuple() == b.as_tuple()


@given(amounts, amounts, amounts)
def test_due_now_is_min_of_max(cumulative, already, most):
    # the tiers' zero (blocks.ZERO, Decimal(0)), as the min/max it replaced used
    assert same(blocks.due_now(cumulative, already, most), min(max(cumulative - already, blocks.ZERO), most))


@given(amounts, amounts, amounts, amounts)
def test_tier_share_clamps_as_min_and_max_did(base, paid, under, above):
    share = TierShare("医疗救助", base, paid, under, above)
    left = max(base - paid, ZERO)  # result.py's zero (money.ZERO, "0.00"), as __post_init__ used
    want_under = min(max(under, ZERO), left)
    want_above = min(max(above, ZERO), left - want_under)
    assert same(share.under_deductible, want_under) and same(share.above_limit, want_above)
    assert (share.tier, share.base, share.paid) == ("医疗救助", base, paid)


def test_each_visit_result_has_its_own_lists():
    a, b = VisitResult("v1", Decimal(10), Decimal(8)), VisitResult("v2", Decimal(10), Decimal(8))
    a.steps.append("x")
    a.shares.append("y")
    assert b.steps == [] and b.shares == [] and a.basic_paid is ZERO and a.tilt_assistance_paid is ZERO
    assert VisitResult("v3", Decimal(1), Decimal(1), Decimal(1)) == VisitResult("v3", Decimal(1), Decimal(1),
                                                                                Decimal(1), ZERO, ZERO, ZERO, [], [])
