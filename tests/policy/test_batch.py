"""The batch path and the per-visit engine agree to the fen: on every golden case, on generated years of all five
policies, and (tests/services/test_resettle_batch.py) on a demo county."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.case import Case, CaseError, Household, Visit, parse_case
from app.domain.names import CANONICAL_CATEGORIES, HOSPITAL_LEVELS, INSURANCE_SCHEMES, VISIT_KINDS
from app.policy.batch import YearColumns, settle_columns
from app.policy.cases import _plain, load_cases
from app.policy.engine import Engine
from app.policy.loader import load_policy
from bench.synth import BENCH_LOCALS, YEAR

CASES = Path(__file__).resolve().parents[1] / "cases"
GOLDEN = [pytest.param(path, i, id=f"{path.parent.name}/{path.stem}#{i + 1}")
          for path in sorted(CASES.glob("*/*.yaml")) for i in range(len(load_cases(path)))]
TIERS = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")


def fen(value: Decimal) -> int:
    return int(value * 100)


def assert_agree(engine: Engine, cases: list[Case]) -> None:
    """Each case settled alone by the engine, all together by the batch: the same fen, category and warnings."""
    expected = []
    for case in cases:
        try:
            expected.append(engine.settle(case, explain=False))
        except CaseError as exc:
            expected.append(exc)
    refused = [e for e in expected if isinstance(e, CaseError)]
    if refused:
        # The batch refuses as the engine does: with the first refused person-year's own error.
        with pytest.raises(CaseError) as caught:
            settle_columns(engine, YearColumns.from_cases(cases))
        assert (caught.value.field, caught.value.message) == (refused[0].field, refused[0].message)
        return
    got = settle_columns(engine, YearColumns.from_cases(cases))
    i = 0
    for n, (case, want) in enumerate(zip(cases, expected)):
        assert got.applied_category[n] == want.applied_category, (n, case)
        assert got.application_assistance_paid[n] == fen(want.application_assistance_paid)
        assert got.re_assistance_paid[n] == fen(want.re_assistance_paid)
        assert [w.to_json() for w in got.warnings.get(n, [])] == [w.to_json() for w in want.warnings], (n, case)
        for vr in want.visits:
            assert [int(a[i]) for a in got.tiers()] == [fen(getattr(vr, t)) for t in TIERS], (n, vr.id, case)
            i += 1


@pytest.mark.parametrize("path,index", GOLDEN)
def test_golden_case(path: Path, index: int):
    spec = load_cases(path)[index]
    data = _plain(spec["case"])
    try:
        case = parse_case(data)
        engine = Engine(load_policy(case.policy), case.local)
    except CaseError:
        return  # refused before there is anything to settle: no batch to compare
    assert_agree(engine, [case])


ENGINES = {p: Engine(load_policy(p), BENCH_LOCALS[p]) for p in sorted(BENCH_LOCALS)}
# The county's choices the newer policy keys read, varied beyond the benchmark's values: rates by hospital level,
# shares of a base (地方参数 × 基数), the 连续计算 switch, the 范围外 cut and the 分档 grade line and rates.
LOCAL_CHOICES: dict[str, dict[str, list[str]]] = {
    "hunan-2022": {"serious_deductible_share": ["50%", "40%"], "assistance_deductible_share": ["5%", "3%"],
                   "basic_inpatient_rate_province": ["70%", "80%"]},
    "zhanjiang-2019": {"referral_continuation": ["是", "否"], "basic_inpatient_rate_primary": ["70%", "85%"],
                       "basic_rate_cut_unfiled": ["10%", "75%"],
                       **{k: ["30%", "50%", "80%"] for k in ("secondary_rate", "secondary_rate_high",
                                                             "secondary_rate_tekun", "secondary_rate_tekun_high")},
                       "secondary_grade_cost": ["0", "5000", "60000"]},
}


@st.composite
def engines(draw, policy: str, settles: bool) -> Engine:
    """The policy's engine with the benchmark's local values, some of them replaced by another choice (always, for a
    year meant to settle: the benchmark's 湛江 values have no 范围外 cut, so the engine refuses such a visit)."""
    choices = LOCAL_CHOICES.get(policy, {})
    if not choices or (not settles and draw(st.booleans())):
        return ENGINES[policy]
    local = {**BENCH_LOCALS[policy], **{k: draw(st.sampled_from(v)) for k, v in choices.items()}}
    return Engine(ENGINES[policy].loaded, local)


@st.composite
def years(draw, policy: str, settles: bool) -> list[Case]:
    """A handful of person-years under `policy`: any category it names (or none, or one it does not), any kind,
    level, referral and condition (急诊, 参保地, 备案 too), amounts from a few yuan to past every limit, slips with and
    without the hospital's figures, now and then a year running past the policy's 适用期至. Unless `settles`, now and
    then what the engine refuses (no level where its terms need one, no slip where it has no terms, a scheme it
    does not cover, a visit after 适用期至 with 期满后 拒绝): a refused year refuses the whole batch, so most years
    are drawn to settle."""
    pol = ENGINES[policy].policy
    basic = pol.basic
    names = [c.name for c in pol.categories] + list(CANONICAL_CATEGORIES)
    out = []
    for _ in range(draw(st.integers(1, 4))):
        cats = tuple(draw(st.lists(st.sampled_from(names), max_size=2, unique=True)))
        schemes = INSURANCE_SCHEMES if policy == "liupanshui-2017" else ("城乡居民医保",)
        insurance = draw(st.sampled_from([s for s in schemes if not settles or basic is None or s in basic.schemes]))
        days = sorted(draw(st.lists(st.integers(0, 364), min_size=1, max_size=7)))
        first = date(YEAR[policy], 1, 1)
        if pol.ends is not None and (pol.after_end == "警告" or not settles) and draw(st.integers(0, 4)) == 0:
            first = pol.ends - timedelta(days=180)  # some visits after the end: refused or warned, as the engine does
        visits = []
        for i, d in enumerate(days):
            kind = draw(st.sampled_from(VISIT_KINDS))
            total = draw(st.integers(100, 60_000_000))            # fen: 1 元 to 60 万
            covered = draw(st.integers(0, total))
            paid = serious = None
            if draw(st.booleans()) or (settles and (basic is None or basic.terms(kind) is None
                                                    or insurance not in basic.schemes)):
                paid = draw(st.integers(0, covered))
                if draw(st.booleans()):
                    serious = draw(st.integers(0, covered - paid))
            # Now and then no level: a year the engine refuses (a level its deductible needs) must be refused here too.
            level = "基层" if kind == "普通门诊" else (None if not settles and draw(st.integers(0, 4)) == 0
                                                      else draw(st.sampled_from(HOSPITAL_LEVELS)))
            cents = lambda v: None if v is None else Decimal(v) / 100  # noqa: E731
            visits.append(Visit(id=f"v{i + 1}", date=first + timedelta(days=d), kind=kind,
                                total_cost=cents(total), policy_covered=cents(covered), basic_paid=cents(paid),
                                serious_illness_paid=cents(serious), referred=draw(st.booleans()),
                                in_province=draw(st.booleans()), hospital_level=level,
                                major_disease=draw(st.booleans()), emergency=draw(st.booleans()),
                                in_insured_area=draw(st.booleans()), filed_remote=draw(st.booleans())))
        out.append(Case(policy=policy, visits=tuple(visits), categories=cats, insurance=insurance,
                        household=Household()))
    return out


@pytest.mark.parametrize("policy", sorted(BENCH_LOCALS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_years(policy: str, data):
    settles = data.draw(st.integers(0, 4)) > 0
    cases = data.draw(years(policy, settles))
    engine = data.draw(engines(policy, settles))
    # The engine refuses a year it cannot settle (a level its basic terms need, say); the batch must refuse it too.
    assert_agree(engine, cases)


def test_declared_fallback_for_a_key_without_column_form():
    """A policy key the batch has no column form for sends its person-years to the per-visit engine, counted."""
    engine = ENGINES["hunan-2022"]
    case = Case(policy="hunan-2022", categories=("低保对象",), visits=(
        Visit("v1", date(2023, 3, 1), "住院", Decimal("20000"), Decimal("18000"), hospital_level="县级"),))
    from app.policy import batch
    saved = batch.KNOWN["Treatment"]
    batch.KNOWN["Treatment"] = saved - {"cost_ceiling"}
    try:
        got = settle_columns(engine, YearColumns.from_cases([case]))
    finally:
        batch.KNOWN["Treatment"] = saved
    assert got.per_visit.tolist() == [True]
    assert "Treatment.cost_ceiling" in next(iter(got.reasons))
    want = engine.settle(case, explain=False)
    assert got.assistance_paid[0] == fen(want.visits[0].assistance_paid)


@pytest.mark.parametrize("policy", ["hunan-2022", "wuhu-2022", "qiannan-2021", "zhanjiang-2019"])
def test_vectorised_path_used_for_an_ordinary_year(policy: str):
    """Not everything goes the declared fallback way: an ordinary year is settled in columns under every policy the
    newer keys touch (比例 by level, 就医范围, 适用期至 with 期满后, 范围外降低, the 执行 switch, 分档比例)."""
    engine = ENGINES[policy]
    year = YEAR[policy]
    case = Case(policy=policy, categories=("特困人员",), visits=(
        Visit("v1", date(year, 3, 1), "住院", Decimal("20000"), Decimal("18000"), hospital_level="县级"),
        Visit("v2", date(year, 5, 1), "门诊慢特病", Decimal("900"), Decimal("800"), Decimal("400"), Decimal("0")),
        Visit("v3", date(year, 7, 1), "住院", Decimal("30000"), Decimal("27000"), hospital_level="省级",
              referred=True, in_insured_area=False)))
    got = settle_columns(engine, YearColumns.from_cases([case]))
    assert got.per_visit.tolist() == [False] and not got.reasons
    assert_agree(engine, [case])
    assert np.all(got.assistance_paid > 0)


def test_scope_carried_in_columns():
    """芜湖's 就医范围: a visit outside it (not 参保地, not referred, not 急诊) gets no 救助 in columns, and neither its
    deductible nor its limit is used — the same fen as the engine, without the fallback."""
    engine = ENGINES["wuhu-2022"]
    away = dict(hospital_level="省级", in_insured_area=False)
    case = Case(policy="wuhu-2022", categories=("低保对象",), visits=(
        Visit("v1", date(2023, 3, 1), "住院", Decimal("20000"), Decimal("18000"), **away),
        Visit("v2", date(2023, 4, 1), "住院", Decimal("20000"), Decimal("18000"), emergency=True, **away),
        Visit("v3", date(2023, 5, 1), "住院", Decimal("20000"), Decimal("18000"), hospital_level="县级")))
    got = settle_columns(engine, YearColumns.from_cases([case]))
    assert not got.reasons
    assert got.assistance_paid[0] == 0 and got.assistance_paid[1] > 0 and got.assistance_paid[2] > 0
    assert_agree(engine, [case])


def test_after_the_end_goes_per_visit():
    """A year with a visit after 适用期至 is settled per visit: 黔南 (期满后: 警告) with the engine's warning,
    湛江 (拒绝) refused with the engine's own error."""
    visit = Visit("v1", date(2026, 2, 1), "住院", Decimal("20000"), Decimal("18000"), hospital_level="县级")
    case = Case(policy="qiannan-2021", categories=("低保对象",), visits=(visit,))
    got = settle_columns(ENGINES["qiannan-2021"], YearColumns.from_cases([case]))
    assert got.per_visit.tolist() == [True] and "policy_period_ended" in [w.code for w in got.warnings[0]]
    assert_agree(ENGINES["qiannan-2021"], [case])
    late = Case(policy="zhanjiang-2019", categories=("低保对象",), visits=(replace(visit, date=date(2021, 1, 1)),))
    assert_agree(ENGINES["zhanjiang-2019"], [late])


def zhanjiang(**choices: str) -> Engine:
    return Engine(ENGINES["zhanjiang-2019"].loaded, {**BENCH_LOCALS["zhanjiang-2019"], "basic_rate_cut_unfiled": "10%",
                                                     **choices})


def test_zhanjiang_switch_cut_and_grades_in_columns():
    """湛江's newer keys settle in columns, to the engine's fen, and each one moves the figures: the 连续计算 switch
    (a referred admission after a 基层 one), the 范围外 cut (a visit outside the area, not filed, referred or 急诊) and
    the grade line (a year whose total cost crosses it pays 二次救助 at the higher rate)."""
    case = Case(policy="zhanjiang-2019", categories=("特困人员",), visits=(
        Visit("v1", date(2019, 3, 1), "住院", Decimal("30000"), Decimal("27000"), hospital_level="基层"),
        Visit("v2", date(2019, 4, 1), "住院", Decimal("60000"), Decimal("54000"), hospital_level="省级", referred=True),
        Visit("v3", date(2019, 6, 1), "住院", Decimal("40000"), Decimal("36000"), hospital_level="市级",
              in_insured_area=False)))
    figures = {}
    for name, choices in {"on": {}, "off": {"referral_continuation": "否"}, "cut": {"basic_rate_cut_unfiled": "30%"},
                          "graded": {"secondary_rate_tekun_high": "80%", "secondary_grade_cost": "50000"}}.items():
        engine = zhanjiang(**choices)
        got = settle_columns(engine, YearColumns.from_cases([case]))
        assert got.per_visit.tolist() == [False] and not got.reasons, name
        assert_agree(engine, [case])
        figures[name] = got
    on, off = figures["on"], figures["off"]
    assert on.basic_paid[1] > off.basic_paid[1] and on.basic_paid[0] == off.basic_paid[0]
    assert figures["cut"].basic_paid[2] < on.basic_paid[2] and figures["cut"].basic_paid[1] == on.basic_paid[1]
    assert figures["graded"].tilt_assistance_paid.sum() > on.tilt_assistance_paid.sum()
