"""The four defects an outside audit found, each tested from the document's own words (quoted beside each test)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from app.cli import main

HUNAN_LOCAL = {"per_capita_disposable_income": "30000", "serious_deductible_share": "50%",
               "assistance_deductible_share": "5%"}
WUHU_LOW = {
    "policy": "wuhu-2022",
    "person": {"categories": ["低保对象"]},
    "visits": [{"id": "v1", "date": "2022-03-05", "kind": "住院", "total_cost": "60000.00",
                "policy_covered": "50000.00", "basic_paid": "30000.00", "serious_illness_paid": "8000.00"}],
}


def settle(case: dict, tmp_path: Path, capsys) -> tuple[int, dict | None, str]:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    code = main(["settle", str(path)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def with_visit(case: dict, **fields) -> dict:
    out = copy.deepcopy(case)
    out["visits"][0].update(fields)
    return out


# 芜医保〔2021〕76号 二(二)5: “对救助对象在参保地定点医疗机构或按规定转诊异地就医（急诊、抢救除外）发生的合规医疗费用
# （包括住院及门诊慢特病），经基本医疗保险、大病保险等报销后的个人自付部分按规定给予救助。……低保对象救助比例 75%”
@pytest.mark.parametrize("fields,paid", [
    ({}, "9000.00"),                                               # an old bill: read as 参保地, as before
    ({"in_insured_area": True}, "9000.00"),                        # 在参保地定点医疗机构
    ({"in_insured_area": False, "referred": True}, "9000.00"),     # 按规定转诊异地就医
    ({"in_insured_area": False, "emergency": True}, "9000.00"),    # 急诊、抢救除外
    ({"in_insured_area": False}, "0.00"),                          # 自行异地就医：不在救助范围
    ({"in_insured_area": False, "filed_remote": True}, "0.00"),    # 备案不是这一条写的三种情形之一
])
def test_wuhu_assists_only_insured_area_referral_or_emergency(fields, paid, tmp_path, capsys):
    code, result, err = settle(with_visit(WUHU_LOW, **fields), tmp_path, capsys)
    assert code == 0, err
    v = result["visits"][0]
    assert v["assistance_paid"] == paid
    if paid == "0.00":
        assert v["personal_pay"] == "22000.00"
        assert any(s["tier"] == "医疗救助" and "芜医保〔2021〕76号 二(二)5" in s["reference"]
                   and "不予救助" in s["explain"] for s in v["steps"])


def test_wuhu_out_of_area_costs_take_no_deductible_nor_limit(tmp_path, capsys):
    """The excluded visit's costs do not enter the pool: a later 参保地 visit of a 返贫致贫人口 (起付线 1500) pays as if
    the first had not happened."""
    case = copy.deepcopy(WUHU_LOW)
    case["person"]["categories"] = ["返贫致贫人口"]
    case["visits"] = [dict(case["visits"][0], in_insured_area=False),
                      dict(case["visits"][0], id="v2", date="2022-05-01")]
    code, result, err = settle(case, tmp_path, capsys)
    assert code == 0, err
    # v2: (12000 − 1500) × 70% = 7350
    assert [v["assistance_paid"] for v in result["visits"]] == ["0.00", "7350.00"]


# 湘医保通知(2022-06-20) 一(一): “已经参加职工医保的监测对象等困难群众，不纳入参保资助范围”;
# 芜医保〔2021〕76号 二(一)1 and 黔南医保发〔2021〕26号 二(一) subsidise “城乡居民医保”/“居民医保” contributions only;
# 湛医保〔2019〕5号 二(一)1: “贫困人口参加城乡居民基本医疗保险个人缴费部分……全额资助”.
@pytest.mark.parametrize("policy,category,day", [
    ("hunan-2022", "特困人员", "2022-08-01"), ("hunan-2022", "监测对象", "2022-08-01"),
    ("wuhu-2022", "特困人员", "2022-03-05"), ("qiannan-2021", "特困人员", "2022-03-05"),
    ("zhanjiang-2019", "特困人员", "2019-03-05"),
])
def test_no_premium_subsidy_for_an_employee_scheme_enrollee(policy, category, day, tmp_path, capsys):
    case = with_visit(WUHU_LOW, date=day)
    case["policy"] = policy
    case["local"] = HUNAN_LOCAL if policy == "hunan-2022" else {}
    if policy == "zhanjiang-2019":
        case["local"] = {"assistance_annual_limit": "50000"}
    case["person"] = {"categories": [category], "insurance": "城乡居民医保"}
    code, resident, err = settle(case, tmp_path, capsys)
    assert code == 0, err
    assert resident["premium_subsidy"]["category"] == category
    case["person"]["insurance"] = "职工医保"
    code, employee, err = settle(case, tmp_path, capsys)
    assert code == 0, err
    assert "premium_subsidy" not in employee


# 湛医保〔2019〕5号: “湛江市医疗保障扶贫三年行动实施方案（2018—2020年）” — it ends with 2020.
def test_zhanjiang_refuses_a_visit_after_2020(tmp_path, capsys):
    case = with_visit(WUHU_LOW, date="2021-01-04")
    case["policy"] = "zhanjiang-2019"
    case["local"] = {"assistance_rate": "80%", "assistance_annual_limit": "50000"}
    code, _, err = settle(case, tmp_path, capsys)
    assert code == 2
    assert err.startswith("visits[0].date") and "2020-12-31" in err
    code, _, err = settle(with_visit(case, date="2020-12-31"), tmp_path, capsys)
    assert code == 0, err


# 黔南医保发〔2021〕26号: “2021—2025年过渡期内” — the file chose to settle after it with a loud warning (期满后: 警告).
def test_qiannan_after_the_transition_period_settles_with_a_warning(tmp_path, capsys):
    case = with_visit(WUHU_LOW, date="2026-02-01")
    case["policy"] = "qiannan-2021"
    code, result, err = settle(case, tmp_path, capsys)
    assert code == 0, err
    warning = next(w for w in result["warnings"] if w["code"] == "policy_period_ended")
    assert "2025-12-31" in warning["message"]
    code, result, err = settle(with_visit(case, date="2025-12-31"), tmp_path, capsys)
    assert code == 0, err
    assert all(w["code"] != "policy_period_ended" for w in result["warnings"])


# settle-json.md: “A case that is wrong in any way (… a bad date, an amount with 3 decimals …) exits 2 with a one-line
# message on standard error that names the field”.
@pytest.mark.parametrize("where,value,field", [
    ("total_cost", "45000.000", "visits[0].total_cost"),
    ("basic_paid", "30000.000", "visits[0].basic_paid"),
    ("date", "20220305", "visits[0].date"),
    ("date", "2022-W10-6", "visits[0].date"),
    ("date", "2022-065", "visits[0].date"),
])
def test_contract_refuses_three_decimals_and_non_calendar_dates(where, value, field, tmp_path, capsys):
    code, _, err = settle(with_visit(WUHU_LOW, **{where: value}), tmp_path, capsys)
    assert code == 2
    assert err.startswith(field) and len(err.strip().splitlines()) == 1
    assert "两位小数" in err or "2022-03-05" in err


@pytest.mark.parametrize("policy,day", [("hunan-2022", "2022-08-01"), ("wuhu-2022", "2022-03-05")])
def test_contract_refuses_a_per_capita_income_of_zero(policy, day, tmp_path, capsys):
    case = with_visit(WUHU_LOW, date=day)
    case["policy"] = policy
    case["local"] = {"per_capita_disposable_income": "0"}
    code, _, err = settle(case, tmp_path, capsys)
    assert code == 2
    assert err.startswith("local.per_capita_disposable_income") and "不能为 0" in err
