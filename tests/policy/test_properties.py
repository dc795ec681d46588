"""Property tests of the engine over all five policies (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.case import Case, Visit
from app.policy.engine import Engine
from app.policy.loader import load_policy
from bench.synth import BENCH_LOCALS, CATEGORY_POOL, YEAR

ENGINES = {p: Engine(load_policy(p), BENCH_LOCALS[p]) for p in BENCH_LOCALS}
FEN = Decimal("0.01")
KINDS = ("住院", "门诊慢特病", "普通门诊")
settings.register_profile("engine", max_examples=150, deadline=None)
settings.load_profile("engine")

fen = st.integers(min_value=0, max_value=30_000_000).map(lambda n: Decimal(n) / 100)
share = st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n) / 100)


@st.composite
def visit(draw, kind=None, flags=None, given_tiers=None):
    total = draw(fen)
    covered = (total * draw(share)).quantize(FEN)
    kind = kind or draw(st.sampled_from(KINDS))
    given_tiers = draw(st.booleans()) if given_tiers is None or kind != "住院" else given_tiers
    if kind != "住院":
        given_tiers = True  # several policies state no basic-insurance terms for outpatient visits
    basic = serious = None
    if given_tiers:
        basic = (covered * draw(share)).quantize(FEN)
        serious = ((covered - basic) * draw(share)).quantize(FEN)
    referred, in_province, major = flags if flags is not None else (draw(st.booleans()), draw(st.booleans()),
                                                                      draw(st.booleans()))
    return Visit(id="x", date=date(2000, 1, 1), kind=kind, total_cost=total, policy_covered=covered,
                 basic_paid=basic, serious_illness_paid=serious, referred=referred, in_province=in_province,
                 hospital_level=draw(st.sampled_from(("基层", "县级", "市级", "省级"))), major_disease=major)


@st.composite
def case(draw, visits=None):
    policy = draw(st.sampled_from(sorted(ENGINES)))
    cats = draw(st.lists(st.sampled_from(CATEGORY_POOL[policy]), max_size=2, unique=True))
    vs = visits if visits is not None else draw(st.lists(visit(), min_size=1, max_size=6))
    insurance = "新农合" if policy == "liupanshui-2017" else "城乡居民医保"
    return Case(policy=policy, visits=_dated(vs, policy), categories=tuple(cats), insurance=insurance,
                local=BENCH_LOCALS[policy])


def _dated(vs, policy):
    start = date(YEAR[policy], 1, 1)
    return tuple(replace(v, id=f"v{i + 1}", date=start + timedelta(days=3 * i)) for i, v in enumerate(vs))


def settle(c: Case):
    return ENGINES[c.policy].settle(c, explain=False)


@given(case())
def test_no_tier_pays_more_than_is_left_to_it(c):
    r = settle(c)
    for v, res in zip(c.visits, r.visits):
        assert 0 <= res.basic_paid <= v.policy_covered
        assert 0 <= res.serious_illness_paid <= v.policy_covered - res.basic_paid
        left = v.policy_covered - res.basic_paid - res.serious_illness_paid
        assert 0 <= res.assistance_paid <= left
        assert 0 <= res.tilt_assistance_paid <= v.total_cost - res.basic_paid - res.serious_illness_paid - res.assistance_paid
    compliant_left = sum((res.compliant_self_pay for res in r.visits), Decimal(0))
    assert r.application_assistance_paid + r.re_assistance_paid <= max(compliant_left, Decimal(0))


@given(case())
def test_payments_never_exceed_cost_and_personal_pay_is_not_negative(c):
    r = settle(c)
    for res in r.visits:
        assert res.personal_pay >= 0
    totals = r.totals()
    assert totals["personal_pay"] >= 0
    assert r.total_paid <= sum((v.total_cost for v in c.visits), Decimal(0))
    for value in totals.values():
        assert value == value.quantize(FEN)


def _split(v: Visit, parts: int) -> list[Visit]:
    """Split a visit's amounts into `parts` visits that add up exactly, fen by fen."""
    def pieces(amount):
        if amount is None:
            return [None] * parts
        fen_total = int(amount * 100)
        base, extra = divmod(fen_total, parts)
        return [Decimal(base + (1 if i < extra else 0)) / 100 for i in range(parts)]
    totals, covered, basic, serious = (pieces(x) for x in (v.total_cost, v.policy_covered, v.basic_paid,
                                                            v.serious_illness_paid))
    return [replace(v, total_cost=t, policy_covered=c, basic_paid=b, serious_illness_paid=s)
            for t, c, b, s in zip(totals, covered, basic, serious)]


@given(visit(kind="住院", given_tiers=True), st.integers(min_value=2, max_value=6), st.data())
def test_annual_limits_hold_however_costs_are_split(v, parts, data):
    whole = data.draw(case(visits=[v]))
    split = replace(whole, visits=_dated(_split(v, parts), whole.policy))
    a, b = settle(whole).totals(), settle(split).totals()
    for key in ("serious_illness_paid", "assistance_paid", "tilt_assistance_paid"):
        assert a[key] == b[key], key


@given(case(), st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=5_000_000))
def test_more_cost_never_yields_less_assistance(c, index, extra_fen):
    i = index % len(c.visits)
    v = c.visits[i]
    extra = Decimal(extra_fen) / 100
    bigger = replace(v, total_cost=v.total_cost + extra, policy_covered=v.policy_covered + extra)
    more = replace(c, visits=c.visits[:i] + (bigger,) + c.visits[i + 1:])
    if any(x.basic_paid is None or x.serious_illness_paid is None for x in c.visits):
        # Computed tiers above may themselves rise with cost, and 大病保险 counts the whole year: a fen more of it on
        # another visit can leave a fen less to assistance. The claim is about assistance given the tiers above.
        return
    r0, r1 = settle(c), settle(more)
    if r0.applied_category != r1.applied_category:
        return  # 就高不就低 may switch category; each category is monotone on its own
    assert r1.totals()["assistance_paid"] + r1.totals()["tilt_assistance_paid"] >= \
        r0.totals()["assistance_paid"] + r0.totals()["tilt_assistance_paid"]


@given(st.lists(visit(kind="住院", flags=(True, True, False), given_tiers=True), min_size=2, max_size=6),
       st.randoms(use_true_random=False), st.data())
def test_order_of_visits_does_not_change_the_years_totals(vs, rnd, data):
    c = data.draw(case(visits=vs))
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    other = replace(c, visits=_dated(shuffled, c.policy))
    a, b = settle(c).totals(), settle(other).totals()
    assert a == b


@given(case())
def test_one_category_applies(c):
    r = settle(c)
    engine = ENGINES[c.policy]
    cands = engine.candidates(c.categories, None)
    assert r.applied_category in cands
    for cat in cands:
        alone = settle(replace(c, categories=(cat,)))
        assert alone.total_paid <= r.total_paid
