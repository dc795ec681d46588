"""An engine remembers each tier's terms for the days they hold (Resolver.held): a shared engine settles every case
exactly as a fresh one would — amounts, explanations, warnings and refusals — and a dated change ends what it holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.case import Case, CaseError, Household, Visit
from app.policy.engine import Engine
from app.policy.loader import load_policy
from app.policy.resolver import Resolver
from bench.synth import BENCH_LOCALS, CATEGORY_POOL, YEAR
from tests.policy.test_properties import _dated, visit

POLICIES = sorted(BENCH_LOCALS)
LOADED = {p: load_policy(p) for p in POLICIES}
SCHEMES = ("城乡居民医保", "职工医保", "新农合", "城镇居民医保")


def _outcome(engine: Engine, case: Case, explain: bool) -> object:
    """What a settlement gives a caller: the whole result as settle-json, or the refusal's field and message."""
    try:
        r = engine.settle(case, explain=explain)
    except CaseError as exc:
        return exc.field, exc.message
    return r.to_json(), r.risk, r.application_ceiling


@st.composite
def where_treated(draw):
    """A visit with the where-treated flags and a level drawn too (they choose which rule a tier reads)."""
    v = draw(visit())
    return replace(v, emergency=draw(st.booleans()), in_insured_area=draw(st.booleans()),
                   filed_remote=draw(st.booleans()),
                   hospital_level=draw(st.sampled_from(("基层", "县级", "市级", "省级", None))))


@st.composite
def year_of(draw, policy: str):
    cats = draw(st.lists(st.sampled_from(CATEGORY_POOL[policy]), max_size=2, unique=True))
    vs = draw(st.lists(where_treated(), min_size=1, max_size=5))
    household = Household(Decimal(draw(st.integers(0, 60_000))), Decimal(5000), draw(st.sampled_from((True, False))))
    return Case(policy=policy, visits=_dated(vs, policy), categories=tuple(cats),
                insurance=draw(st.sampled_from(SCHEMES)), household=household, application=draw(st.booleans()))


@st.composite
def engine_and_years(draw):
    """A policy, the county's values (one perhaps left out, one perhaps changed from a date in the year) and years."""
    policy = draw(st.sampled_from(POLICIES))
    local = dict(BENCH_LOCALS[policy])
    if draw(st.booleans()):
        del local[draw(st.sampled_from(sorted(local)))]
    dated = {}
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(BENCH_LOCALS[policy])))
        old = BENCH_LOCALS[policy][key]
        new = "50%" if old.endswith("%") else "否" if old == "是" else "12000"
        dated[key] = [{"from": date(YEAR[policy], draw(st.integers(2, 11)), 1).isoformat(), "value": new}]
    return policy, local, dated, draw(st.lists(year_of(policy), min_size=2, max_size=6))


@settings(max_examples=120, deadline=None)
@given(engine_and_years(), st.booleans())
def test_a_shared_engine_settles_each_year_as_a_fresh_engine_does(drawn, explain):
    policy, local, dated, years = drawn
    try:
        shared = Engine(LOADED[policy], local, dated)
    except CaseError:  # the changed value is outside the bounds its parameter declares
        assume(False)
    for case in years:
        assert _outcome(shared, case, explain) == _outcome(Engine(LOADED[policy], local, dated), case, explain)


def test_a_dated_change_of_a_base_ends_the_terms_built_on_it():
    """湖南's 大病保险 起付线 is a share of 上年度居民人均可支配收入: the county's change of the income from a date reaches
    the 起付线 from that date, also in an engine that settled an earlier visit under the old income."""
    policy = "hunan-2022"
    dated = {"per_capita_disposable_income": [{"from": "2023-07-01", "value": "40000"}]}
    spring, autumn = (Case(policy=policy, visits=(_stay(day),), local=BENCH_LOCALS[policy])
                      for day in (date(2023, 3, 1), date(2023, 9, 1)))
    shared = Engine(LOADED[policy], BENCH_LOCALS[policy], dated)
    assert "− 起付线 15500.00" in shared.settle(spring).visits[0].steps[1].explain  # 50% of 31,000
    assert "− 起付线 20000.00" in shared.settle(autumn).visits[0].steps[1].explain  # 50% of 40,000 from July


def _stay(day: date) -> Visit:
    return Visit(id="v1", date=day, kind="住院", total_cost=Decimal(60000), policy_covered=Decimal(50000),
                 basic_paid=Decimal(10000), hospital_level="县级")


def test_held_terms_last_while_every_value_read_holds_and_a_refusal_is_not_remembered():
    loaded = LOADED["hunan-2022"]
    resolver = Resolver(loaded.policy, {**BENCH_LOCALS["hunan-2022"]},
                        {"re_assistance_rate": [{"from": "2023-07-01", "value": "60%"}]})
    rule = loaded.policy.re_assistance.rate
    builds = []

    def build(day):
        builds.append(day)
        return resolver.value(rule, day, "测算再救助")[0]

    assert resolver.held("k", date(2023, 2, 1), build, date(2023, 2, 1)) == Decimal("0.5")
    assert resolver.held("k", date(2023, 6, 30), build, date(2023, 6, 30)) == Decimal("0.5")
    assert resolver.held("k", date(2023, 7, 1), build, date(2023, 7, 1)) == Decimal("0.6")
    assert builds == [date(2023, 2, 1), date(2023, 7, 1)]

    def refuse():
        builds.append("refused")
        raise CaseError("local.x", "缺少")

    for _ in range(2):
        with pytest.raises(CaseError):
            resolver.held("r", date(2023, 2, 1), refuse)
    assert builds[-2:] == ["refused", "refused"]

    # A build that reads another's held terms holds no longer than they do.
    outer = resolver.held("outer", date(2023, 2, 1), lambda: resolver.held("k", date(2023, 2, 1), build,
                                                                           date(2023, 2, 1)))
    assert outer == Decimal("0.5")
    assert resolver.held("outer", date(2023, 8, 1), lambda: "rebuilt") == "rebuilt"
