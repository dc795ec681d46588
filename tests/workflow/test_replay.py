"""replay.check: a step from elsewhere is judged by role, state, duties and what the action needs; fold follows it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from app.workflow import replay

REGION = "340223100201"
NOTICE = {"notice_start": "2025-03-01", "notice_end": "2025-03-08"}


def _step(seq, state, action, to_state, role, user="u", at="2025-03-10T02:00:00+00:00", opinion="同意", **details):
    return {"seq": seq, "state": state, "action": action, "to_state": to_state, "user_id": user, "username": user,
            "display_name": user, "role": role, "at": at, "opinion": opinion, "details": json.dumps(details)}


EARLY = "2025-03-01T02:00:00+00:00"  # the steps up to 公示, on its first day


def _to_county():
    return [_step(1, "draft", "submit", "village_review", "村级经办", "cun", at=EARLY),
            _step(2, "village_review", "pass", "township_review", "村级经办", "cun", at=EARLY),
            _step(3, "township_review", "pass", "public_notice", "乡镇审核", "shen", at=EARLY, **NOTICE),
            _step(4, "public_notice", "close_notice", "county_approval", "乡镇经办", "xiang")]


def _opinions():
    return [_step(5, "county_approval", "medical_opinion", "county_approval", "县级医保审核", "yb"),
            _step(6, "county_approval", "civil_opinion", "county_approval", "县级民政审核", "mz")]


def _approve(seq=7, user="sp", **kw):
    return _step(seq, "county_approval", "approve", "approved", "县级审批", user,
                 **{"computed_amount": "500.00", "approved_amount": "500.00", "amount_reason": None, **kw})


def test_a_regular_case_is_accepted_step_by_step_and_folds_to_approved():
    held = []
    for step in _to_county() + _opinions() + [_approve()]:
        assert replay.check(step, held, REGION) is None, step
        held.append(step)
    folded = replay.fold(held)
    assert folded["state"] == "approved" and folded["approved_amount"] == "500.00"
    assert folded["notice_end"] == "2025-03-08"


@pytest.mark.parametrize("held, step, reason", [
    (_to_county()[:3], {**_approve(4), "state": "public_notice"}, "不能办理这一步"),  # 批准 during 公示
    (_to_county(), _approve(5), "医保审核费用、民政认定收入财产"),                  # no county opinions
    (_to_county() + _opinions(), _approve(user="yb"), "同一人不能办理两个环节"),    # the medical reviewer approves
    (_to_county() + _opinions(), _approve(9), "第 9 步"),                          # a gap in the steps
    (_to_county() + _opinions(), {**_approve(), "role": "乡镇审核"}, "须由县级审批办理"),
    (_to_county() + _opinions(), {**_approve(), "user_id": None}, "办理人不明"),
    (_to_county() + _opinions(), {**_approve(), "opinion": ""}, "须有意见"),
    (_to_county() + _opinions(), _approve(approved_amount="123456.78"), "没有写明理由"),
    (_to_county() + _opinions(), _approve(approved_amount="-1"), "金额不能为负数"),
    (_to_county()[:1], _step(2, "village_review", "pass", "county_approval", "村级经办", "cun"), "不能跳过环节"),
    (_to_county()[:2] + [_step(3, "township_review", "pass", "county_approval", "乡镇审核", "shen")] + [
        {**s, "seq": s["seq"] - 1} for s in _opinions()], _approve(6), "没有经过公示"),
    (_to_county()[:3], _step(4, "public_notice", "close_notice", "county_approval", "乡镇经办", "xiang",
                             at="2025-03-05T02:00:00+00:00"), "期满前不能结束公示"),
    ([], _step(1, "county_approval", "approve", "approved", "县级审批"), "本处这份申请现为“草稿”"),
])
def test_a_step_its_sender_could_not_have_taken_is_refused_with_the_reason(held, step, reason):
    assert reason in (replay.check(step, held, REGION) or "")


def test_a_site_whose_jurisdiction_does_not_cover_the_case_is_refused():
    step = _step(1, "draft", "submit", "village_review", "村级经办", "cun")
    assert replay.check(step, [], REGION, jurisdiction="340223100202") is not None
    assert replay.check(step, [], REGION, jurisdiction="340223100201") is None


def test_an_approver_who_recorded_the_applicants_bills_is_refused():
    held = _to_county() + _opinions()
    assert "录入账单和审批付款须由不同的人办理" in (replay.check(_approve(), held, REGION, recorders=["sp"]) or "")
    assert replay.check(_approve(), held, REGION, recorders=["cun", "xiang"]) is None


def test_a_chain_mixing_the_two_notice_orders_is_refused():
    """公示 after 村评议 (the village pass led to 公示), then closed straight into 县级审批: 乡镇审核 skipped."""
    held = [_step(1, "draft", "submit", "village_review", "村级经办", "cun"),
            _step(2, "village_review", "pass", "public_notice", "村级经办", "cun", **NOTICE)]
    close = _step(3, "public_notice", "close_notice", "county_approval", "乡镇经办", "xiang")
    assert "不能跳过环节" in (replay.check(close, held, REGION) or "")
    assert replay.check({**close, "to_state": "township_review"}, held, REGION) is None
    # The village pass follows the order the submission recorded.
    submitted = [_step(1, "draft", "submit", "village_review", "村级经办", "cun", opinion=None,
                       notice_after="township_review")]
    early = _step(2, "village_review", "pass", "public_notice", "村级经办", "cun2", **NOTICE)
    assert "不能跳过环节" in (replay.check(early, submitted, REGION) or "")


def test_approval_needs_a_notice_after_the_last_pass_it_belongs_to():
    """A 公示 closed before the county sent the case back does not stand for the 乡镇审核 that passed it again."""
    back = [_step(5, "county_approval", "return", "township_review", "县级审批", "sp", opinion="补充材料"),
            _step(6, "township_review", "pass", "county_approval", "乡镇审核", "shen")]  # held: accepted before
    held = _to_county() + back + [{**s, "seq": s["seq"] + 2} for s in _opinions()]
    assert "乡镇审核之后没有经过公示" in (replay.check(_approve(9), held, REGION) or "")


def test_a_county_step_is_kept_only_from_the_county_s_own_site():
    """A township's package may claim any role: a county role's step from a site other than the county's is refused,
    whatever user it names; the township's own steps from it are judged as before."""
    held = _to_county() + _opinions()
    assert "只能在县里的站点办理" in (replay.check(_approve(), held, REGION, from_county=False) or "")
    assert replay.check(_approve(), held, REGION, from_county=True) is None
    assert "只能在县里的站点办理" in (replay.check(_opinions()[0], _to_county(), REGION, from_county=False) or "")
    assert replay.check(_to_county()[3], _to_county()[:3], REGION, from_county=False) is None


def test_an_approval_above_the_computed_amount_is_refused():
    held = _to_county() + _opinions()
    raised = _approve(approved_amount="600.00", amount_reason="家庭特别困难，经集体研究决定提高")
    assert "只能核减" in (replay.check(raised, held, REGION) or "")
    lowered = _approve(approved_amount="400.00", amount_reason="部分票据与三月已报销的重复，核减")
    assert replay.check(lowered, held, REGION) is None


def test_a_notice_shorter_than_the_county_sets_or_starting_after_its_step_is_refused():
    opened = _to_county()[3 - 1]
    assert replay.check(opened, _to_county()[:2], REGION, notice_days=7) is None  # 03-01 to 03-08: 8 days
    short = {**opened, "details": json.dumps({"notice_start": "2025-03-01", "notice_end": "2025-03-01"})}
    assert "共 1 天" in (replay.check(short, _to_county()[:2], REGION, notice_days=7) or "")
    late = {**opened, "details": json.dumps({"notice_start": "2025-03-05", "notice_end": "2025-03-12"})}
    assert "晚于这一步的办理日期" in (replay.check(late, _to_county()[:2], REGION) or "")
    bare = {**opened, "details": "{}"}
    assert "没有写明公示的起止日期" in (replay.check(bare, _to_county()[:2], REGION) or "")


def test_a_notice_is_closed_the_day_after_its_last_day_and_no_step_is_dated_ahead():
    """As applications._check: the 公示's last day is one of its days. A step dated after the receiver's today, or
    before the step it follows, is not what happened."""
    held = _to_county()[:3]
    close = _step(4, "public_notice", "close_notice", "county_approval", "乡镇经办", "xiang", opinion=None,
                  at="2025-03-08T02:00:00+00:00")  # 10:00 on the last day, local
    assert "期满前不能结束公示" in (replay.check(close, held, REGION) or "")
    assert replay.check({**close, "at": "2025-03-08T16:00:00+00:00"}, held, REGION) is None  # 03-09 00:00 local
    ahead = {**close, "at": "2025-03-20T02:00:00+00:00"}
    assert "晚于本处的今天 2025-03-12" in (replay.check(ahead, held, REGION, today=date(2025, 3, 12)) or "")
    assert replay.check(ahead, held, REGION, today=date(2025, 3, 20)) is None
    before = _step(2, "village_review", "pass", "township_review", "村级经办", "cun", at="2025-02-27T02:00:00+00:00")
    assert "早于它之前的一步" in (replay.check(before, held[:1], REGION) or "")
