"""The permission model: every role × every task against a table written out here, jurisdiction, workflow steps,
the segregation-of-duties table, and a county role refused a bill by the service with a Chinese reason."""

from __future__ import annotations

import itertools

import pytest

from app.services import bills, county, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session, User
from app.domain.errors import FieldError
from app.store.store import open_store
from app.workflow import duties, roles, rules
from app.workflow.permissions import decide

VILLAGE, TOWN, COUNTY = "340223100201", "340223100", "340223"
SCOPE = {12: VILLAGE, 9: TOWN, 6: COUNTY, 0: ""}

# Who may do what, written out by hand (the oracle the data in app/workflow is checked against). Columns:
# 村级经办, 乡镇经办, 乡镇审核, 县级医保审核, 县级民政审核, 县级审批, 管理员, 系统.
HEADER = ("村级经办", "乡镇经办", "乡镇审核", "县级医保审核", "县级民政审核", "县级审批", "管理员", "系统")
EXPECTED = {
    "register":           "YYYYYYYY",
    "edit_categories":    "YY..Y.YY",
    "record_bill":        "YY.....Y",
    "correct_bill":       "YY.....Y",
    "import_lists":       ".Y..Y.YY",
    "create_application": "YY......",
    "attach":             "YYYYYYYY",
    "manage_users":       "......YY",
    "change_settings":    "......YY",
    "make_demo":          "......YY",
    "exchange":           "YYYYYYYY",
    "resettle":           "YYYYYYYY",
    "print":              "YYYYYYYY",
    "disburse_batch":     ".Y.....Y",
    "confirm_disbursement": "..Y..Y.Y",
    "cancel_disbursement": ".YY..Y.Y",
    "simulate":           "...YYYYY",
    "manage_site_keys":   "......YY",
}
# Each workflow step ("state.action") and the one role that takes it.
WORKFLOW = {
    "draft.submit": "村级经办", "draft.withdraw": "村级经办",
    "village_review.pass": "村级经办", "village_review.return": "村级经办", "village_review.reject": "村级经办",
    "village_review.withdraw": "乡镇经办",
    "township_review.pass": "乡镇审核", "township_review.return": "乡镇审核", "township_review.reject": "乡镇审核",
    "township_review.withdraw": "乡镇经办",
    "public_notice.close_notice": "乡镇经办", "public_notice.return": "乡镇经办", "public_notice.withdraw": "乡镇经办",
    "county_approval.medical_opinion": "县级医保审核", "county_approval.civil_opinion": "县级民政审核",
    "county_approval.approve": "县级审批", "county_approval.return": "县级审批", "county_approval.reject": "县级审批",
    "county_approval.withdraw": "乡镇经办",
    "approved.disburse": "乡镇经办",
}


def person(role: str, uid: str = "u1") -> User:
    return User(None if role == roles.SYSTEM_KEY else uid, uid, uid, role, SCOPE[roles.ROLES[role].scope])


def test_the_table_covers_every_role_and_task():
    assert set(HEADER) == set(roles.ROLES) and set(EXPECTED) == set(roles.TASKS)
    assert roles.ASSIGNABLE == ("村级经办", "乡镇经办", "乡镇审核", "县级医保审核", "县级民政审核", "县级审批", "管理员")
    assert {k: r.scope for k, r in roles.ROLES.items()} == {
        "村级经办": 12, "乡镇经办": 9, "乡镇审核": 9, "县级医保审核": 6, "县级民政审核": 6, "县级审批": 6, "管理员": 6, "系统": 0}


@pytest.mark.parametrize("role, task", list(itertools.product(HEADER, EXPECTED)))
def test_role_by_task(role, task):
    expected = EXPECTED[task][HEADER.index(role)] == "Y"
    d = decide(person(role), task, {"region_code": VILLAGE})
    assert d.allowed == expected, (role, task, d.reason)
    if not expected:
        assert d.field == "role" and role in d.reason and roles.TASKS[task] in d.reason
        assert any(who in d.reason for who in roles.holders(task)), d.reason  # says who may


@pytest.mark.parametrize("role, step", list(itertools.product(HEADER, WORKFLOW)))
def test_role_by_workflow_step(role, step):
    state, action = step.split(".")
    d = decide(person(role), action, {"state": state, "region_code": VILLAGE}, steps=[])
    assert d.allowed == (WORKFLOW[step] == role), (role, step, d.reason)
    if not d.allowed:
        assert d.field == "role" and WORKFLOW[step] in d.reason


def test_no_step_outside_the_state_machine_and_none_after_the_end():
    clerk = person("乡镇经办")
    skipped = decide(clerk, "disburse", {"state": "public_notice", "region_code": VILLAGE})
    assert (skipped.allowed, skipped.field) == (False, "action") and "不能跳过环节" in skipped.reason
    ended = decide(clerk, "disburse", {"state": "disbursed", "region_code": VILLAGE})
    assert (ended.allowed, ended.field) == (False, "state") and "办理已结束" in ended.reason


def test_jurisdiction_of_the_record():
    village_clerk = person("村级经办")
    elsewhere = {"region_code": "340223102201", "state": "draft"}
    assert not decide(village_clerk, "record_bill", elsewhere).allowed
    assert decide(village_clerk, "record_bill", elsewhere).field == "jurisdiction"
    refused = decide(village_clerk, "submit", elsewhere, steps=[])
    assert refused.field == "jurisdiction" and "管辖范围" in refused.reason
    assert decide(person("县级审批"), "approve", {"state": "county_approval", "region_code": "340223102201"},
                  steps=[]).allowed
    # A user whose jurisdiction is shorter than the role's (an account edited by hand) is refused everything.
    wide = User("x", "x", "x", "村级经办", TOWN)
    assert decide(wide, "print").field == "jurisdiction"


def test_an_unknown_role_is_refused_in_chinese():
    d = decide(User("x", "x", "x", "超级用户", COUNTY), "print")
    assert not d.allowed and "不是本系统的角色" in d.reason


def test_duties_table_one_person_one_step_and_the_household_request_is_no_step():
    for a, b in itertools.combinations(duties.STEPS, 2):
        assert frozenset({a, b}) in duties.MAY_NOT_BOTH, (a, b)
    assert "submit" in duties.NOT_A_DECISION
    cun = person("村级经办")
    mine = [{"state": "draft", "action": "submit", "user_id": "u1"}]
    assert decide(cun, "pass", {"state": "village_review", "region_code": VILLAGE}, steps=mine).allowed
    xiang = person("乡镇经办")
    closed = [{"state": "public_notice", "action": "close_notice", "user_id": "u1"}]
    d = decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE}, steps=closed)
    assert (d.allowed, d.field) == (False, "user") and "您已办理过本申请的“公示”环节" in d.reason
    # Another person's step, or a 撤回, does not count.
    assert decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE},
                  steps=[{**closed[0], "user_id": "u2"}]).allowed
    withdrew = [{"state": "village_review", "action": "withdraw", "user_id": "u1"}]
    assert decide(xiang, "close_notice", {"state": "public_notice", "region_code": VILLAGE}, steps=withdrew).allowed


def test_an_office_with_one_caseworker_may_take_two_local_steps_never_a_county_one():
    xiang = person("乡镇经办")
    closed = [{"state": "public_notice", "action": "close_notice", "user_id": "u1"}]
    d = decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE}, steps=closed, one_person=True)
    assert d.allowed and "同一人办理两个环节" in d.waiver
    assert not decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE}, steps=closed).waiver
    # Only where the office marked is the step's or covers it: a village's single caseworker waives no township step.
    assert decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE}, steps=closed, one_person=9).allowed
    d = decide(xiang, "disburse", {"state": "approved", "region_code": VILLAGE}, steps=closed, one_person=12)
    assert (d.allowed, d.field) == (False, "user") and "同一人不能办理两个环节" in d.reason
    county_step = [{"state": "county_approval", "action": "medical_opinion", "user_id": "u1"}]
    approver = person("县级审批")
    assert not decide(approver, "approve", {"state": "county_approval", "region_code": VILLAGE},
                      steps=county_step, one_person=True).allowed


def test_bill_recorders_come_from_the_duties_table_and_no_county_role_is_one():
    assert duties.BILL_RECORDERS == {"村级经办", "乡镇经办", "系统"}
    for key, role in roles.ROLES.items():
        assert ("record_bill" in role.actions) == (key in duties.BILL_RECORDERS)
        if role.scope == 6:
            assert not duties.BILL_ACTIONS & role.actions, key
    # Nobody who approves may record a bill.
    approvers = {WORKFLOW[s] for s in WORKFLOW if s.endswith((".approve", "_opinion"))}
    assert not approvers & duties.BILL_RECORDERS


def test_the_command_line_keeps_what_it_does_today_but_takes_no_decision():
    assert SYSTEM.role == roles.SYSTEM_KEY and not roles.ROLES[SYSTEM.role].assignable
    for task in ("record_bill", "manage_users", "change_settings", "make_demo", "import_lists", "register"):
        assert decide(SYSTEM, task, {"region_code": VILLAGE}).allowed, task
    for action in rules.ACTION_NAMES:
        assert not decide(SYSTEM, action, {"state": "county_approval", "region_code": VILLAGE}).allowed
    assert not decide(SYSTEM, "create_application").allowed


@pytest.fixture
def office(tmp_path):
    store = open_store(tmp_path / "p.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", COUNTY, "correct-horse")
    s_admin = Session(store, admin)
    county.configure_county(s_admin, COUNTY, "南陵县", "wuhu-2022", DEMO_LOCAL)
    _, pid = registry.register_household(s_admin, VILLAGE, "籍山镇茶丰村 5 号",
                                         registry.PersonInput("孙八", "11010519491231002X"))
    yield s_admin, pid
    store.close()


BILL = bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "8000", "7000", "K-1", "县级", "4000", "0")


@pytest.mark.parametrize("role", ["县级医保审核", "县级民政审核", "县级审批", "管理员"])
def test_a_county_role_is_refused_recording_a_bill(office, role):
    s_admin, pid = office
    user = s_admin.user if role == "管理员" else users.create_user(s_admin, "county", "县里", role, COUNTY, "correct-horse")
    before = s_admin.conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    with pytest.raises(FieldError) as info:
        bills.record_bill(Session(s_admin.store, user), pid, BILL)
    assert info.value.field == "role"
    assert f"{role}不能录入就诊账单" in info.value.reason and "职责分离" in info.value.reason
    assert "村级经办、乡镇经办" in info.value.reason  # and who may
    assert s_admin.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == before


def test_the_township_caseworker_records_the_bill(office):
    s_admin, pid = office
    clerk = users.create_user(s_admin, "xiang", "乡镇经办", "乡镇经办", TOWN, "correct-horse")
    assert bills.record_bill(Session(s_admin.store, clerk), pid, BILL)["assistance_paid"]


def test_only_the_administrator_changes_the_county(office):
    s_admin, _ = office
    clerk = users.create_user(s_admin, "xiang", "乡镇经办", "乡镇经办", TOWN, "correct-horse")
    with pytest.raises(FieldError, match="只有管理员可以修改本县政策") as info:
        county.configure_county(Session(s_admin.store, clerk), COUNTY, "南陵县", "wuhu-2022", DEMO_LOCAL)
    assert info.value.field == "role"
