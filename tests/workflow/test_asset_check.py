"""An application registered “待民政核查” moves on: 民政 records the 财产核查 at its county step, and until then the
page, the 公示名单 and the 审批表 say so instead of failing; one case's missing data never stops another's row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.errors import FieldError
from app.services import applications as apps
from app.services import paperwork, registry
from app.store import clock
from tests.workflow.test_applications import MEETING, TODAY, VILLAGE, go, valid_id, world  # noqa: F401


@pytest.fixture
def pending(world):  # noqa: F811 - the fixture imported above
    people, _ = world
    pid = people["admin"].conn.execute("SELECT id FROM persons WHERE name = '钱七'").fetchone()[0]
    people["admin"].conn.execute("DELETE FROM applications")  # the world's own case had the check already
    return people, apps.create_application(people["cun1"], pid, 2025, "18000", "9600", None)


def to_notice(people, app_id):
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    go(people, "xiangshen", app_id, "township_review", "pass")


def test_pending_check_shows_as_such_and_the_case_moves_on(pending, tmp_path):
    people, app_id = pending
    computed = apps.compute_amount(people["admin"], app_id)
    assert computed["amount"] is None and computed["pending"] == "待民政核查"
    to_notice(people, app_id)
    # Another case in the same township without any bill: its row says why, and does not stop the list.
    _, other = registry.register_household(people["admin"], VILLAGE, "籍山镇茶丰村 4 号",
                                           registry.PersonInput("孙八", valid_id("34022319710101001")))
    other_id = apps.create_application(people["cun1"], other, 2025, "8000", "9600", True)
    to_notice(people, other_id)
    rows = {r["name"]: r for r in apps.notice_list(people["xiang"], today=TODAY)}
    assert rows["钱七"]["amount"] is None and rows["钱七"]["amount_note"] == "待民政核查"
    assert rows["孙八"]["amount"] is None and "就诊" in rows["孙八"]["amount_note"]
    assert paperwork.notice_list(people["xiang"], tmp_path / "notice.pdf").stat().st_size > 0
    content = paperwork.approval_form_content(people["admin"], app_id)
    assert content["application"]["asset_check"] == "待民政核查" and content["computation"] == "待民政核查"
    assert paperwork.approval_form(people["admin"], app_id, tmp_path / "form.pdf").stat().st_size > 0


def test_civil_opinion_records_the_check_then_the_case_is_approved(pending):
    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    with pytest.raises(FieldError) as refused:
        go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="收入低于标准")
    assert refused.value.field == "asset_check" and "财产核查结果" in str(refused.value)
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="收入低于标准", asset_check=True)
    assert apps.application_row(people["admin"], app_id)["passes_asset_check"] == 1
    a = go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    assert a["state"] == "approved" and Decimal(a["approved_amount"]) == Decimal("2500.00")
    levels = paperwork.approval_form_content(people["admin"], app_id)["levels"]
    assert any("财产核查：符合" in level["opinion"] for level in levels)
    assert any("到会 9 人，同意 8 票，反对 1 票" in level["opinion"] for level in levels)


def test_a_failed_check_pays_nothing(pending):
    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="有商品房两套", asset_check=False)
    assert apps.compute_amount(people["admin"], app_id)["amount"] == Decimal("0.00")


def test_a_form_printed_once_approved_still_checks_after_disbursement(pending):
    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合", asset_check=True)
    go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    from app.documents import forms

    code = forms.verification_code(app_id, paperwork.approval_form_content(people["admin"], app_id))
    go(people, "xiang2", app_id, "approved", "disburse")
    ok, message = paperwork.verify_form(people["admin"], code)
    assert ok and "已发放" in message


def test_an_office_with_one_caseworker_lets_one_person_close_the_notice_and_pay(pending):
    from app.services import one_person_offices

    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合", asset_check=True)
    go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    with pytest.raises(FieldError, match="同一人不能办理两个环节"):
        go(people, "xiang", app_id, "approved", "disburse")
    with pytest.raises(FieldError, match="管理员"):
        one_person_offices.set_offices(people["xiang"], ["340223100"])
    with pytest.raises(FieldError) as bad:
        one_person_offices.set_offices(people["admin"], ["34022310"])
    assert "仅一名经办人" in str(bad.value) and "one_person" not in str(bad.value)
    one_person_offices.set_offices(people["admin"], ["340223100"])
    assert people["admin"].conn.execute("SELECT count(*) FROM audit_log WHERE entity_id = 'one_person_offices'"
                                        ).fetchone()[0] == 1
    go(people, "xiang", app_id, "approved", "disburse")
    levels = paperwork.approval_form_content(people["admin"], app_id)["levels"]
    assert "经县级管理员准许由同一人办理两个环节" in levels[-1]["opinion"]


def test_statistics_count_application_payments(pending):
    from app.services.application_statistics import application_payments

    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合", asset_check=True)
    go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    year = clock.today().year
    waiting = application_payments(people["xiang"], year)
    assert (waiting.waiting_people, waiting.waiting_amount) == (1, Decimal("2500.00"))
    go(people, "xiang2", app_id, "approved", "disburse")
    paid = application_payments(people["xiang"], year)
    assert (paid.disbursed_people, paid.disbursed_amount, paid.waiting_people) == (1, Decimal("2500.00"), 0)
    assert application_payments(people["xiang"], year - 1).disbursed_people == 0


def test_case_search_finds_finished_and_rejected_cases_by_name_id_or_initials(pending, tmp_path):
    from app.services import case_search

    people, app_id = pending
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "reject", opinion="收入超过标准")
    assert apps.worklist(people["cun1"]) == [] and apps.worklist(people["xiangshen"]) == []  # gone from every list
    for query in ("钱七", "钱", "qq", valid_id("34022319700101001")[:10], ""):
        found = case_search.search_cases(people["xiang"], query)
        assert [c["id"] for c in found] == [app_id], query
    assert found[0]["state_name"] == "不予救助"
    # A surname read otherwise than its everyday character: 曾七 is found by zq as by cq.
    from app.services import registry
    applicant = people["xiang"].conn.execute("SELECT * FROM persons WHERE id = (SELECT person_id FROM applications "
                                             "WHERE id = ?)", (app_id,)).fetchone()
    registry.update_person(people["xiang"], applicant["id"], registry.PersonInput(
        "曾七", applicant["id_number"], applicant["relation_to_head"], applicant["id_type"]))
    for query in ("zq", "cq"):
        assert [c["id"] for c in case_search.search_cases(people["xiang"], query)] == [app_id], query
    assert case_search.search_cases(people["xiang"], "", state="rejected", year=2025)[0]["id"] == app_id
    assert case_search.search_cases(people["xiang"], "", state="disbursed") == []
    assert case_search.search_cases(people["xiang"], "", year=2024) == []
    assert case_search.case_years(people["xiang"]) == [2025]
    # Outside the user's jurisdiction nothing is found.
    from app.services import users
    from app.services.session import Session

    other = users.create_user(people["admin"], "far", "far", "乡镇经办", "340223101", "correct-horse")
    assert case_search.search_cases(Session(people["admin"].store, other), "钱七") == []
    paper = tmp_path / "attached.pdf"
    paper.write_bytes(b"%PDF-1.4 scan")
    apps.attach(people["xiang"], app_id, "收入证明", paper)
    assert [a["filename"] for a in case_search.attachments(people["xiang"], app_id)] == ["attached.pdf"]


def test_a_township_with_one_caseworker_lets_that_person_take_both_township_roles_steps(pending):
    from app.services import one_person_offices
    from app.workflow import replay

    people, app_id = pending
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    # Without the county's leave, the 乡镇经办 may not take the 乡镇审核's step, nor sees it waiting.
    with pytest.raises(FieldError, match="须由乡镇审核办理"):
        go(people, "xiang", app_id, "township_review", "pass")
    assert app_id not in {c["id"] for c in apps.worklist(people["xiang"])}
    # A village marked as a one-person office does not let the township's caseworker stand in at township steps.
    one_person_offices.set_offices(people["admin"], [VILLAGE])
    with pytest.raises(FieldError, match="须由乡镇审核办理"):
        go(people, "xiang", app_id, "township_review", "pass")
    one_person_offices.set_offices(people["admin"], [VILLAGE[:9]])
    assert app_id in {c["id"] for c in apps.worklist(people["xiang"])}
    assert app_id not in {c["id"] for c in apps.worklist(people["cun1"])}  # never a village caseworker
    go(people, "xiang", app_id, "township_review", "pass")
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    levels = paperwork.approval_form_content(people["admin"], app_id)["levels"]
    township = next(level for level in levels if level["step"].startswith("乡镇审核"))
    assert "由乡镇经办代为办理乡镇审核的环节" in township["opinion"]
    assert "同一人办理两个环节" in levels[-1]["opinion"] and levels[-1]["step"].startswith("公示")
    # A county step is never waived.
    with pytest.raises(FieldError, match="须由县级医保审核办理"):
        go(people, "xiang", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    # The same step arriving elsewhere is kept only where that site has marked the office itself.
    from app.exchange.steps import held as held_here

    steps = held_here(people["admin"].conn, app_id)
    stood_in = next(s for s in steps if s["state"] == "township_review")
    held = [s for s in steps if s["seq"] < stood_in["seq"]]
    assert "须由乡镇审核办理" in replay.check(stood_in, held, VILLAGE)
    assert replay.check(stood_in, held, VILLAGE, one_person=9) is None


def test_the_approval_form_counts_live_bills_only(pending):
    from app.services import bill_changes, bills

    people, app_id = pending
    a = apps.application_row(people["admin"], app_id)
    before = paperwork.approval_form_content(people["admin"], app_id)["totals"]
    row = bills.record_bill(people["cun1"], a["person_id"], bills.BillInput(
        "南陵县医院", "2025-05-01", "2025-05-03", "住院", "56000", "48000", "VOID-1", "县级"))
    bill_changes.void_bill(people["cun1"], row["visit_id"], "发票号录错")
    assert paperwork.approval_form_content(people["admin"], app_id)["totals"] == before


def _to_county_opinions(people, app_id, asset_check):
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="已核查", asset_check=asset_check)


def test_a_household_that_fails_the_check_is_not_approved_at_zero(pending):
    people, app_id = pending
    _to_county_opinions(people, app_id, False)
    with pytest.raises(FieldError) as refused:
        go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    assert refused.value.field == "amount" and "不予救助" in refused.value.message
    assert "不符合低收入家庭财产核查条件" in refused.value.message
    assert not isinstance(refused.value, apps.ZeroAmount)  # no confirming it away
    assert apps.application_row(people["admin"], app_id)["state"] == "county_approval"


def test_approving_zero_for_a_household_that_qualifies_asks_first_and_says_why(pending):
    people, app_id = pending
    _to_county_opinions(people, app_id, True)
    with pytest.raises(apps.ZeroAmount) as asked:  # the approver typed 0 (the computed amount is 2500)
        go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准", amount="0",
           amount_reason="家庭已获得社会捐助全部医疗费用，经研究决定")
    assert "批准后不发放任何救助金" in asked.value.message and "原因" in asked.value.message
    assert apps.application_row(people["admin"], app_id)["state"] == "county_approval"
    a = go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准", amount="0",
           amount_reason="家庭已获得社会捐助全部医疗费用，经研究决定", confirm_zero=True)
    assert a["state"] == "approved" and Decimal(a["approved_amount"]) == 0
    details = people["admin"].conn.execute(
        "SELECT details FROM application_steps WHERE application_id = ? AND action = 'approve'", (app_id,)).fetchone()
    assert '"zero_confirmed": true' in details[0]


def test_the_approval_form_prints_the_period_the_notice_ran_and_an_older_print_still_checks(pending, tmp_path):
    from app.documents import forms

    people, app_id = pending
    to_notice(people, app_id)
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    content = paperwork.approval_form_content(people["admin"], app_id)
    closed = next(level for level in content["levels"] if level["opinion"].startswith("公示期满无异议"))
    assert closed["notice"] == "公示 2025-06-02 至 2025-06-08，7 天"
    # A form printed before the period was printed carries the same code.
    older = {**content, "levels": [{k: v for k, v in lv.items() if k != "notice"} for lv in content["levels"]]}
    assert forms.form_digest(older) == forms.form_digest(content)
    assert paperwork.approval_form(people["admin"], app_id, tmp_path / "form.pdf").stat().st_size > 0
