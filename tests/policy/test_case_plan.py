"""The engine's plan of a case: what each category and kind calls, the terms kept with their days, and the year's
paid total tallied as it is paid — each gives exactly what reading everything per visit gave."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.domain.case import Case, CaseError, Visit
from app.policy.engine import Engine, year_paid
from app.policy.loader import load_policy
from app.policy.tiers.common import Run
from bench.synth import BENCH_LOCALS, cases

POLICIES = sorted(BENCH_LOCALS)


def test_the_tallied_total_is_the_results_total_paid():
    engines = {p: Engine(load_policy(p), BENCH_LOCALS[p]) for p in POLICIES}
    checked = 0
    for n, case in enumerate(cases(600, 8, seed=5)):
        if n % 3 == 0:  # computed insurance tiers too, not only the slip's figures
            case = replace(case, visits=tuple(replace(v, basic_paid=None, serious_illness_paid=None)
                                              for v in case.visits))
        engine = engines[case.policy]
        for cat in engine.candidates(case.categories, None):
            run = Run(engine.policy, engine.index, case, cat, engine.resolver.value, engine.resolver.held_span)
            try:
                out, st = engine._settle_as(run, explain=False)
            except CaseError:
                continue
            assert year_paid(out, st) == out.total_paid
            checked += 1
    assert checked > 400


def _visit(day: date, cost: str) -> Visit:
    return Visit(id=str(day), date=day, kind="住院", total_cost=Decimal(cost), policy_covered=Decimal(cost),
                 basic_paid=Decimal(0), serious_illness_paid=Decimal(0), hospital_level="县级")


def test_terms_kept_for_a_case_end_at_a_dated_change_within_its_year():
    # 六盘水's 救助 rate changed by the county from July: the year so far is rated at 70% in March, at 50% after.
    engine = Engine(load_policy("liupanshui-2017"), BENCH_LOCALS["liupanshui-2017"],
                    {"assistance_rate": [{"from": "2018-07-01", "value": "50%"}]})
    case = Case(policy="liupanshui-2017", visits=(_visit(date(2018, 3, 1), "1000"), _visit(date(2018, 9, 1), "1000"),
                                                  _visit(date(2018, 10, 1), "1000")), categories=("低保对象",))
    march, september, october = engine.settle(case, explain=False).visits
    assert (march.assistance_paid, september.assistance_paid, october.assistance_paid) == (
        Decimal("700.00"), Decimal("300.00"), Decimal("500.00"))  # cumulative: 2000 × 50% − 700


@pytest.mark.parametrize("left_out", ["secondary_grade_cost", "secondary_rate_high"])
def test_a_grade_table_missing_a_value_refuses_as_before(left_out):
    # 湛江 二次救助's grades: a start left out is named when the table is first read; a rate only once reached.
    local = {k: v for k, v in BENCH_LOCALS["zhanjiang-2019"].items() if k != left_out}
    engine = Engine(load_policy("zhanjiang-2019"), local)
    stay = replace(_visit(date(2019, 3, 1), "2000000"), hospital_level="市级", referred=True)
    case = Case(policy="zhanjiang-2019", visits=(stay,), categories=("低保对象",))
    with pytest.raises(CaseError) as refused:
        engine.settle(case, explain=False)
    assert refused.value.field == f"local.{left_out}"
