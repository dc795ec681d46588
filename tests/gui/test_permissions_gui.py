"""The screens offer what the permission model allows: bill entry only to the caseworkers who record bills, 批准 only
to the county approver, and a step one person may not take twice greyed with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytest.importorskip("PySide6")

from app.domain.idnumber import check_digit  # noqa: E402
from app.gui.app import _reader  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.ops import Op  # noqa: E402
from app.gui.workflow_view import ApplicationDialog  # noqa: E402
from app.services import applications as apps  # noqa: E402
from app.services import bills, county, registry, users  # noqa: E402
from app.services.demo import DEMO_LOCAL  # noqa: E402
from app.services.session import SYSTEM, Session  # noqa: E402
from app.store import clock  # noqa: E402
from app.store.store import open_store  # noqa: E402

VILLAGE, TOWN, COUNTY = "340223100201", "340223100", "340223"
STAFF = {"cun1": ("村级经办", VILLAGE), "cun2": ("村级经办", VILLAGE), "xiangshen": ("乡镇审核", TOWN),
         "xiang": ("乡镇经办", TOWN), "xiang2": ("乡镇经办", TOWN), "yibao": ("县级医保审核", COUNTY),
         "minzheng": ("县级民政审核", COUNTY), "shenpi": ("县级审批", COUNTY)}
# One user per role, and whether the role enters bills (the oracle: the caseworkers only).
ONE_PER_ROLE = {"cun1": True, "xiang": True, "xiangshen": False, "yibao": False, "minzheng": False, "shenpi": False,
                "admin": False}


def idle(qtbot) -> None:
    qtbot.waitUntil(lambda: not Op.running, timeout=20_000)


def _walk(sessions, app_id: str, upto: str) -> None:
    """Take a case from 草稿 through the county's two opinions, and on to 已批准 if `upto` says so."""
    later = clock.today() + timedelta(days=30)
    meeting = dict(meeting_date=clock.today().isoformat(), attendees=9, votes_for=8, votes_against=1)
    steps = [("cun1", "draft", "submit", {}), ("cun2", "village_review", "pass", meeting),
             ("xiangshen", "township_review", "pass", {}), ("xiang", "public_notice", "close_notice", {}),
             ("yibao", "county_approval", "medical_opinion", {}), ("minzheng", "county_approval", "civil_opinion", {})]
    if upto == "approved":
        steps.append(("shenpi", "county_approval", "approve", {}))
    for who, state, action, extra in steps:
        apps.act(sessions[who], app_id, state, apps.Decision(action, "同意", **extra),
                 today=later if action == "close_notice" else clock.today())


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A county with one user per role and two cases: one awaiting 批准, one approved and awaiting 发放."""
    store = open_store(tmp_path_factory.mktemp("perms") / "p.sqlite3", daily_backup=False)
    admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", COUNTY, "correct-horse")
    s_admin = Session(store, admin)
    county.configure_county(s_admin, COUNTY, "南陵县", "wuhu-2022", DEMO_LOCAL)
    sessions = {"admin": s_admin}
    for name, (role, scope) in STAFF.items():
        sessions[name] = Session(store, users.create_user(s_admin, name, name, role, scope, "correct-horse"))
    cases = {}
    for n, upto in enumerate(("county_approval", "approved")):
        body = f"3402231970010100{n + 1}"
        _, pid = registry.register_household(s_admin, VILLAGE, f"籍山镇茶丰村 {n + 1} 号",
                                             registry.PersonInput(f"钱{n + 1}", body + check_digit(body)))
        bills.record_bill(sessions["xiang"], pid, bills.BillInput(
            "安徽省立医院", "2025-02-01", "2025-02-20", "住院", "100000", "90000", f"P-{n}", "省级", "50000", "15000"))
        cases[upto] = apps.create_application(sessions["cun1"], pid, 2025, "18000", "9600", True)
        _walk(sessions, cases[upto], upto)
    yield store, sessions, cases
    store.close()


def _window(qtbot, store, user) -> MainWindow:
    w = MainWindow(Session(store, user), Session(_reader(store), user))
    qtbot.addWidget(w)
    w.show()
    return w


def _actions(qtbot, w, app_id: str) -> dict[str, object]:
    page = ApplicationDialog(w, app_id)
    qtbot.addWidget(page)
    idle(qtbot)
    widgets = [page.buttons.itemAt(i).widget() for i in range(page.buttons.count())]
    return {b.objectName().removeprefix("action-"): b for b in widgets if b and b.objectName().startswith("action-")}


@pytest.mark.parametrize("name", list(ONE_PER_ROLE))
def test_bill_entry_and_approval_are_offered_per_role(qtbot, office, name):
    store, sessions, cases = office
    user = sessions[name].user
    w = _window(qtbot, store, user)
    records = ONE_PER_ROLE[name]
    assert w.household.buttons["为选中成员录入账单"].isHidden() == (not records), user.role
    assert w.bill.save_button.isHidden() == (not records)
    bill_page = [n for n, _ in w.pages].index("账单录入")
    assert w.nav.item(bill_page).isHidden() == (not records)
    offered = _actions(qtbot, w, cases["county_approval"])
    assert ("approve" in offered) == (user.role == "县级审批"), (user.role, list(offered))
    if user.role == "县级审批":
        assert offered["approve"].isEnabled() and {"return", "reject"} <= set(offered)
    if user.role == "乡镇经办":
        assert set(offered) == {"withdraw"}  # the household's wish, carried out by the township
    w.close()


def test_a_step_one_person_may_not_take_twice_is_greyed_with_the_reason(qtbot, office):
    store, sessions, cases = office
    closer = _window(qtbot, store, sessions["xiang"].user)  # ended this case's 公示
    button = _actions(qtbot, closer, cases["approved"])["disburse"]
    assert not button.isEnabled() and "您已办理过本申请的“公示”环节" in button.toolTip()
    closer.close()
    other = _window(qtbot, store, sessions["xiang2"].user)
    assert _actions(qtbot, other, cases["approved"])["disburse"].isEnabled()
    other.close()
