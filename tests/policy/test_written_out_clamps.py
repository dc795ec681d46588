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


def _visit_sum(results, visits, kinds, first):
    # year_sum as it was: each visit's self-paid figure, its four payments taken away, summed in order
    total = blocks.ZERO
    for r, v in zip(results, visits):
        if v.kind in kinds:
            total += (getattr(r, first) - r.basic_paid - r.serious_illness_paid - r.assistance_paid
                      - r.tilt_assistance_paid)
    return total


paid_or_none = st.one_of(st.just(None), amounts)  # None: the result keeps money's ZERO (no assistance paid)


@given(st.lists(st.tuples(st.sampled_from(["住院", "门诊慢特病", "普通门诊"]), amounts, amounts, amounts, amounts,
                          paid_or_none, paid_or_none), max_size=6),
       st.sampled_from([["住院"], ["住院", "门诊慢特病"], ["住院", "门诊慢特病", "普通门诊"]]),
       st.sampled_from(["compliant_self_pay", "personal_pay"]))
def test_year_sum_skips_zero_payments_without_changing_the_sum(rows, kinds, attr):
    # year_sum leaves out a payment still at money's ZERO and adds that ZERO once: same value, same exponent
    from datetime import date

    from app.domain.case import Case, Visit
    from app.policy.tiers.common import SELF_PAID_FROM, year_sum

    visits, results = [], []
    for n, (kind, total, covered, basic, serious, assist, tilt) in enumerate(rows):
        visits.append(Visit(id=f"v{n}", date=date(2023, 1, 1), kind=kind, total_cost=total, policy_covered=covered))
        r = VisitResult(f"v{n}", total, covered, basic, serious)
        if assist is not None:
            r.assistance_paid += assist
        if tilt is not None:
            r.tilt_assistance_paid += tilt
        results.append(r)
    case = Case(policy="p", visits=tuple(visits), categories=("低保对象",), insurance="城乡居民医保")
    assert same(year_sum(results, case, kinds, attr), _visit_sum(results, visits, kinds, SELF_PAID_FROM[attr]))
