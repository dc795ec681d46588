"""依申请救助 cases: create, act on each step with permission checks, compute the amount, deadlines, 公示名单.

Every decision is one appended step (never rewritten) and one audit entry, in one transaction that first
re-reads the case: of two people acting on the same step at once, exactly one succeeds. A refused action
is audited too, then reported in Chinese.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from app.domain.money import ZERO, fmt
from app.services import one_person_offices, validate
from app.services.county import engine
from app.services.registry import person as load_person
from app.services.session import Session
from app.store import audit, clock, reads, records
from app.store.clock import now
from app.store.db import transaction
from app.domain.errors import FieldError
from app.workflow import duties, paths, replay, rules
from app.workflow.deadlines import add_workdays
from app.workflow.roles import ROLES

# A scanned page is well under 5 MB; a file of this size is not a scan, and the data folder is on a laptop's disk.
MAX_ATTACHMENT = 50 * 1024 * 1024
ATTACHMENT_KINDS = ("户口簿", "身份证", "诊断证明", "费用票据", "收入证明")
# Shown where an amount would be until 民政 has recorded the 财产核查 at its county step.
PENDING_CHECK = "待民政核查"
DEFAULTS = {"notice_after": "township_review", "notice_days": rules.NOTICE_DAYS, "contact_phone": "",
            "limits": {s.state: s.limit_days for s in rules.STEPS.values()}}


def settings(session: Session) -> dict:
    """The county's workflow settings, over the app's documented defaults."""
    stored = session.store.setting("workflow", {}) or {}
    return {**DEFAULTS, **stored, "limits": {**DEFAULTS["limits"], **stored.get("limits", {})}}


def configure(session: Session, notice_after: str, notice_days: int, limits: dict[str, int],
              contact_phone: str | None = None) -> None:
    """Set where 公示 falls, how long it runs, the phone the 公示名单 gives for objections and each step's limit in
    working days (admin only, audited)."""
    session.require("change_settings")
    phone = settings(session)["contact_phone"] if contact_phone is None else contact_phone.strip()
    if len(phone) > 40 or not all(c.isdigit() or c in "-－ ()（）转," for c in phone):
        raise FieldError("contact_phone", "请填写电话号码，例如 0553-1234567（只用数字、短横线和括号）")
    if notice_after not in ("village_review", "township_review"):
        raise FieldError("notice_after", "公示可安排在村评议之后或乡镇审核之后")
    if not isinstance(notice_days, int) or not 1 <= notice_days <= 60:
        raise FieldError("notice_days", "公示天数应为 1 至 60 天")
    for state, days in limits.items():
        if state not in rules.STEPS or not isinstance(days, int) or not 1 <= days <= 90:
            raise FieldError(f"limits.{state}", "办理时限应为 1 至 90 个工作日",
                             f"“{rules.STATE_NAMES[state]}”办理时限" if state in rules.STATE_NAMES else None)
    before = settings(session)
    after = {"notice_after": notice_after, "notice_days": notice_days, "contact_phone": phone,
             "limits": {**before["limits"], **limits}}
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, "workflow", after, "修改依申请救助办理设置")


def application_row(session: Session, app_id: str) -> dict:
    """One application's row, or a message that it is gone."""
    row = session.conn.execute("SELECT * FROM applications WHERE id = ?", (app_id,)).fetchone()
    if row is None:
        raise FieldError("application_id", "找不到这份申请，请刷新后重试")
    return dict(row)


def create_application(session: Session, person_id: str, year: int, annual_income, low_income_standard,
                       passes_asset_check: bool | None) -> str:
    """A draft application for a patient's year, with the household's income as declared."""
    p = load_person(session, person_id)
    session.require("create_application", p)
    income = validate.money(annual_income, "annual_income")
    standard = validate.money(low_income_standard, "low_income_standard")
    if not isinstance(year, int) or not 2000 <= year <= clock.today().year:
        raise FieldError("year", "申请年度不合理")
    open_case = session.conn.execute("SELECT id FROM applications WHERE person_id = ? AND year = ? AND state NOT IN "
                                     "('rejected', 'withdrawn')", (person_id, year)).fetchone()
    if open_case:
        raise FieldError("person_id", f"{p['name']} 的 {year} 年依申请救助已在办理中，不能重复申请")
    row = {"person_id": person_id, "household_id": p["household_id"], "region_code": p["region_code"],
           "year": year, "state": "draft", "state_since": now(), "annual_income": fmt(income),
           "low_income_standard": fmt(standard),
           "passes_asset_check": None if passes_asset_check is None else int(passes_asset_check),
           "computed_amount": None, "approved_amount": None, "amount_reason": None, "notice_start": None,
           "notice_end": None, "created_by": session.user.username}
    with transaction(session.conn):
        return records.insert(session.conn, session.user, "applications", row, "登记依申请救助")["id"]


def compute_amount(session: Session, app_id: str) -> dict:
    """The engine's 依申请救助 for the applicant's year, with the explanation the county approver reads.

    Until 民政 records the 财产核查 the amount is None and `pending` says so: the case moves on meanwhile."""
    a = application_row(session, app_id)
    if a["passes_asset_check"] is None:
        return {"amount": None, "pending": PENDING_CHECK, "steps": [], "warnings": []}
    if not reads.year_visit_rows(session.conn, a["person_id"], a["year"]):  # before the policy is asked for
        raise FieldError("visits", f"申请人 {a['year']} 年没有登记就诊账单，无法计算依申请救助")
    eng = engine(session)
    case = reads.application_case(session.conn, a, eng.policy.id, bool(a["passes_asset_check"]))
    result = eng.settle(case)  # a CaseError is an FieldError naming the field
    return {"amount": result.application_assistance_paid, "pending": None,
            "steps": [s.to_json() for s in result.annual_steps], "warnings": [w.to_json() for w in result.warnings],
            "ceiling": result.application_ceiling, "passes": result.application_passes}


def amount_or_why(session: Session, app_id: str) -> tuple[Decimal | None, str]:
    """The computed amount, or None and what a list or a print shows instead (待民政核查, or what is missing):
    one case's missing data must never stop another's row."""
    try:
        computed = compute_amount(session, app_id)
    except FieldError as exc:
        return None, f"无法测算（{exc}）"
    return computed["amount"], computed["pending"] or ""


@dataclass
class Decision:
    """What a user decides at a step: the action, the opinion, and what that step needs besides."""

    action: str
    opinion: str = ""
    meeting_date: str | date | None = None
    attendees: int | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    amount: object = None
    amount_reason: str = ""
    asset_check: bool | None = None     # 民政认定收入财产: 符合 (True) or 不符合 (False)
    confirm_zero: bool = False          # 批准: the approver saw why the amount is 0.00 元 and approves it so


class ZeroAmount(FieldError):
    """An approval at 0.00 元 of a household that meets the conditions: allowed once the approver confirms, having
    read why (the GUI asks; a script sets Decision.confirm_zero)."""


def _refuse(session: Session, a: dict, action: str, field: str, reason: str) -> FieldError:
    with transaction(session.conn):
        audit.append(session.conn, session.user, "拒绝操作", "applications", a["id"], None,
                     {"action": action, "state": a["state"], "reason": reason})
    return FieldError(field, reason)


def act(session: Session, app_id: str, expected_state: str, decision: Decision, today: date | None = None) -> dict:
    """Take one decision on an application in the state the user saw; returns the updated application."""
    today = today or clock.today()
    conn = session.conn
    a = application_row(session, app_id)
    problem = _check(session, a, expected_state, decision, today)
    if problem:
        raise _refuse(session, a, decision.action, *problem)
    details = _details(decision)
    taken = steps(session, app_id)
    waiver = session.may(decision.action, a, taken).waiver
    if waiver:
        details["waiver"] = waiver  # printed on the 审批表 beside this step
    with transaction(conn):
        current = dict(conn.execute("SELECT * FROM applications WHERE id = ?", (app_id,)).fetchone())
        if current["state"] != expected_state or current["updated_at"] != a["updated_at"]:
            raise FieldError("state", f"这份申请刚刚已由他人处理（现为“{rules.STATE_NAMES[current['state']]}”），"
                                      f"请刷新后再看")
        # The case's own order (paths): today's 公示安排 only for a case that has not yet shown one.
        place = notice_place(session, taken)
        if decision.action == "submit":
            details["notice_after"] = place  # the order this case starts under, for every site that holds it
        to_state = rules.next_state(a["state"], decision.action, rules.sequence(place))
        stamp = now()
        changes: dict = {"state": to_state, "updated_at": stamp}
        if to_state != a["state"]:
            changes["state_since"] = stamp
        if to_state == "public_notice":
            changes["notice_start"] = today.isoformat()
            # The last day of the notice: 7 days from 12-02 are 12-02 to 12-08.
            changes["notice_end"] = (today + timedelta(days=int(settings(session)["notice_days"]) - 1)).isoformat()
            # Carried in the step so that a site receiving it can bring its copy of the application up to date.
            details.update(notice_start=changes["notice_start"], notice_end=changes["notice_end"])
        if decision.action == "civil_opinion" and decision.asset_check is not None:
            changes["passes_asset_check"] = int(decision.asset_check)
            details["asset_check"] = bool(decision.asset_check)
        if decision.action == "approve":
            computed = compute_amount(session, app_id)["amount"]
            amount = computed if decision.amount in (None, "") else validate.money(decision.amount, "amount", "批准金额")
            changes.update(computed_amount=fmt(computed), approved_amount=fmt(amount),
                           amount_reason=decision.amount_reason.strip() or None)
            details.update(computed_amount=fmt(computed), approved_amount=fmt(amount),
                           amount_reason=changes["amount_reason"])
            if amount == 0:
                details["zero_confirmed"] = True  # the approver was told why it is 0.00 元 and approved it so
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM application_steps WHERE application_id = ?",
                           (app_id,)).fetchone()[0]
        step = {"application_id": app_id, "seq": seq, "state": a["state"], "action": decision.action,
                "to_state": to_state, "user_id": session.user.id, "username": session.user.username,
                "display_name": session.user.display_name, "role": session.user.role, "at": stamp,
                "opinion": decision.opinion.strip() or None, "details": json.dumps(details, ensure_ascii=False)}
        action = f"依申请救助：{rules.ACTION_NAMES[decision.action]}"
        records.insert(conn, session.user, "application_steps", step, action)
        records.update(conn, session.user, "applications", app_id, changes, action)
    return application_row(session, app_id)


def _check(session: Session, a: dict, expected: str, d: Decision, today: date) -> tuple[str, str] | None:
    """Why the user may not take this decision now, as (field, reason); None if they may."""
    if a["state"] != expected:
        return "state", f"这份申请已是“{rules.STATE_NAMES[a['state']]}”，不能再按“{rules.STATE_NAMES[expected]}”处理，请刷新"
    if d.action not in rules.ACTION_NAMES:
        return "action", f"没有“{d.action}”这种办理"
    allowed = session.may(d.action, a, steps(session, a["id"]))
    if not allowed.allowed:
        return allowed.field, allowed.reason
    if d.action in rules.NEEDS_TEXT and not d.opinion.strip():
        return "opinion", "请填写意见（理由）"
    if a["state"] == "village_review" and d.action == "pass":
        return _meeting(d, today, a["year"])
    if d.action == "close_notice" and a["notice_end"] and today <= date.fromisoformat(a["notice_end"]):
        return "state", f"公示期至 {a['notice_end']}（含当日），期满后才能结束公示"
    if d.action == "disburse":
        return _still_supported(session, a)
    if d.action == "civil_opinion" and d.asset_check is None and a["passes_asset_check"] is None:
        return "asset_check", "请选择财产核查结果：符合或不符合"
    if d.action == "approve":
        return _not_ready(session, a) or _amount_problem(session, a["id"], d) or _zero_problem(session, a["id"], d)
    return None


def _not_ready(session: Session, a: dict) -> tuple[str, str] | None:
    """What 批准 still waits for, whatever amount is entered: 民政's 财产核查, the county's other opinions, a 公示 after
    the last pass."""
    if a["passes_asset_check"] is None:
        return "passes_asset_check", "批准前须由县级民政审核录入财产核查结果（民政认定收入财产）"
    taken = steps(session, a["id"])
    parts = replay.county_parts(taken)
    missing = [rules.ACTION_NAMES[p] for p in rules.COUNTY_PARTS if p not in parts]
    if missing:
        return "action", f"批准前须先有{'、'.join(missing)}的意见"
    place = notice_place(session, taken)
    if not paths.notice_ran(taken, place):
        return "state", (f"这份申请在{rules.STATE_NAMES[place]}之后没有经过公示（或公示后又重新{rules.STATE_NAMES[place]}"
                         f"而没有再公示），不能批准：请退回，由乡镇重新公示期满后再报批")
    return None


def approval_waits(session: Session, app_id: str) -> str | None:
    """For a case at 县级审批: what 批准 still waits for (shown on the case page before anyone fills the dialog);
    None when it waits for nothing, or the case is not at 县级审批."""
    a = application_row(session, app_id)
    if a["state"] != "county_approval":
        return None
    found = _not_ready(session, a)
    return found[1] if found else None


def _still_supported(session: Session, a: dict) -> tuple[str, str] | None:
    """发放 of an approved amount that the applicant's bills, as they stand now, no longer give: a bill voided or
    corrected after 批准 (a forged invoice, say) leaves the approval standing, and paying it would pay for costs that
    are no longer on record. The amount is computed again from the live bills and the 财产核查 民政 recorded."""
    approved = validate.money(a["approved_amount"] or "0", "approved_amount", "批准金额")
    try:
        now_owed = compute_amount(session, a["id"])["amount"]
    except FieldError as exc:
        now_owed, why = None, exc.reason
    if now_owed is not None and now_owed >= approved:
        return None
    basis = f"按现在的账单测算为 {fmt(now_owed)} 元" if now_owed is not None else f"现在无法测算（{why}）"
    return "approved_amount", (f"批准后申请人 {a['year']} 年的就诊账单有变动（作废或更正），批准金额 {fmt(approved)} 元"
                               f"{basis}，不能按原批准金额发放：请县级审批核对账单后重新办理")


def _zero_problem(session: Session, app_id: str, d: Decision) -> tuple[str, str] | None:
    """An approval at 0.00 元: refused where the household does not meet the conditions (the document grants
    依申请救助 only to a household that meets them: that is 不予救助, with its notice); otherwise confirmed first."""
    computed = compute_amount(session, app_id)
    amount = computed["amount"] if d.amount in (None, "") else validate.money(d.amount, "amount", "批准金额")
    if amount != 0:
        return None
    why = "；".join([s["explain"] for s in computed["steps"]]
                   + [w["message"] for w in computed["warnings"] if w["code"].startswith("application_")])
    why = why or "本年没有可救助的个人自付合规医疗费用"
    if computed["amount"]:  # the approver typed 0 against a computed amount: that is the reason to confirm
        why = f"填写的批准金额为 0，测算金额为 {fmt(computed['amount'])} 元"
    if computed["passes"] is False:
        return "amount", (f"批准金额为 0.00 元：{why}。不符合条件的申请不能批准，请选择“不予救助”并写明理由"
                          f"（将打印不予救助通知书，申请人据此可以申请复核）")
    if not d.confirm_zero:
        raise ZeroAmount("amount", f"批准金额为 0.00 元，批准后不发放任何救助金。原因：{why}")
    return None


# A reason for an amount other than the computed one says why and on what grounds: this many letters or characters
# at least, not counting spaces and punctuation, and not one character repeated.
MIN_REASON = 10
MIN_DISTINCT = 5


def ceiling_text(computed: dict) -> str:
    """The most that may be approved and why, for the approver's dialog and a refusal."""
    ceiling = computed["ceiling"]
    if ceiling is None:
        why = "；".join(w["message"] for w in computed["warnings"] if w["code"].startswith("application_"))
        return f"测算金额 {fmt(computed['amount'])} 元（{why or '本政策对此申请没有依申请救助标准'}）"
    return ceiling.describe()


def _amount_problem(session: Session, app_id: str, d: Decision) -> tuple[str, str] | None:
    """An approved amount above what the policy allows, or other than the computed one without a real reason."""
    if d.amount in (None, ""):
        return None
    try:
        amount = validate.money(d.amount, "amount", "批准金额")
    except FieldError as exc:
        return exc.field, exc.reason
    computed = compute_amount(session, app_id)
    ceiling = computed["ceiling"]
    highest = computed["amount"] if ceiling is None else ceiling.highest
    if amount > highest:
        return "amount", f"{fmt(amount)} 元超过可批准的最高额 {fmt(highest)} 元（{ceiling_text(computed)}）"
    meaningful = [c for c in d.amount_reason if c.isalnum()]
    if amount != computed["amount"] and (len(meaningful) < MIN_REASON or len(set(meaningful)) < MIN_DISTINCT):
        return "amount_reason", (f"批准金额与测算金额 {fmt(computed['amount'])} 元不同，须写明理由：至少 {MIN_REASON} "
                                 f"个字，说明为何不同、依据什么（将印在审批表上）")
    return None


def steps(session: Session, app_id: str) -> list[dict]:
    """Who took which step of the case, for the permission model's segregation of duties; whoever recorded or
    corrected a bill of the applicant's year (as the audit log shows) took the step duties.BILLS."""
    taken = [dict(r) for r in session.conn.execute(
        "SELECT seq, state, action, to_state, user_id, details FROM application_steps WHERE application_id = ? "
        "ORDER BY seq", (app_id,))]
    a = application_row(session, app_id)
    return taken + duties.bill_steps(reads.bill_recorders(session.conn, a["person_id"], a["year"]))


def notice_place(session: Session, taken: list[dict]) -> str:
    """Where this case's 公示 falls: as its own steps show (paths.placed), else the county's setting today."""
    return paths.placed([s for s in taken if s["state"] != duties.BILLS]) or settings(session)["notice_after"]


def _meeting(d: Decision, today: date, year: int) -> tuple[str, str] | None:
    """The 村评议 meeting a pass reports: a real date and a meeting that agreed."""
    if d.meeting_date in (None, ""):
        return "meeting_date", "请填写评议会议日期"
    try:
        held = validate.day(d.meeting_date, "meeting_date", "评议会议日期", today)
    except FieldError as exc:
        return exc.field, exc.message
    # The meeting weighs the household's costs of the year applied for: it cannot have met before that year began.
    if held.year < year:
        return "meeting_date", f"评议会议日期 {held} 早于申请年度 {year} 年，请填写评议这份申请的会议日期"
    d.meeting_date = held.isoformat()
    for field, value, label in (("attendees", d.attendees, "到会人数"), ("votes_for", d.votes_for, "同意票"),
                                ("votes_against", d.votes_against, "反对票")):
        if not isinstance(value, int) or value < 0:
            return field, f"请填写{label}（不小于 0 的整数）"
    if d.attendees == 0:
        return "attendees", "到会人数不能为 0"
    if d.votes_for + d.votes_against > d.attendees:
        return "votes_for", f"同意票加反对票（{d.votes_for + d.votes_against}）超过到会人数 {d.attendees}"
    # “同意，报下一环节” reports that the village agreed: more than half of those present voted for it.
    if d.votes_for * 2 <= d.attendees:
        return "votes_for", (f"同意票 {d.votes_for} 未超过到会人数 {d.attendees} 的半数，评议没有通过：请核对票数，"
                             f"或选择“不予救助”并写明理由")
    return None


def _details(d: Decision) -> dict:
    out = {}
    if d.meeting_date not in (None, ""):
        out.update(meeting_date=str(d.meeting_date), attendees=d.attendees, votes_for=d.votes_for,
                   votes_against=d.votes_against)
    if d.action == "reject":
        out["notice"] = f"经审核，您的医疗救助（依申请）申请不予救助。理由：{d.opinion.strip()}"
    return out


def due_date(session: Session, a: dict) -> date | None:
    """When the current step is due: the notice's end, or the step's limit in working days from its start."""
    if a["state"] in rules.FINAL:
        return None
    if a["state"] == "public_notice" and a["notice_end"]:
        # The notice ends on its last day; closing it is the township's next step, with a few working days for it.
        return add_workdays(date.fromisoformat(a["notice_end"]), rules.NOTICE_CLOSE_WORKDAYS)
    limit = int(settings(session)["limits"].get(a["state"], 10))
    return add_workdays(clock.local_date(a["state_since"]), limit)


def _summary(session: Session, a: dict, today: date) -> dict:
    p = session.conn.execute("SELECT name, id_number FROM persons WHERE id = ?", (a["person_id"],)).fetchone()
    due = due_date(session, a)
    return {**a, "name": p["name"], "id_number": p["id_number"], "state_name": rules.STATE_NAMES[a["state"]],
            "due": due, "overdue": due is not None and today > due}


def application(session: Session, app_id: str, today: date | None = None) -> dict:
    """One application as a page shows it: its record, the applicant, the state's name and its deadline."""
    return _summary(session, application_row(session, app_id), today or clock.today())


def worklist(session: Session, today: date | None = None) -> list[dict]:
    """待我处理: the cases in the user's jurisdiction waiting at a step the user's role acts on, oldest first."""
    today = today or clock.today()
    role = session.user.role
    states = [s.state for s in rules.STEPS.values() if s.role == role]
    if role in rules.COUNTY_PARTS.values():
        states.append("county_approval")
    # In an office with a single caseworker, that person also takes the other local role's steps of the level.
    offices = one_person_offices.offices(session.store)
    scope = ROLES[role].scope if role in ROLES else 0
    standing_in = {s.state for s in rules.STEPS.values() if s.role != role and offices
                   and duties.stands_in(scope, s.state, s.actions[0], min(map(len, offices)))}
    states += sorted(standing_in)
    if not states:
        return []
    where, param = reads.scope(session.user.jurisdiction, "region_code")
    rows = session.conn.execute(
        f"SELECT * FROM applications WHERE state IN ({', '.join('?' * len(states))}) AND {where} "
        f"ORDER BY state_since", (*states, *param)).fetchall()
    out = []
    for r in rows:
        a = dict(r)
        if a["state"] in standing_in and not duties.stands_in(
                scope, a["state"], rules.STEPS[a["state"]].actions[0], duties.office_level(offices, a["region_code"])):
            continue
        if role in rules.COUNTY_PARTS.values():
            part = next(k for k, v in rules.COUNTY_PARTS.items() if v == role)
            if part in replay.county_parts(steps(session, a["id"])):
                continue
        out.append(_summary(session, a, today))
    return out


def overdue(session: Session, today: date | None = None) -> list[dict]:
    """Every case in the jurisdiction whose current step is past its deadline."""
    today = today or clock.today()
    where, param = reads.scope(session.user.jurisdiction, "region_code")
    rows = session.conn.execute("SELECT * FROM applications WHERE state NOT IN ('disbursed', 'rejected', 'withdrawn') "
                                f"AND {where} ORDER BY state_since", param)
    return [s for s in (_summary(session, dict(r), today) for r in rows) if s["overdue"]]


def timeline(session: Session, app_id: str) -> list[dict]:
    """The steps taken, in order, with who, in which role, when, the opinion and the step's details."""
    application_row(session, app_id)
    return [{**dict(r), "details": json.loads(r["details"]), "state_name": rules.STATE_NAMES[r["state"]],
             "action_name": rules.ACTION_NAMES[r["action"]]}
            for r in session.conn.execute("SELECT * FROM application_steps WHERE application_id = ? ORDER BY seq",
                                          (app_id,))]


def mask_id(number: str) -> str:
    """An ID number for a public list: first 4 and last 4 shown."""
    return number[:4] + "*" * max(len(number) - 8, 0) + number[-4:] if len(number) > 8 else "*" * len(number)


def notice_list(session: Session, today: date | None = None) -> list[dict]:
    """公示名单: the cases now on public notice in the jurisdiction, with masked ID numbers and the engine's amount."""
    today = today or clock.today()
    where, param = reads.scope(session.user.jurisdiction, "a.region_code")
    rows = session.conn.execute(
        "SELECT a.*, p.name, p.id_number FROM applications a JOIN persons p ON p.id = a.person_id "
        f"WHERE a.state = 'public_notice' AND {where} ORDER BY a.region_code, p.name", param).fetchall()
    from app.domain.regions import regions

    out = []
    for r in rows:
        try:
            towns, villages = regions(r["region_code"][:6])
            town = towns.get(r["region_code"][:9], "")
            village = town + dict(villages).get(r["region_code"], r["region_code"])
        except OSError:
            town, village = "", r["region_code"]
        amount, why = amount_or_why(session, r["id"])
        out.append({"application_id": r["id"], "name": r["name"], "id_number": mask_id(r["id_number"]),
                    "township": town, "village": village, "amount": amount, "amount_note": why, "notice_start": r["notice_start"],
                    "notice_end": r["notice_end"]})
    return out


def attach(session: Session, app_id: str, kind: str, source: Path) -> str:
    """Keep a scan with the case, stored under its content hash in the data folder (the same file once)."""
    a = application_row(session, app_id)
    session.require("attach", a)
    if kind not in ATTACHMENT_KINDS:
        raise FieldError("kind", f"应为 {'、'.join(ATTACHMENT_KINDS)} 之一", "附件类别")
    source = Path(source)
    if not source.is_file():
        raise FieldError("file", f"找不到文件 {source}")
    if source.stat().st_size > MAX_ATTACHMENT:
        raise FieldError("file", f"附件超过 {MAX_ATTACHMENT // (1024 * 1024)} MB 的上限，请扫描成较小的文件（如 PDF 或 JPG）")
    digest = hashlib.sha256()
    with source.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    digest = digest.hexdigest()
    folder = session.store.path.parent / "attachments" / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / digest
    if not target.exists():
        partial = target.with_suffix(".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)
    row = {"application_id": app_id, "kind": kind, "filename": source.name, "sha256": digest,
           "size": source.stat().st_size, "added_by": session.user.username}
    with transaction(session.conn):
        return records.insert(session.conn, session.user, "attachments", row, "添加附件")["id"]


def amount_text(value: Decimal | None) -> str:
    return fmt(value if value is not None else ZERO)
