"""The family's own share split into its parts (目录外, 起付线以下, 超过封顶线, 自付比例部分) adds up to it to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.case import parse_case
from app.policy.cases import _plain, load_cases
from app.policy.engine import Engine
from app.policy.loader import load_policy
from tests.policy.test_cases import FILES

RESULTS = [pytest.param(path, i, id=f"{path.parent.name}/{path.stem}#{i + 1}")
           for path in FILES for i, spec in enumerate(load_cases(path)) if "error" not in spec]


def _settled(path, index):
    spec = load_cases(path)[index]
    data = _plain(spec["case"])
    case = parse_case(data)
    return Engine(load_policy(data["policy"]), case.local).settle(case).to_json()


@pytest.mark.parametrize("path,index", RESULTS)
def test_the_parts_add_up_to_what_the_family_pays(path, index):
    for v in _settled(path, index)["visits"]:
        parts = {k: Decimal(x) for k, x in v["personal_pay_parts"].items()}
        assert sum(parts.values()) == Decimal(v["personal_pay"]), v["id"]
        assert all(x >= 0 for x in parts.values()), (v["id"], parts)
        for share in v["tier_shares"]:  # each tier's split adds up to what it settled on
            got = sum(Decimal(share[k]) for k in ("paid", "under_deductible", "above_limit", "co_payment"))
            assert got == max(Decimal(share["base"]), Decimal(share["paid"])), share


def _case(category, visits, policy="wuhu-2022"):
    case = parse_case({"policy": policy, "person": {"categories": [category]}, "visits": visits})
    return Engine(load_policy(policy), case.local).settle(case).to_json()["visits"]


def test_a_deductible_and_a_rate_show_as_their_own_parts():
    # 监测对象 under wuhu-2022: 起付线 3000, 60%; in-catalogue self-pay after insurance 10000.
    v, = _case("监测人口", [{"id": "v1", "date": "2022-06-01", "kind": "住院", "total_cost": "32000.00",
                             "policy_covered": "30000.00", "basic_paid": "18000.00",
                             "serious_illness_paid": "2000.00"}])
    parts = v["personal_pay_parts"]
    assert parts == {"out_of_catalog": "2000.00", "under_deductible": "3000.00", "above_limit": "0.00",
                     "co_payment": "2800.00", "unsplit": "0.00"}


def test_what_the_annual_limit_leaves_is_above_the_limit():
    # 特困人员: 90% to a 50000 limit; the third visit's 30000 is rated 27000 but only 23000 is left of the limit.
    visits = [{"id": "v1", "date": "2022-02-10", "kind": "住院", "total_cost": "70000.00", "policy_covered": "65000.00",
               "basic_paid": "35000.00", "serious_illness_paid": "5000.00"},
              {"id": "v2", "date": "2022-05-10", "kind": "门诊慢特病", "total_cost": "12000.00",
               "policy_covered": "12000.00", "basic_paid": "6000.00", "serious_illness_paid": "1000.00"},
              {"id": "v3", "date": "2022-09-01", "kind": "住院", "total_cost": "66000.00", "policy_covered": "61000.00",
               "basic_paid": "28000.00", "serious_illness_paid": "3000.00"}]
    v3 = _case("特困人员", visits)[2]["personal_pay_parts"]
    assert v3 == {"out_of_catalog": "5000.00", "under_deductible": "0.00", "above_limit": "4000.00",
                  "co_payment": "3000.00", "unsplit": "0.00"}


def test_a_tier_that_only_passed_the_costs_on_does_not_decide_the_parts():
    # 普通参保居民, basic computed (县级 起付线 500, 70%): 47500 × 70% = 33250; 大病保险 sees 14750, under its 15000
    # 起付线, pays nothing: the family's 14750 is basic's 起付线 500 and its 30% share 14250, not "under 大病's 起付线".
    from app.services.demo import DEMO_LOCAL

    case = parse_case({"policy": "wuhu-2022", "local": DEMO_LOCAL, "visits": [
        {"id": "v1", "date": "2022-06-01", "kind": "住院", "hospital_level": "县级", "total_cost": "56000.00",
         "policy_covered": "48000.00"}]})
    v = Engine(load_policy("wuhu-2022"), case.local).settle(case).to_json()["visits"][0]
    assert v["basic_paid"] == "33250.00" and v["serious_illness_paid"] == "0.00"
    assert v["personal_pay_parts_tier"] == "基本医保"
    assert v["personal_pay_parts"] == {"out_of_catalog": "8000.00", "under_deductible": "500.00",
                                       "above_limit": "0.00", "co_payment": "14250.00", "unsplit": "0.00"}


def test_a_share_under_a_later_tiers_deductible_with_the_hospitals_figures_is_not_split():
    # The slip gave 基本医保; 大病保险 saw 105.20, under its 15000 起付线: why the family pays it is basic's split,
    # which the slip does not give, not 大病保险's 起付线.
    from app.services.demo import DEMO_LOCAL

    case = parse_case({"policy": "wuhu-2022", "local": DEMO_LOCAL, "visits": [
        {"id": "v1", "date": "2022-06-01", "kind": "门诊慢特病", "total_cost": "357.21", "policy_covered": "339.35",
         "basic_paid": "234.15"}]})
    v = Engine(load_policy("wuhu-2022"), case.local).settle(case).to_json()["visits"][0]
    assert v["personal_pay_parts"]["unsplit"] == "105.20" and v["personal_pay_parts_tier"] == ""
