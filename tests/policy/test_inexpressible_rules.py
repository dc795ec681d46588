"""Rules the engine could not express before, now blocks and declared locals in the policy files (each test quotes the
clause it comes from)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.case import CaseError, parse_case
from app.policy.describe import describe
from app.policy.engine import Engine
from app.policy.loader import load_policy

ZHANJIANG = {"basic_deductible_primary": "200", "basic_deductible_county": "500", "basic_deductible_city": "800",
             "basic_deductible_province": "1200", "basic_inpatient_rate": "70%", "basic_inpatient_rate_primary": "85%",
             "basic_annual_cap": "不设", "serious_illness_deductible": "50000", "serious_illness_rate": "60%",
             "serious_illness_cap": "不设", "assistance_annual_limit": "50000", "referral_continuation": "是"}
HUNAN = {"per_capita_disposable_income": "30000", "serious_deductible_share": "50%",
         "assistance_deductible_share": "5%", "basic_deductible_primary": "200", "basic_deductible_county": "500",
         "basic_deductible_city": "800", "basic_deductible_province": "1200", "basic_inpatient_rate": "70%",
         "basic_inpatient_rate_province": "80%", "basic_annual_cap": "不设"}


def settle(policy: str, local: dict, day: str, categories=("普通参保居民",), **visit):
    case = parse_case({"policy": policy, "local": local, "person": {"categories": list(categories)},
                       "visits": [{"id": "v1", "date": day, "kind": "住院", "total_cost": "10000.00",
                                   "policy_covered": "10000.00", **visit}]})
    return Engine(load_policy(policy), case.local).settle(case)


# 湛医保〔2019〕5号 二(三)6: “在不同级别医疗机构实行不同的起付标准和支付比例。适当提高基层医疗卫生机构医保支付比例”
@pytest.mark.parametrize("level,paid", [("基层", "8330.00"), ("县级", "6650.00")])
def test_zhanjiang_basic_rate_by_hospital_level(level, paid):
    # 基层 (10000 − 200) × 85% = 8330; 县级 (10000 − 500) × 70% = 6650
    assert str(settle("zhanjiang-2019", ZHANJIANG, "2019-03-01", hospital_level=level).visits[0].basic_paid) == paid


# 湘医保通知(2022-06-20) 二(一): “适当提高参保居民在省级医疗机构住院支付比例”
@pytest.mark.parametrize("level,paid", [("省级", "7040.00"), ("市级", "6440.00")])
def test_hunan_basic_rate_higher_in_provincial_hospitals(level, paid):
    # 省级 (10000 − 1200) × 80% = 7040; 市级 (10000 − 800) × 70% = 6440
    assert str(settle("hunan-2022", HUNAN, "2022-08-01", hospital_level=level).visits[0].basic_paid) == paid


def test_a_level_rate_the_county_has_not_set_is_named():
    local = {k: v for k, v in HUNAN.items() if k != "basic_inpatient_rate_province"}
    with pytest.raises(CaseError) as info:
        settle("hunan-2022", local, "2022-08-01", hospital_level="省级")
    assert info.value.field == "local.basic_inpatient_rate_province"


# 湛医保〔2019〕5号 二(三)6: “除经批准异地居住和驻外工作（学习）人员以及急诊、抢救外，对未按规定办理备案或转诊手续，
# 直接在统筹区外就医的参保人，降低基本医疗保险……报销比例”
@pytest.mark.parametrize("where,paid", [
    ({}, "6650.00"),                                                # 统筹区内（旧账单的读法）
    ({"in_insured_area": False}, "5700.00"),                        # 未备案未转诊：70% − 10 点 = 60%
    ({"in_insured_area": False, "filed_remote": True}, "6650.00"),  # 已办异地就医备案
    ({"in_insured_area": False, "emergency": True}, "6650.00"),     # 急诊、抢救
])
def test_zhanjiang_cuts_the_basic_rate_outside_the_area_without_filing(where, paid):
    local = {**ZHANJIANG, "basic_rate_cut_unfiled": "10%"}
    result = settle("zhanjiang-2019", local, "2019-03-01", hospital_level="县级", **where)
    assert str(result.visits[0].basic_paid) == paid


def test_the_cut_is_asked_for_only_when_a_visit_needs_it():
    settle("zhanjiang-2019", ZHANJIANG, "2019-03-01", hospital_level="县级")  # no cut needed, none asked for
    with pytest.raises(CaseError) as info:
        settle("zhanjiang-2019", ZHANJIANG, "2019-03-01", hospital_level="县级", in_insured_area=False)
    assert info.value.field == "local.basic_rate_cut_unfiled"


# 湛医保〔2019〕5号 二(三)6: “对按规定转诊的住院贫困患者可以连续计算起付线” — “可以”: the county's choice.
def test_the_continuation_switch_must_be_set_and_read_as_yes_or_no():
    case = {"policy": "zhanjiang-2019", "person": {"categories": ["低保对象"]},
            "visits": [{"id": "v1", "date": "2019-03-01", "kind": "住院", "total_cost": "10000.00",
                        "policy_covered": "10000.00", "hospital_level": "县级"},
                       {"id": "v2", "date": "2019-03-15", "kind": "住院", "total_cost": "10000.00",
                        "policy_covered": "10000.00", "hospital_level": "市级", "referred": True}]}
    loaded = load_policy("zhanjiang-2019")
    local = {**ZHANJIANG, "serious_cut_poor": "70%", "serious_rate_poor": "70%", "assistance_rate": "80%",
             "secondary_deductible": "100000", "secondary_rate": "50%", "secondary_rate_high": "50%",
             "secondary_rate_tekun": "50%", "secondary_rate_tekun_high": "50%", "secondary_grade_cost": "100000",
             "secondary_limit": "30000"}
    paid = {}
    for choice in ("是", "否"):
        parsed = parse_case({**case, "local": {**local, "referral_continuation": choice}})
        paid[choice] = Engine(loaded, parsed.local).settle(parsed).visits[1].basic_paid
    # 是: 补交 800 − 500 = 300 → (10000 − 300) × 70% = 6790; 否: 本级 800 → 6440
    assert paid == {"是": Decimal("6790.00"), "否": Decimal("6440.00")}
    with pytest.raises(CaseError) as info:
        Engine(loaded, {**local, "referral_continuation": "七成"})
    assert info.value.field == "local.referral_continuation" and "是 或 否" in info.value.message


# 湘医保通知(2022-06-20) 三(一) “原则上按……的 50%左右确定”; 四(一) “原则上按……的 5%确定”
def test_loose_figures_are_county_locals_with_the_documents_figure_shown():
    text = describe(load_policy("hunan-2022").policy)
    assert "serious_deductible_share" in text and "文件建议值 50%" in text
    assert "assistance_deductible_share" in text and "文件建议值 5%" in text
    local = {k: v for k, v in HUNAN.items() if k != "assistance_deductible_share"}
    with pytest.raises(CaseError) as info:
        settle("hunan-2022", local, "2022-08-01", categories=("低保对象",), basic_paid="6000.00",
               serious_illness_paid="0.00")
    assert info.value.field == "local.assistance_deductible_share" and "5%（建议值）" in info.value.message
    # The county's own figure is used: 二类 deductible 30000 × 4% = 1200 → (4000 − 1200) × 70% = 1960
    result = settle("hunan-2022", {**local, "assistance_deductible_share": "4%"}, "2022-08-01",
                    categories=("低保对象",), basic_paid="6000.00", serious_illness_paid="0.00")
    assert str(result.visits[0].assistance_paid) == "1960.00"
