"""Bad input: a Chinese message naming the field, and nothing saved (no row, no audit entry)."""

from __future__ import annotations

from datetime import date

import pytest

from app.services import bills, registry
from app.domain.errors import FieldError

from .conftest import HEAD_ID, valid_id


def counts(session) -> dict[str, int]:
    return {t: session.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("households", "persons", "category_periods", "visits", "settlements", "audit_log")}


def refused(session, field: str, fragment: str, call):
    before = counts(session)
    with pytest.raises(FieldError) as info:
        call()
    assert info.value.field == field, str(info.value)
    assert fragment in str(info.value)
    assert counts(session) == before, "nothing may be saved"
    return str(info.value)


def bill(**over):
    data = dict(hospital="南陵县医院", admitted_on="2023-03-01", discharged_on="2023-03-05", kind="住院",
                total_cost="10000", policy_covered="9000", invoice_number="A1", hospital_level="县级",
                basic_paid="5000", serious_illness_paid="0")
    data.update(over)
    return bills.BillInput(**data)


def test_wrong_check_digit(session):
    refused(session, "head.id_number", "校验位", lambda: registry.register_household(
        session, "340223100201", "某村", registry.PersonInput("王五", HEAD_ID[:-1] + "1")))


def test_id_already_registered_points_to_the_person(session, family):
    message = refused(session, "member.id_number", "已登记为 张三", lambda: registry.add_member(
        session, family[0], registry.PersonInput("张三丰", HEAD_ID, "子")))
    assert "籍山镇某村 1 号" in message


def test_region_code_and_jurisdiction(session):
    refused(session, "region_code", "12 位", lambda: registry.register_household(
        session, "3402231002", "某村", registry.PersonInput("王五", valid_id("34022319800101001"))))
    refused(session, "region_code", "管辖范围", lambda: registry.register_household(
        session, "340222100201", "外县", registry.PersonInput("王五", valid_id("34022319800101001"))))


def test_discharge_before_admission(session, family, clerk):
    refused(session, "discharged_on", "早于入院", lambda: bills.record_bill(
        clerk, family[1], bill(admitted_on="2023-03-06")))


def test_date_in_the_future(session, family, clerk):
    refused(session, "discharged_on", "今天之后", lambda: bills.record_bill(
        clerk, family[1], bill(discharged_on="2023-03-05"), today=date(2023, 3, 4)))


@pytest.mark.parametrize("field,value,fragment", [
    ("total_cost", "-1", "负数"), ("basic_paid", "-0.01", "负数"),
    ("total_cost", "100.001", "两位小数"), ("policy_covered", "1.234", "两位小数"),
])
def test_bad_amounts(session, family, clerk, field, value, fragment):
    refused(session, field, fragment, lambda: bills.record_bill(clerk, family[1], bill(**{field: value})))


def test_covered_above_total_and_basic_above_covered(session, family, clerk):
    refused(session, "policy_covered", "大于医疗费用总额", lambda: bills.record_bill(
        clerk, family[1], bill(policy_covered="10000.01")))
    refused(session, "basic_paid", "大于政策范围内费用", lambda: bills.record_bill(
        clerk, family[1], bill(basic_paid="9000.01")))


def test_same_invoice_at_same_hospital_twice(session, family, clerk):
    bills.record_bill(clerk, family[1], bill())
    refused(session, "invoice_number", "重复报销", lambda: bills.record_bill(clerk, family[2], bill()))
    bills.record_bill(clerk, family[2], bill(hospital="南陵县中医院"))  # another hospital's A1 is another invoice


def test_overlapping_category_periods(session, family):
    registry.set_category(session, family[1], "低保对象", "2022-01-01", "2022-12-31", "民政")
    refused(session, "valid_from", "重叠", lambda: registry.set_category(
        session, family[1], "低保对象", "2022-06-01", None, "民政"))
    registry.set_category(session, family[1], "低保对象", "2023-01-01", None, "民政")
    registry.set_category(session, family[1], "监测对象", "2022-06-01", None, "乡村振兴")  # another category may overlap


def test_a_bill_the_engine_cannot_settle_is_not_saved(session, family, clerk):
    refused(session, "visits[0].hospital_level", "医院级别",
            lambda: bills.record_bill(clerk, family[1], bill(basic_paid=None, serious_illness_paid=None,
                                                               hospital_level=None)))
