"""Random nonsense policies built from the schema: each is refused, or settles within sane bounds (hypothesis).

A policy is one of the five files with some of its rules, modes, bounds and dates replaced by values drawn from
everything the format can hold — rates of 0 to 300%, bases on any rule, negative and huge amounts, dates before
the 施行日期, modes beside keys they do not take. Whatever the loader lets through must never pay a tier more than
what is left to it, nor leave anyone a negative personal pay.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.domain.case import Case, CaseError, Visit
from app.policy.engine import Engine
from app.policy.loader import LoadedPolicy, PolicyError, policies_dir, policy_from_data
from app.policy.yamlio import load_yaml

FILES = {p.stem: load_yaml(p.read_text(encoding="utf-8")) for p in sorted(policies_dir().glob("*.yaml"))}
FEN = Decimal("0.01")

settings.register_profile("nonsense", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("nonsense")

amounts = st.one_of(st.integers(0, 10_000_000).map(Decimal), st.integers(-1000, 0).map(Decimal), st.just("不设"),
                    st.just("abc"), st.integers(0, 300).map(lambda n: f"{n}%"))
rates = st.one_of(st.integers(0, 100).map(lambda n: f"{n}%"), st.integers(0, 300).map(lambda n: f"{n}%"), st.integers(0, 150).map(lambda n: f"{n}个百分点"),
                  st.integers(0, 3).map(Decimal), st.just("不设"),
                  st.lists(st.fixed_dictionaries({"起": st.integers(0, 5).map(lambda n: Decimal(n * 10000)),
                                                  "比例": st.integers(0, 150).map(lambda n: f"{n}%")}),
                           min_size=1, max_size=3))

sane_amounts = st.one_of(st.integers(0, 1_000_000).map(Decimal), st.just("不设"))
sane_rates = st.one_of(st.integers(0, 100).map(lambda n: f"{n}%"), st.integers(0, 100).map(lambda n: f"{n}个百分点"))


def _rules(node, found):
    """Every dated rule (a mapping keyed by dates) in raw policy data, collected into `found`."""
    if isinstance(node, dict):
        if node and all(isinstance(k, date) for k in node):
            found.append(node)
        for value in node.values():
            _rules(value, found)
    elif isinstance(node, list):
        for value in node:
            _rules(value, found)
    return found


def _sections(node, key, found):
    """Every mapping holding `key` in raw policy data."""
    if isinstance(node, dict):
        if key in node:
            found.append(node)
        for value in node.values():
            _sections(value, key, found)
    elif isinstance(node, list):
        for value in node:
            _sections(value, key, found)
    return found


@st.composite
def nonsense_policy(draw):
    pid = draw(st.sampled_from(sorted(FILES)))
    raw = copy.deepcopy(FILES[pid])
    locals_ = list(raw.get("地方参数", {})) + ["per_capita_disposable_income"]
    rules = _rules(raw, [])
    # Half the policies hold only values the format allows (any rate to 100%, any amount): what passes the loader
    # must still settle sanely. The other half also hold what it must refuse.
    sane = draw(st.booleans())
    for _ in range(draw(st.integers(0, 3))):
        rule = draw(st.sampled_from(rules))
        day = draw(st.sampled_from(sorted(rule)))
        entry = dict(rule[day])
        change = draw(st.sampled_from(["value", "rate", "base", "local", "date"]))
        if change == "value":
            entry.pop("地方参数", None)
            entry["值"] = draw(sane_amounts if sane else amounts)
        elif change == "rate":
            entry.pop("地方参数", None)
            entry["值"] = draw(sane_rates if sane else rates)
        elif change == "base":
            entry.pop("地方参数", None)
            entry["值"] = draw(st.integers(0, 300).map(lambda n: f"{n}%"))
            entry["基数"] = draw(st.sampled_from(locals_))
        elif change == "local":
            entry.pop("值", None)
            entry.pop("基数", None)
            entry["地方参数"] = draw(st.sampled_from(locals_))
        else:
            del rule[day]
            day = day + timedelta(days=draw(st.integers(-800, 800)))
        rule[day] = entry
    modes = _sections(raw, "方式", [])
    if modes and not sane and draw(st.booleans()):
        draw(st.sampled_from(modes))["方式"] = draw(st.sampled_from(["全额", "比例", "定额", "超限额部分", "剩余合规自付", "逐次递减",
                                                    "连续计算", "收入减自付低于低收入标准", "自付超过收入比例"]))
    for pool in raw.get("医疗救助", []):
        for treatment in pool.get("待遇", []):
            if draw(st.integers(0, 4)) == 0:
                treatment["依申请"] = {"依据": "测试〔1〕"}
    params = list(raw.get("地方参数", {}).values())
    if params and not sane and draw(st.booleans()):
        param = draw(st.sampled_from(params))
        bound = draw(st.one_of(st.integers(0, 100).map(lambda n: Decimal(n) / 100), st.integers(-5, 200_000).map(Decimal)))
        param[draw(st.sampled_from(["最小值", "最大值"]))] = bound
    if draw(st.integers(0, 4)) == 0:
        raw["适用期至"] = raw["施行日期"] + timedelta(days=draw(st.integers(-30, 2000)))
    return pid, raw


def _local_value(param, draw):
    """A value within the bounds a local parameter declares (the resolver refuses any other)."""
    low = param.minimum or Decimal(0)
    if param.unit == "元":
        high = param.maximum if param.maximum is not None else Decimal(500_000)
        return str(draw(st.integers(int(low), max(int(low), int(high)))))
    high = param.maximum if param.maximum is not None else Decimal(1)
    return str((low + (high - low) * Decimal(draw(st.integers(0, 100))) / 100).quantize(Decimal("0.0001")))


@st.composite
def visit_of(draw, start: date, i: int):
    total = Decimal(draw(st.integers(0, 30_000_000))) / 100
    covered = (total * Decimal(draw(st.integers(0, 100))) / 100).quantize(FEN)
    basic = (covered * Decimal(draw(st.integers(0, 100))) / 100).quantize(FEN)
    serious = ((covered - basic) * Decimal(draw(st.integers(0, 100))) / 100).quantize(FEN)
    return Visit(id=f"v{i + 1}", date=start + timedelta(days=7 * i),
                 kind=draw(st.sampled_from(("住院", "门诊慢特病", "普通门诊"))), total_cost=total,
                 policy_covered=covered, basic_paid=basic, serious_illness_paid=serious, referred=draw(st.booleans()),
                 in_province=draw(st.booleans()), hospital_level="县级", major_disease=draw(st.booleans()))


@given(nonsense_policy(), st.data())
def test_a_nonsense_policy_is_refused_or_settles_within_bounds(made, data):
    pid, raw = made
    try:
        policy = policy_from_data(raw, f"{pid}.yaml")
    except PolicyError as exc:
        event("refused")
        assert exc.why and "Input should" not in exc.why and "Value error" not in exc.why
        return
    local = {key: _local_value(p, data.draw) for key, p in policy.locals.items()}
    start = policy.effective + timedelta(days=data.draw(st.integers(0, 60)))
    visits = tuple(data.draw(visit_of(start, i)) for i in range(data.draw(st.integers(1, 4))))
    cats = data.draw(st.lists(st.sampled_from([c.name for c in policy.categories]), max_size=2, unique=True))
    case = Case(policy=pid, visits=visits, categories=tuple(cats), insurance="城乡居民医保", local=local,
                application=data.draw(st.booleans()))
    try:
        result = Engine(LoadedPolicy(policy, policies_dir() / f"{pid}.yaml", "test"), local).settle(case)
    except CaseError:
        event("case refused")
        return  # a refusal naming the field (a local value, a visit past 适用期至): nothing paid
    event("settled")
    for v, r in zip(visits, result.visits):
        left = v.policy_covered - r.basic_paid - r.serious_illness_paid
        assert 0 <= r.assistance_paid <= left
        assert 0 <= r.tilt_assistance_paid <= v.total_cost - r.basic_paid - r.serious_illness_paid - r.assistance_paid
        assert r.personal_pay >= 0
    compliant_left = sum((r.compliant_self_pay for r in result.visits), Decimal(0))
    assert 0 <= result.application_assistance_paid + result.re_assistance_paid <= max(compliant_left, Decimal(0))
    assert result.totals()["personal_pay"] >= 0
