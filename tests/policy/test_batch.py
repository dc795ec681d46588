"""The batch path and the per-visit engine agree to the fen: on every golden case, on generated years of all five
policies, and (tests/services/test_resettle_batch.py) on a demo county."""

from __future__ import annotations

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


@st.composite
def years(draw, policy: str) -> list[Case]:
    """A handful of person-years under `policy`: any category it names (or none, or one it does not), any kind,
    level, referral and condition, amounts from a few yuan to past every limit, slips with and without the
    hospital's figures."""
    pol = ENGINES[policy].policy
    names = [c.name for c in pol.categories] + list(CANONICAL_CATEGORIES)
    out = []
    for _ in range(draw(st.integers(1, 4))):
        cats = tuple(draw(st.lists(st.sampled_from(names), max_size=2, unique=True)))
        insurance = draw(st.sampled_from(INSURANCE_SCHEMES if policy == "liupanshui-2017" else ("城乡居民医保",)))
        days = sorted(draw(st.lists(st.integers(0, 364), min_size=1, max_size=7)))
        visits = []
        for i, d in enumerate(days):
            kind = draw(st.sampled_from(VISIT_KINDS))
            total = draw(st.integers(100, 60_000_000))            # fen: 1 元 to 60 万
            covered = draw(st.integers(0, total))
            basic = serious = None
            if draw(st.booleans()):
                basic = draw(st.integers(0, covered))
                if draw(st.booleans()):
                    serious = draw(st.integers(0, covered - basic))
            # Now and then no level: a year the engine refuses (a level its deductible needs) must be refused here too.
            level = "基层" if kind == "普通门诊" else (None if draw(st.integers(0, 19)) == 0
                                                      else draw(st.sampled_from(HOSPITAL_LEVELS)))
            cents = lambda v: None if v is None else Decimal(v) / 100  # noqa: E731
            visits.append(Visit(id=f"v{i + 1}", date=date(YEAR[policy], 1, 1) + timedelta(days=d), kind=kind,
                                total_cost=cents(total), policy_covered=cents(covered), basic_paid=cents(basic),
                                serious_illness_paid=cents(serious), referred=draw(st.booleans()),
                                in_province=draw(st.booleans()), hospital_level=level,
                                major_disease=draw(st.booleans())))
        out.append(Case(policy=policy, visits=tuple(visits), categories=cats, insurance=insurance,
                        household=Household()))
    return out


@pytest.mark.parametrize("policy", sorted(BENCH_LOCALS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_years(policy: str, data):
    cases = data.draw(years(policy))
    engine = ENGINES[policy]
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


def test_vectorised_path_used_for_an_ordinary_year():
    """Not everything goes the declared fallback way: an ordinary 湖南 year is settled in columns."""
    engine = ENGINES["hunan-2022"]
    case = Case(policy="hunan-2022", categories=("特困人员",), visits=(
        Visit("v1", date(2023, 3, 1), "住院", Decimal("20000"), Decimal("18000"), hospital_level="县级"),
        Visit("v2", date(2023, 5, 1), "门诊慢特病", Decimal("900"), Decimal("800"), Decimal("400"), Decimal("0"))))
    got = settle_columns(engine, YearColumns.from_cases([case]))
    assert got.per_visit.tolist() == [False] and not got.reasons
    assert_agree(engine, [case])
    assert np.all(got.assistance_paid > 0)
