"""What caseworkers read when a service refuses: the field's Chinese label and the reason, never the code's key."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.services import bills
from app.services import applications as apps
from app.domain.errors import FieldError

from .test_applications import MEETING, TODAY, go, world  # noqa: F401 - world is the fixture

ASCII_WORD = re.compile(r"[A-Za-z_]{3,}")


def assert_reads_in_chinese(exc: FieldError, field: str, label: str, fragment: str) -> None:
    text = str(exc)
    assert (exc.field, exc.label) == (field, label)
    assert text == f"{label}：{exc.message}" and fragment in exc.message
    assert field not in text and not ASCII_WORD.search(label), text


def _bill(**changes) -> bills.BillInput:
    bill = dict(hospital="南陵县医院", admitted_on="2025-03-01", discharged_on="2025-03-05", kind="住院",
                total_cost="6000", policy_covered="5000", invoice_number="N-1", hospital_level="县级")
    return bills.BillInput(**{**bill, **changes})


@pytest.mark.parametrize("changes,field,label,fragment", [
    (dict(total_cost="abc"), "total_cost", "医疗费用总额", "不是金额"),
    (dict(policy_covered="12.345"), "policy_covered", "政策范围内费用", "最多两位小数"),
    (dict(policy_covered="7000"), "policy_covered", "政策范围内费用", "大于医疗费用总额"),
    (dict(discharged_on="2025-02-30"), "discharged_on", "出院（结算）日期", "不是有效日期"),
    (dict(admitted_on="2025-03-09"), "discharged_on", "出院（结算）日期", "早于入院日期"),
])
def test_a_refused_bill_names_the_label(world, changes, field, label, fragment):
    people, app_id = world
    person = apps.application(people["admin"], app_id)["person_id"]
    with pytest.raises(FieldError) as info:
        bills.record_bill(people["xiang"], person, _bill(**changes), today=TODAY)
    assert_reads_in_chinese(info.value, field, label, fragment)


def test_workflow_refusals_name_the_label(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    go(people, "xiangshen", app_id, "township_review", "pass")
    with pytest.raises(FieldError) as info:
        go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 5))
    assert_reads_in_chinese(info.value, "state", "办理环节", "期满后")
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion")
    go(people, "shenpi", app_id, "county_approval", "approve")
    with pytest.raises(FieldError) as info:
        go(people, "xiang", app_id, "approved", "disburse")
    assert_reads_in_chinese(info.value, "user", "办理人", "同一人不能办理两个环节")


def test_a_missing_asset_check_is_asked_for_in_chinese(world):
    people, _ = world
    person = apps.application(people["admin"], world[1])["person_id"]
    apps.act(people["cun1"], world[1], "draft", apps.Decision("withdraw", "撤回重报"), today=TODAY)
    unchecked = apps.create_application(people["cun1"], person, 2025, "18000", "9600", None)
    assert apps.compute_amount(people["admin"], unchecked)["pending"] == "待民政核查"
    go(people, "cun1", unchecked, "draft", "submit")
    go(people, "cun2", unchecked, "village_review", "pass", **MEETING)
    go(people, "xiangshen", unchecked, "township_review", "pass")
    go(people, "xiang", unchecked, "public_notice", "close_notice", today=date(2025, 6, 20))
    with pytest.raises(FieldError) as info:
        go(people, "minzheng", unchecked, "county_approval", "civil_opinion")
    assert_reads_in_chinese(info.value, "asset_check", "财产核查结果", "符合或不符合")
