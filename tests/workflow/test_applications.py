"""依申请救助 end to end through the services, permissions for every role, state and action, deadlines, 公示."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.domain.idnumber import check_digit
from app.services import applications as apps
from app.services import bills, county, registry, users
from app.services.applications import Decision
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store import clock
from app.domain.errors import FieldError
from app.store.store import open_store
from app.workflow import duties, replay, rules
from app.workflow.deadlines import add_workdays, workdays_between


def valid_id(body17: str) -> str:
    return body17 + check_digit(body17)


VILLAGE, TOWN, COUNTY = "340223100201", "340223100", "340223"
ROLES = {"cun1": ("村级经办", VILLAGE), "cun2": ("村级经办", VILLAGE), "xiangshen": ("乡镇审核", TOWN),
         "xiang": ("乡镇经办", TOWN), "xiang2": ("乡镇经办", TOWN), "yibao": ("县级医保审核", COUNTY), "minzheng": ("县级民政审核", COUNTY),
         "shenpi": ("县级审批", COUNTY), "admin": ("管理员", COUNTY)}
TODAY = date(2025, 6, 2)


@pytest.fixture
def world(tmp_path):
    store = open_store(tmp_path / "w.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", COUNTY, "correct-horse")
    s_admin = Session(store, admin)
    county.configure_county(s_admin, COUNTY, "南陵县", "wuhu-2022", DEMO_LOCAL)
    people = {"admin": s_admin}
    for name, (role, scope) in ROLES.items():
        if name != "admin":
            people[name] = Session(store, users.create_user(s_admin, name, name, role, scope, "correct-horse"))
    hid, pid = registry.register_household(s_admin, VILLAGE, "籍山镇茶丰村 3 号",
                                           registry.PersonInput("钱七", valid_id("34022319700101001")))
    # The township caseworker enters the bill: no county role records bills (duties.BILL_RECORDERS).
    bills.record_bill(people["xiang"], pid, bills.BillInput("安徽省立医院", "2025-02-01", "2025-02-20", "住院", "100000",
                                                    "90000", "P-1", "省级", "50000", "15000"), today=TODAY)
    app_id = apps.create_application(people["cun1"], pid, 2025, "18000", "9600", True)
    yield people, app_id
    store.close()


def go(people, who, app_id, state, action, today=TODAY, **kw):
    opinion = kw.pop("opinion", "同意" if action in rules.NEEDS_TEXT else "")
    return apps.act(people[who], app_id, state, Decision(action, opinion, **kw), today=today)


MEETING = dict(meeting_date="2025-06-02", attendees=9, votes_for=8, votes_against=1)


def to_county(people, app_id):
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    go(people, "xiangshen", app_id, "township_review", "pass")
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))


def test_approve_and_disburse(world):
    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="收入低于标准，财产核查符合")
    # (25000 − 20000) × 50% = 2500: 芜医保〔2021〕76号 二(二)5, 依申请 起付线 2万 比例 50%
    assert apps.compute_amount(people["shenpi"], app_id)["amount"] == Decimal("2500.00")
    a = go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    assert a["state"] == "approved" and a["approved_amount"] == "2500.00"
    a = go(people, "xiang2", app_id, "approved", "disburse")  # another clerk: one person, one step
    assert a["state"] == "disbursed"
    steps = apps.timeline(people["admin"], app_id)
    assert [s["action"] for s in steps] == ["submit", "pass", "pass", "close_notice", "medical_opinion",
                                           "civil_opinion", "approve", "disburse"]
    assert steps[1]["details"]["votes_for"] == 8 and steps[1]["role"] == "村级经办"


def test_return_and_resubmit(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    a = go(people, "xiangshen", app_id, "township_review", "return", opinion="缺收入证明")
    assert a["state"] == "village_review"
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    assert go(people, "xiangshen", app_id, "township_review", "pass")["state"] == "public_notice"


def test_reject_with_a_written_notice(world):
    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="家庭财产超标")
    a = go(people, "shenpi", app_id, "county_approval", "reject", opinion="家庭财产不符合低收入家庭核查条件")
    assert a["state"] == "rejected"
    notice = apps.timeline(people["admin"], app_id)[-1]["details"]["notice"]
    assert "不予救助" in notice and "财产" in notice


def test_withdraw_before_approval_only(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    assert go(people, "xiang", app_id, "village_review", "withdraw", opinion="申请人撤回")["state"] == "withdrawn"
    with pytest.raises(FieldError, match="办理已结束"):
        go(people, "cun2", app_id, "withdrawn", "pass", **MEETING)


def test_county_approval_needs_both_parts_and_a_reason_for_another_amount(world):
    people, app_id = world
    to_county(people, app_id)
    with pytest.raises(FieldError, match="民政认定"):
        go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实") and \
            go(people, "shenpi", app_id, "county_approval", "approve")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    with pytest.raises(FieldError, match="须写明理由") as info:
        go(people, "shenpi", app_id, "county_approval", "approve", amount="2400")
    assert info.value.field == "amount_reason"
    for token in ("x", "核减", "xxxxxxxxxxxxxxxx", "！！！。。。，，，、、、"):
        with pytest.raises(FieldError, match="至少 10 个字") as info:
            go(people, "shenpi", app_id, "county_approval", "approve", amount="2000", amount_reason=token)
        assert info.value.field == "amount_reason"
    a = go(people, "shenpi", app_id, "county_approval", "approve", amount="2000",
           amount_reason="部分票据与三月已报销的重复，核减")
    assert (a["computed_amount"], a["approved_amount"]) == ("2500.00", "2000.00")
    audit_rows = people["admin"].conn.execute("SELECT after FROM audit_log WHERE action LIKE '%批准%'").fetchall()
    assert "部分票据与三月已报销的重复" in audit_rows[-1][0]


def test_an_amount_above_what_the_policy_allows_is_refused_with_the_bound_and_audited(world):
    """芜医保〔2021〕76号: 依申请救助 at 50% above 20,000 of the year's compliant self-pay, at most 30,000 a year, and
    nothing more. The applicant's compliant self-pay is 25,000, computed 2,500: no approval may exceed 2,500, however
    explained (an approver may lower it, with the reason, never raise it; up to the whole 25,000 was allowed)."""
    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    reason = "经县医疗救助工作领导小组会议研究，特事特办"
    for amount in ("999999999999.99", "25000.00", "2500.01"):
        with pytest.raises(FieldError, match=f"{amount} 元超过可批准的最高额 2500.00 元") as info:
            go(people, "shenpi", app_id, "county_approval", "approve", amount=amount, amount_reason=reason)
        assert info.value.field == "amount" and "按政策测算的依申请救助 2500.00 元" in info.value.reason
        assert "只能核减" in info.value.reason
    conn = people["admin"].conn
    refused = conn.execute("SELECT after FROM audit_log WHERE action = '拒绝操作' ORDER BY seq").fetchall()
    assert len(refused) == 3 and "2500.01" in refused[-1][0]
    assert conn.execute("SELECT state, approved_amount FROM applications WHERE id = ?", (app_id,)).fetchone()[:] == \
        ("county_approval", None)
    a = go(people, "shenpi", app_id, "county_approval", "approve", amount="2400", amount_reason="部分票据与三月已报销的重复，核减")
    assert a["approved_amount"] == "2400.00"


def test_the_annual_limit_bounds_the_approval_when_it_is_lower(world, monkeypatch):
    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    from app.policy.result import ApplicationCeiling

    real = apps.compute_amount

    def lower(session, app):  # as a county whose policy caps the year at 3,000
        out = real(session, app)
        return {**out, "ceiling": ApplicationCeiling(out["ceiling"].basis, Decimal("3000"), "某文件 三(二)")}

    monkeypatch.setattr(apps, "compute_amount", lower)
    with pytest.raises(FieldError, match=re.escape("依申请救助年度限额 3000.00 元（某文件 三(二)）")):
        go(people, "shenpi", app_id, "county_approval", "approve", amount="3000.01",
           amount_reason="经县医疗救助工作领导小组会议研究")


def test_who_recorded_the_applicants_bills_may_not_approve(world):
    people, app_id = world
    conn = people["admin"].conn
    recorder = conn.execute("SELECT DISTINCT user_id FROM audit_log WHERE entity = 'visits'").fetchone()[0]
    taken = [s for s in apps.steps(people["admin"], app_id) if s["state"] == duties.BILLS]
    assert [s["user_id"] for s in taken] == [recorder]
    approver = next(p for p in people.values() if p.user.role == "县级审批")
    d = approver.may("approve", {"state": "county_approval", "region_code": VILLAGE},
                     steps=[{"state": duties.BILLS, "action": "record_bill", "user_id": approver.user.id}])
    assert (d.allowed, d.field) == (False, "user") and "录入或更正过申请人本年度的就诊账单" in d.reason
    assert approver.may("approve", {"state": "county_approval", "region_code": VILLAGE}, steps=taken).allowed


def test_same_user_may_not_act_on_two_steps(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    go(people, "xiangshen", app_id, "township_review", "pass")
    go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 20))
    go(people, "yibao", app_id, "county_approval", "medical_opinion")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion")
    go(people, "shenpi", app_id, "county_approval", "approve")
    with pytest.raises(FieldError, match="同一人不能办理两个环节") as info:
        go(people, "xiang", app_id, "approved", "disburse")  # who ended the 公示 may not also pay out
    assert info.value.field == "user" and "公示" in info.value.reason and "乡镇经办" in info.value.reason
    refused = people["admin"].conn.execute("SELECT count(*) FROM audit_log WHERE action = '拒绝操作'").fetchone()[0]
    assert refused == 1
    assert go(people, "xiang2", app_id, "approved", "disburse")["state"] == "disbursed"


def test_single_village_caseworker_records_the_request_and_holds_the_village_review(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")  # recorded on the household's behalf: not cun1's decision
    a = go(people, "cun1", app_id, "village_review", "pass", **MEETING)
    assert a["state"] == "township_review"


def test_a_changed_role_does_not_give_a_second_step(world):
    people, app_id = world
    to_county(people, app_id)
    # The county's medical reviewer is made the approver: the same person would give an opinion and approve.
    moved = users.update_user(people["admin"], "yibao", "yibao", "县级审批", COUNTY)
    go(people, "yibao", app_id, "county_approval", "medical_opinion")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion")
    with pytest.raises(FieldError, match="您已办理过本申请的“医保审核费用”环节"):
        apps.act(Session(people["admin"].store, moved), app_id, "county_approval", Decision("approve", "批准"),
                 today=TODAY)


def test_notice_cannot_end_early_and_village_meeting_is_checked(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    with pytest.raises(FieldError, match="超过到会人数"):
        go(people, "cun2", app_id, "village_review", "pass", meeting_date="2025-06-02", attendees=5, votes_for=4,
           votes_against=2)
    go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    go(people, "xiangshen", app_id, "township_review", "pass")
    with pytest.raises(FieldError, match="期满后"):
        go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 5))
    listed = apps.notice_list(people["xiang"], today=date(2025, 6, 5))
    full = valid_id("34022319700101001")
    assert listed[0]["id_number"] == full[:4] + "*" * 10 + full[-4:]
    assert listed[0]["name"] == "钱七" and listed[0]["village"].endswith("茶丰村委会")
    assert listed[0]["amount"] == Decimal("2500.00")
    assert listed[0]["notice_end"] == "2025-06-08"  # 7 days, the app's default: 06-02 to 06-08
    with pytest.raises(FieldError, match="含当日"):
        go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 8))
    a = apps.application(people["xiang"], app_id, today=date(2025, 6, 9))
    assert not a["overdue"] and a["due"] == add_workdays(date(2025, 6, 8), rules.NOTICE_CLOSE_WORKDAYS)
    assert go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 9))["state"] == \
        "county_approval"


def test_two_sessions_on_the_same_step_exactly_one_succeeds(world):
    people, app_id = world
    other = Session(open_store(people["admin"].store.path, daily_backup=False), people["cun1"].user)
    go(people, "cun1", app_id, "draft", "submit")
    seen = apps.application_row(people["cun2"], app_id)  # both look at the case …
    apps.act(people["cun2"], app_id, "village_review", Decision("pass", "同意", **MEETING), today=TODAY)
    with pytest.raises(FieldError, match="请刷新"):  # … the second acts on what it saw, too late
        apps.act(Session(other.store, people["cun2"].user), app_id, seen["state"], Decision("pass", "同意", **MEETING),
                 today=TODAY)
    assert len(apps.timeline(people["admin"], app_id)) == 2


ACTIONS = sorted(set(rules.ACTION_NAMES))
STATES = [s for s in rules.STATE_NAMES]


def _reach(people, app_id, state):
    """Walk a fresh case to `state` with the right users."""
    path = {"draft": [], "village_review": [("cun1", "draft", "submit", {})],
            "township_review": [("cun1", "draft", "submit", {}), ("cun2", "village_review", "pass", MEETING)]}
    path["public_notice"] = path["township_review"] + [("xiangshen", "township_review", "pass", {})]
    path["county_approval"] = path["public_notice"] + [("xiang", "public_notice", "close_notice",
                                                        {"today": date(2025, 6, 20)})]
    path["approved"] = path["county_approval"] + [("yibao", "county_approval", "medical_opinion", {}),
                                                  ("minzheng", "county_approval", "civil_opinion", {}),
                                                  ("shenpi", "county_approval", "approve", {})]
    path["disbursed"] = path["approved"] + [("xiang2", "approved", "disburse", {})]
    path["rejected"] = path["village_review"] + [("cun2", "village_review", "reject", {})]
    path["withdrawn"] = path["village_review"] + [("xiang", "village_review", "withdraw", {})]
    for who, st, action, kw in path[state]:
        kw = dict(kw)
        go(people, who, app_id, st, action, today=kw.pop("today", TODAY), **kw)


@pytest.mark.parametrize("state", STATES)
def test_every_role_state_and_action(world, state):
    people, app_id = world
    _reach(people, app_id, state)
    whole = apps.application_row(people["admin"], app_id)
    assert whole["state"] == state
    acted = {s["user_id"] for s in apps.timeline(people["admin"], app_id)}
    for who, action in itertools.product(ROLES, ACTIONS):
        session = people[who]
        allowed_role = rules.role_for(state, action)
        # One person, one step: the steps this user took before must all be this one, except that the caseworker
        # who recorded the 户申请 (draft) may hold the 村评议.
        own = {s["state"] for s in apps.timeline(people["admin"], app_id)
               if s["user_id"] == session.user.id and s["action"] != "withdraw"}
        free = {state} | ({"draft"} if state == "village_review" else set())
        expect = (state not in rules.FINAL and allowed_role == session.user.role
                  and (action == "withdraw" or session.user.id not in acted or own <= free))
        problem = apps._check(session, apps.application_row(session, app_id), state,
                              Decision(action, "意见", **(MEETING if action == "pass" and state == "village_review"
                                                          else {})), date(2025, 7, 1))
        if action == "approve" and expect:
            expect = all(p in replay.county_parts(apps.steps(session, app_id)) for p in rules.COUNTY_PARTS)
        assert (problem is None) == expect, (who, state, action, problem)


def test_working_days_follow_the_official_calendar():
    # National Day 2025: Oct 1–8 off, Sept 28 (Sunday) and Oct 11 (Saturday) are 调休 working days.
    assert add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert add_workdays(date(2031, 1, 3), 1) == date(2031, 1, 6)  # beyond the package's data: Monday–Friday …


def test_a_year_the_calendar_does_not_know_keeps_the_holidays_on_fixed_dates():
    """… less the holidays the law fixes by date: 1 January 2027 (a Friday) is not a working day, nor 清明 (a Monday
    in 2027), 1–2 May or 1–3 October on weekdays."""
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert workdays_between(date(2026, 12, 30), date(2027, 1, 4)) == 2  # 12-31 and 01-04
    assert add_workdays(date(2027, 4, 2), 1) == date(2027, 4, 6)      # 04-05 is 清明
    assert add_workdays(date(2030, 9, 30), 1) == date(2030, 10, 4)    # 10-01 to 10-03 are Tuesday to Thursday
    assert add_workdays(date(2031, 4, 30), 1) == date(2031, 5, 5)     # 05-01 and 05-02 are Thursday and Friday


def test_overdue_cases_are_listed(world):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")  # the step starts now; 村评议 has 5 working days
    assert apps.overdue(people["xiang"], today=clock.today()) == []
    later = clock.today() + timedelta(days=30)
    late = apps.overdue(people["xiang"], today=later)
    assert [a["id"] for a in late] == [app_id] and late[0]["state_name"] == "村评议"
    work = apps.worklist(people["cun2"], today=later)
    assert work[0]["overdue"] and work[0]["due"] == add_workdays(clock.today(), 5)


def test_notice_placement_days_and_limits_are_configurable(world, tmp_path):
    people, app_id = world
    with pytest.raises(FieldError):
        apps.configure(people["xiang"], "village_review", 5, {})
    apps.configure(people["admin"], "village_review", 5, {"township_review": 3})
    go(people, "cun1", app_id, "draft", "submit")
    a = go(people, "cun2", app_id, "village_review", "pass", **MEETING)
    assert a["state"] == "public_notice" and a["notice_end"] == "2025-06-06"
    a = go(people, "xiang", app_id, "public_notice", "close_notice", today=date(2025, 6, 7))
    assert a["state"] == "township_review"
    assert apps.due_date(people["admin"], a) == add_workdays(clock.local_date(a["state_since"]), 3)


def test_attachments_are_kept_once_by_content_hash(world, tmp_path):
    people, app_id = world
    scan = tmp_path / "户口簿.jpg"
    scan.write_bytes(b"\xff\xd8 a scanned page")
    first = apps.attach(people["cun1"], app_id, "户口簿", scan)
    apps.attach(people["cun1"], app_id, "户口簿", scan)
    rows = people["admin"].conn.execute("SELECT sha256 FROM attachments").fetchall()
    assert len(rows) == 2 and rows[0][0] == rows[1][0]
    stored = people["admin"].store.path.parent / "attachments" / rows[0][0][:2] / rows[0][0]
    assert stored.read_bytes() == scan.read_bytes() and first
    with pytest.raises(FieldError, match="附件类别"):
        apps.attach(people["cun1"], app_id, "照片", scan)
    huge = tmp_path / "不是扫描件.jpg"
    with huge.open("wb") as f:
        f.truncate(apps.MAX_ATTACHMENT + 1)  # sparse: no disk used
    with pytest.raises(FieldError, match="附件超过 50 MB 的上限"):
        apps.attach(people["cun1"], app_id, "户口簿", huge)
    assert people["admin"].conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 2


def test_county_roles_record_bills_only_if_the_county_decides_and_never_approve_their_own(world):
    people, app_id = world
    pid = people["admin"].conn.execute("SELECT person_id FROM applications WHERE id = ?", (app_id,)).fetchone()[0]
    bill = bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "3000", "2000", "P-2", "县级", "1200", "0")
    with pytest.raises(FieldError, match="县级审批不能录入就诊账单"):
        bills.record_bill(people["shenpi"], pid, bill, today=TODAY)
    with pytest.raises(FieldError, match="只有管理员可以修改"):
        county.set_county_records_bills(people["shenpi"], True)
    county.set_county_records_bills(people["admin"], True)
    entry = people["admin"].conn.execute("SELECT username, action FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert tuple(entry) == ("admin", "权限表：允许县级角色录入账单")
    bills.record_bill(people["shenpi"], pid, bill, today=TODAY)
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    with pytest.raises(FieldError, match="录入或更正过申请人本年度的就诊账单") as info:
        go(people, "shenpi", app_id, "county_approval", "approve")
    assert info.value.field == "user"
    county.set_county_records_bills(people["admin"], False)
    with pytest.raises(FieldError, match="县级审批不能录入就诊账单"):
        bills.record_bill(people["shenpi"], pid, bill, today=TODAY)


def test_a_case_keeps_the_notice_order_it_started_under_when_the_setting_changes(world):
    """公示安排 changed while cases are open: a case waiting at 乡镇审核 still gets its 公示, a case in 公示 still goes
    to 乡镇审核 (each took its next state from the day's setting and skipped one)."""
    people, app_id = world
    to_town = go(people, "cun1", app_id, "draft", "submit")  # submitted under the default: 公示 after 乡镇审核
    apps.configure(people["admin"], "village_review", 7, {})
    assert go(people, "cun2", app_id, "village_review", "pass", **MEETING)["state"] == "township_review"
    assert go(people, "xiangshen", app_id, "township_review", "pass")["state"] == "public_notice"
    assert to_town and apps.timeline(people["admin"], app_id)[0]["details"]["notice_after"] == "township_review"

    pid = people["admin"].conn.execute("SELECT person_id FROM applications WHERE id = ?", (app_id,)).fetchone()[0]
    other = _second_case(people, pid)
    go(people, "cun1", other, "draft", "submit")  # under 公示 after 村评议
    assert go(people, "cun2", other, "village_review", "pass", **MEETING)["state"] == "public_notice"
    apps.configure(people["admin"], "township_review", 7, {})
    a = go(people, "xiang", other, "public_notice", "close_notice", today=date(2025, 6, 20))
    assert a["state"] == "township_review"
    assert go(people, "xiangshen", other, "township_review", "pass")["state"] == "county_approval"


def _second_case(people, pid):
    """Another open case in the same village (the year before), for a second path."""
    bills.record_bill(people["xiang"], pid, bills.BillInput("南陵县医院", "2024-03-01", "2024-03-20", "住院", "100000",
                                                    "90000", "P-9", "县级", "50000", "15000"), today=TODAY)
    return apps.create_application(people["cun1"], pid, 2024, "18000", "9600", True)


def test_approval_is_refused_when_no_notice_followed_the_step_it_belongs_to(world):
    """A case that reached 县级审批 without a 公示 after its last 乡镇审核 (as the day's setting once let one) is not
    approved, however it got there."""
    from app.store import records
    from app.store.db import transaction

    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    a = go(people, "shenpi", app_id, "county_approval", "return", opinion="请乡镇补充收入证明")
    assert a["state"] == "township_review"
    conn = people["admin"].conn
    seq = len(apps.timeline(people["admin"], app_id)) + 1
    with transaction(conn):  # 乡镇审核 passed it again straight to 县级审批, as under the old rule
        user = people["xiangshen"].user
        records.insert(conn, user, "application_steps", {
            "application_id": app_id, "seq": seq, "state": "township_review", "action": "pass",
            "to_state": "county_approval", "user_id": user.id, "username": user.username,
            "display_name": user.display_name, "role": user.role, "at": clock.now(), "opinion": "同意",
            "details": "{}"}, "依申请救助：同意，报下一环节")
        records.update(conn, user, "applications", app_id, {"state": "county_approval", "updated_at": clock.now()},
                       "依申请救助：同意，报下一环节")
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    with pytest.raises(FieldError, match="乡镇审核之后没有经过公示") as info:
        go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    assert info.value.field == "state"


@pytest.mark.parametrize("meeting, field, message", [
    (dict(meeting_date="2025-06-01", attendees=11, votes_for=1, votes_against=10), "votes_for", "未超过到会人数 11 的半数"),
    (dict(meeting_date="2025-06-01", attendees=10, votes_for=5, votes_against=0), "votes_for", "评议没有通过"),
    (dict(meeting_date="2001-01-01", attendees=1, votes_for=1, votes_against=0), "meeting_date", "早于申请年度 2025 年"),
])
def test_a_village_pass_needs_a_meeting_of_the_year_that_agreed(world, meeting, field, message):
    people, app_id = world
    go(people, "cun1", app_id, "draft", "submit")
    with pytest.raises(FieldError, match=message) as info:
        go(people, "cun2", app_id, "village_review", "pass", **meeting)
    assert info.value.field == field
    assert apps.application_row(people["admin"], app_id)["state"] == "village_review"


def test_disbursement_is_refused_when_the_bills_no_longer_support_the_approved_amount(world):
    """A bill voided after 批准 (a forged invoice) leaves the approval standing; 发放 is refused with the reason."""
    from app.services import bill_changes

    people, app_id = world
    to_county(people, app_id)
    go(people, "yibao", app_id, "county_approval", "medical_opinion", opinion="费用属实")
    go(people, "minzheng", app_id, "county_approval", "civil_opinion", opinion="符合")
    go(people, "shenpi", app_id, "county_approval", "approve", opinion="批准")
    conn = people["admin"].conn
    visit = conn.execute("SELECT v.id FROM visits v JOIN applications a ON a.person_id = v.person_id "
                         "WHERE a.id = ?", (app_id,)).fetchone()[0]
    bill_changes.void_bill(people["xiang"], visit, "发票系伪造，医院核实无此住院记录")
    with pytest.raises(FieldError, match="就诊账单有变动") as info:
        go(people, "xiang2", app_id, "approved", "disburse")
    assert info.value.field == "approved_amount" and "批准金额 2500.00 元" in info.value.reason
    assert apps.application_row(people["admin"], app_id)["state"] == "approved"
