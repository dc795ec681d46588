"""The expressions a county's file can now say: a shared limit declared once, a tier paid on application, the
倾斜 base as a declared choice, a dated yearly contribution, and the end of a policy's period."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.domain.case import CaseError, parse_case
from app.policy.cases import load_cases, run_case
from app.policy.engine import Engine
from app.policy.loader import load_file, policies_dir

WUHU = (policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8")
CASES = Path(__file__).resolve().parents[1] / "cases" / "wuhu-2022"
LIMIT = "年度限额: {2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}}"
MONITORED = "      - 类别: [监测对象, 脱贫不稳定人口, 边缘易致贫人口, 突发严重困难户]\n"
TILT_BASE = "          方式: 超限额部分\n"


def variant(tmp_path: Path, text: str):
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(text, encoding="utf-8")
    return load_file(path)


def settle(loaded, person: dict, visits: list[dict], **extra):
    case = parse_case({"policy": "wuhu-2022", "person": person, "visits": visits, **extra})
    return Engine(loaded, case.local).settle(case)


def inpatient(day="2022-03-05", covered="50000", basic="30000", serious="8000", **flags) -> dict:
    return {"id": "v1", "date": day, "kind": "住院", "total_cost": covered, "policy_covered": covered,
            "basic_paid": basic, "serious_illness_paid": serious, **flags}


SHARED = WUHU.replace("基本医保:\n", "共用限额:\n  救助年度限额:\n    2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}\n\n"
                                   "基本医保:\n", 1).replace(LIMIT, "年度限额: {引用: 救助年度限额}")


def test_a_shared_limit_declared_once_settles_every_wuhu_case_as_the_four_copies_did(tmp_path):
    assert WUHU.count(LIMIT) == 4 and SHARED.count("{引用: 救助年度限额}") == 4
    loaded = variant(tmp_path, SHARED)
    specs = [spec for path in sorted(CASES.glob("*.yaml")) for spec in load_cases(path)]
    assert len(specs) > 20
    for i, spec in enumerate(specs, start=1):
        outcome = run_case(loaded, spec, i)
        assert outcome.agrees, (spec["name"], outcome.differences)


def test_a_change_to_the_shared_limit_reaches_every_tier_that_names_it(tmp_path):
    raised = SHARED.replace("    2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}\n",
                            "    2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}\n"
                            "    2024-01-01: {值: 60000, 依据: 某县医保发〔2023〕1号}\n", 1)
    loaded = variant(tmp_path, raised)
    for category, rate in (("特困人员", "90%"), ("低保对象", "75%"), ("返贫致贫人口", "70%"), ("监测对象", "60%")):
        # 200000 of self-pay × any of the four rates exceeds both limits: each tier pays exactly its limit.
        for day, limit in (("2023-06-01", "50000.00"), ("2024-06-01", "60000.00")):
            result = settle(loaded, {"categories": [category]}, [inpatient(day, "300000", "100000", "0")])
            assert str(result.visits[0].assistance_paid) == limit, (category, rate, day)


APPLICATION = WUHU.replace(MONITORED, MONITORED + "        依申请: {依据: 芜医保〔2021〕76号 二(二)5}\n", 1)


def test_a_tier_paid_on_application_pays_nothing_until_applied_for(tmp_path):
    loaded = variant(tmp_path, APPLICATION)
    person = {"categories": ["监测对象"]}
    visit = inpatient(covered="30000", basic="18000", serious="2000")
    unapplied = settle(loaded, person, [visit])
    assert str(unapplied.visits[0].assistance_paid) == "0.00"
    assert "须经申请" in unapplied.visits[0].steps[-1].explain
    # Applied for: as the bundled file pays 监测对象, (10000 − 3000) × 60% = 4200.
    applied = settle(loaded, person, [visit], application=True)
    assert str(applied.visits[0].assistance_paid) == "4200.00"
    assert not [w for w in applied.warnings if w.code == "application_not_applicable"]


def test_a_tier_paid_on_application_with_the_documents_income_test(tmp_path):
    tested = APPLICATION.replace("        依申请: {依据: 芜医保〔2021〕76号 二(二)5}\n",
                                 "        依申请:\n          依据: 芜医保〔2021〕76号 二(二)5\n"
                                 "          收入检验: {方式: 收入减自付低于低收入标准, 财产核查: false, 依据: 芜医保〔2021〕76号 二(二)5}\n", 1)
    loaded = variant(tmp_path, tested)
    person = {"categories": ["监测对象"]}
    visit = inpatient(covered="30000", basic="18000", serious="2000")
    # Self-paid before assistance 30000 − 18000 − 2000 = 10000: 15000 − 10000 = 5000 < 9600 passes; 25000 − 10000 does not.
    poor = settle(loaded, person, [visit], application=True,
                  household={"annual_income": "15000", "low_income_standard": "9600"})
    assert str(poor.visits[0].assistance_paid) == "4200.00"
    richer = settle(loaded, person, [visit], application=True,
                    household={"annual_income": "25000", "low_income_standard": "9600"})
    assert str(richer.visits[0].assistance_paid) == "0.00"
    assert "不符合条件" in richer.visits[0].steps[-1].explain
    with pytest.raises(CaseError) as info:
        settle(loaded, person, [visit], application=True)
    assert info.value.field == "household.annual_income"


def test_the_tilt_base_is_a_declared_choice(tmp_path):
    remaining = variant(tmp_path, WUHU.replace(TILT_BASE, "          方式: 剩余合规自付\n", 1))
    person = {"categories": ["低保对象"]}
    referred = inpatient(referred=True, in_province=True)
    # Self-pay 50000 − 30000 − 8000 = 12000 × 75% = 9000, well inside the 50000 limit.
    bundled = settle(load_file(policies_dir() / "wuhu-2022.yaml"), person, [referred])
    assert (str(bundled.visits[0].assistance_paid), str(bundled.visits[0].tilt_assistance_paid)) == ("9000.00", "0.00")
    # Read as all that basic assistance left: 12000 − 9000 = 3000 × the category's 75% = 2250 (limit 20000).
    other = settle(remaining, person, [referred])
    assert (str(other.visits[0].assistance_paid), str(other.visits[0].tilt_assistance_paid)) == ("9000.00", "2250.00")
    assert "基本救助后剩余的政策范围内个人自付" in other.visits[0].steps[-1].explain
    not_referred = settle(remaining, person, [inpatient()])
    assert str(not_referred.visits[0].tilt_assistance_paid) == "0.00"


CONTRIBUTION = WUHU.replace("基本医保:\n", "个人缴费:\n  城乡居民医保:\n    2022-01-01: {值: 350, 依据: 某市医保发〔2021〕1号}\n"
                                         "    2023-01-01: {值: 380, 依据: 某市医保发〔2022〕1号}\n\n基本医保:\n", 1)


def test_a_dated_contribution_gives_the_premium_subsidy_amount(tmp_path):
    loaded = variant(tmp_path, CONTRIBUTION)
    dibao = settle(loaded, {"categories": ["低保对象"]}, [inpatient()]).premium_subsidy
    # 350 × 90% = 315 in 2022; 380 × 90% = 342 from 2023.
    assert dibao == {"category": "低保对象", "mode": "比例", "reference": "芜医保〔2021〕76号 二(一)1",
                     "reading": dibao["reading"], "share": "90%", "contribution": "350.00",
                     "contribution_reference": "某市医保发〔2021〕1号", "amount": "315.00"}
    later = settle(loaded, {"categories": ["低保对象"]}, [inpatient("2023-04-01")]).premium_subsidy
    assert (later["contribution"], later["amount"]) == ("380.00", "342.00")
    tekun = settle(loaded, {"categories": ["特困人员", "低保对象"]}, [inpatient()]).premium_subsidy
    assert (tekun["mode"], tekun["amount"]) == ("全额", "350.00")
    # Without a declared contribution the result keeps its old shape: no amount for a share.
    plain = settle(load_file(policies_dir() / "wuhu-2022.yaml"), {"categories": ["低保对象"]}, [inpatient()]).premium_subsidy
    assert "amount" not in plain and "contribution" not in plain


def test_visits_after_the_period_are_refused(tmp_path):
    loaded = variant(tmp_path, WUHU.replace("施行日期: 2022-01-01\n", "施行日期: 2022-01-01\n适用期至: 2026-12-31\n", 1))
    assert str(settle(loaded, {"categories": ["低保对象"]}, [inpatient("2026-12-31")]).visits[0].assistance_paid) == "9000.00"
    with pytest.raises(CaseError) as info:
        settle(loaded, {"categories": ["低保对象"]}, [inpatient("2027-01-01")])
    assert info.value.field == "visits[0].date" and "晚于本政策适用期（至 2026-12-31）" in info.value.message
    assert loaded.policy.ends == date(2026, 12, 31)

