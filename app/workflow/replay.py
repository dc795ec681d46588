"""Steps taken elsewhere, judged by the one permission model against the case as its accepted steps leave it; and
the application's state as the fold of its steps.

A step arriving in a package or a sync is a claim: "user U, in role R, took action A when the case was in state S".
It is kept only if that user could have taken it here and now: the case is in S after the steps already accepted,
the permission model (permissions.decide: role, state, region, segregation of duties) allows it, it leads where
the state machine leads, and what the action needs besides (an opinion, both county opinions before 批准, a 公示
that ran its course) is there. The application row only summarises its steps, so its state, dates and amounts are
never taken from outside: they are folded from the steps that were accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from app.domain.money import MoneyError, parse_money
from app.store import clock
from app.store.clock import local_date
from app.workflow import duties, paths, permissions, rules
from app.workflow.roles import ROLES

# The application's columns that follow from its steps; anything arriving from outside in them is not believed.
DERIVED = ("state", "state_since", "notice_start", "notice_end", "computed_amount", "approved_amount",
           "amount_reason")
_CARRIED = ("notice_start", "notice_end", "computed_amount", "approved_amount", "amount_reason")
# Either place a county may give 公示 (rules.sequence). Until a case's steps show which one it follows (paths), a
# step leading where either leads is legal; from then on only its own order is (a chain mixing the two skips 公示 or
# 乡镇审核).
_ORDERS = {place: rules.sequence(place) for place in paths.PLACES}
# What 民政 certifies at its county step (民政认定收入财产: 家庭总收入 and the 财产核查, 芜医保〔2021〕76号 二(二)5).
# Once a civil_opinion is held, a newer copy of the application from its owner no longer changes these, and the
# 财产核查 follows the step. Not in DERIVED: DERIVED is also what a pushed row's signature leaves out
# (county_keys.row_digest), and older pushes must still verify.
CERTIFIED = ("annual_income", "low_income_standard", "passes_asset_check")
# The longest 公示 a county may set (applications.configure), in days.
LONGEST_NOTICE = 60
# Roles of this scope or wider are the county's (县级医保审核, 县级民政审核, 县级审批).
_COUNTY_SCOPE = 6


def details(step: Mapping) -> dict:
    """A step's details as a dict (empty if they are not a JSON object)."""
    try:
        out = json.loads(step.get("details") or "{}")
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def fold(steps: Sequence[Mapping]) -> dict:
    """The application's derived columns after `steps` (in seq order); state_since None while still a draft."""
    out: dict = dict.fromkeys(DERIVED)
    out["state"] = "draft"
    for step in steps:
        if step["to_state"] != out["state"]:
            out["state_since"] = step["at"]
        out["state"] = step["to_state"]
        carried = details(step)
        out.update({k: carried[k] for k in _CARRIED if k in carried})
    return out


def certified(steps: Sequence[Mapping]) -> dict:
    """passes_asset_check as the last civil_opinion that recorded a 财产核查 leaves it ({} while none did)."""
    out: dict = {}
    for step in steps:
        found = details(step).get("asset_check") if step["action"] == "civil_opinion" else None
        if isinstance(found, bool):
            out["passes_asset_check"] = int(found)
    return out


def county_parts(steps: Sequence[Mapping]) -> set[str]:
    """The county opinions given since the case last entered 县级审批."""
    entered = max((i for i, s in enumerate(steps) if s["to_state"] == "county_approval"
                   and s["state"] != "county_approval"), default=-1)
    return {s["action"] for s in steps[entered + 1:] if s["action"] in rules.COUNTY_PARTS}


def check(step: Mapping, held: Sequence[Mapping], region_code: str, jurisdiction: str | None = None,
          options: duties.Options = duties.DEFAULT, one_person: int = 0,
          recorders: Sequence[str] = (), *, from_county: bool | None = None, notice_days: int | None = None,
          today: date | None = None) -> str | None:
    """Why `step` may not be applied after the accepted `held` steps (in seq order), in Chinese; None if it may.

    `jurisdiction` is the sending site's, when the county registered it; without it the user is granted the
    widest jurisdiction its role allows over this case, so that role, state and duties are still checked. `options`
    are what the receiving county decided in its permission table; `one_person` whether it marked the case's office
    as having a single caseworker (see permissions.decide): a waiver is the receiving site's to grant, never the
    sender's claim; `recorders` the users who recorded the applicant's bills of the year, as the receiver's audit
    log shows (nobody approves a case whose bills they recorded).

    What the receiver knows besides: `from_county` False when the step's site (its site_id, which the county
    checked against the site's registered key) is known to be a township's, not the county's installation: a
    township does not take the county's steps, whatever role a step claims (None: the receiver does not know the
    site — a county not yet claimed, a replaced county computer — and does not bind); `notice_days` the shortest
    公示 the receiving county sets; `today` the receiver's today (a step is not dated after it, nor before the step
    it follows, beyond a day of clock difference)."""
    if step["seq"] != len(held) + 1:
        return f"这是第 {step['seq']} 步，本处只有前 {len(held)} 步，前面的办理环节尚未收到或已不同"
    now = fold(held)["state"]
    state, action = step["state"], step["action"]
    if state != now:
        return (f"这一步是在“{rules.STATE_NAMES.get(state, state)}”环节办理的，本处这份申请现为"
                f"“{rules.STATE_NAMES[now]}”")
    if action not in rules.ACTION_NAMES:
        return f"没有“{action}”这种办理"
    if not step.get("user_id"):
        return "办理人不明（没有用户编号），不能确认由谁办理"
    role = ROLES.get(step["role"])
    if from_county is False and role is not None and role.scope <= _COUNTY_SCOPE:
        return (f"{step['display_name']}（{step['role']}）不能办理这一步（“{rules.ACTION_NAMES[action]}”）：{step['role']}"
                f"的环节只能在县里的站点办理，这一步却是在乡镇站点（站点编号 {str(step.get('site_id') or '未知')[:64]}）"
                f"办理的")
    when = _when(step, held, today or clock.today())
    if when:
        return when
    if jurisdiction is None:
        jurisdiction = region_code[:role.scope] if role else ""
    actor = permissions.User(step["user_id"], step["username"], step["display_name"], step["role"], jurisdiction)
    decision = permissions.decide(actor, action, {"state": state, "region_code": region_code},
                                  steps=[*held, *duties.bill_steps(recorders)], options=options, one_person=one_person)
    if not decision.allowed:
        return f"{step['display_name']}（{step['role']}）不能办理这一步：{decision.reason}"
    place = paths.placed(held)
    orders = [_ORDERS[place]] if place else _ORDERS.values()
    if step["to_state"] not in {rules.next_state(state, action, order) for order in orders}:
        return (f"“{rules.ACTION_NAMES[action]}”不会使申请进入“{rules.STATE_NAMES.get(step['to_state'], '未知环节')}”，"
                f"不能跳过环节")
    if action in rules.NEEDS_TEXT and not (step.get("opinion") or "").strip():
        return f"“{rules.ACTION_NAMES[action]}”须有意见（理由），这一步没有"
    if step["to_state"] == "public_notice":
        return _notice(step, notice_days)
    return _needs(step, held)


# Computers' clocks differ: a day either way is a clock, more is not what happened.
SKEW = timedelta(days=1)


def _when(step: Mapping, held: Sequence[Mapping], today: date) -> str | None:
    """A step dated after the receiver's today, or before the step it follows, is not what happened (a day's
    difference between two computers' clocks excepted: a refused step stops the case at the receiver for good)."""
    try:
        day = local_date(step["at"])
    except (TypeError, ValueError, AttributeError):
        return f"这一步的办理时间“{str(step.get('at'))[:40]}”不是有效的时间"
    if day > today + SKEW:
        return f"这一步记在 {day}，晚于本处的今天 {today}，办理时间不对"
    if held and day < local_date(held[-1]["at"]) - SKEW:
        return f"这一步记在 {day}，早于它之前的一步（{local_date(held[-1]['at'])}），办理时间不对"
    return None


def _notice(step: Mapping, notice_days: int | None) -> str | None:
    """The 公示 a step opens: its dates are carried in the step (the receiver folds them into the case), so they are
    checked against the step's own date and the county's length, as applications.act makes them."""
    carried = details(step)
    try:
        start, end = date.fromisoformat(carried["notice_start"]), date.fromisoformat(carried["notice_end"])
    except (KeyError, TypeError, ValueError):
        return "进入公示的这一步没有写明公示的起止日期"
    days = (end - start).days + 1
    if start > local_date(step["at"]):
        return f"公示自 {start} 开始，晚于这一步的办理日期 {local_date(step['at'])}"
    shortest = notice_days or 1
    if not shortest <= days <= LONGEST_NOTICE:
        return (f"公示期 {start} 至 {end} 共 {days} 天，不符合本县规定的公示天数"
                f"（至少 {shortest} 天，最长 {LONGEST_NOTICE} 天）")
    return None


def _needs(step: Mapping, held: Sequence[Mapping]) -> str | None:
    """What an action needs besides permission: a 公示 run to its end, both county opinions before 批准."""
    carried = details(step)
    if step["action"] == "close_notice":
        end = fold(held)["notice_end"]
        # As applications._check: the notice's last day is a day of the notice; it ends the day after.
        if end and local_date(step["at"]).isoformat() <= end:
            return f"公示期至 {end}（含当日），这一步记在 {local_date(step['at'])}，期满前不能结束公示"
    if step["action"] != "approve":
        return None
    missing = [rules.ACTION_NAMES[p] for p in rules.COUNTY_PARTS if p not in county_parts(held)]
    if missing:
        return f"批准前须先有{'、'.join(missing)}的意见，本处没有"
    place = paths.placed(held)
    if not paths.notice_ran(held, place):
        after = f"在{rules.STATE_NAMES[place]}之后" if place else ""
        return f"这份申请{after}没有经过公示（或公示后又重新办理而没有再公示），不能批准"
    try:
        amount = parse_money(carried.get("approved_amount"), "approved_amount")
        computed = parse_money(carried.get("computed_amount"), "computed_amount")
    except MoneyError as exc:
        return f"批准金额或测算金额不对：{exc.message}"
    if amount != computed and not (carried.get("amount_reason") or "").strip():
        return f"批准金额 {amount} 与测算金额 {computed} 不同，却没有写明理由"
    if amount > computed:  # applications._amount_problem: the computed amount may be lowered, never raised
        return f"批准金额 {amount} 元高于按政策测算的 {computed} 元：依申请救助只能核减，不能高于测算金额"
    return None

