"""The one answer to "may this user do this to this record now, and if not, why and who may": decide()."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.workflow import duties, rules
from app.workflow.roles import ROLES, TASKS, holders


@dataclass(frozen=True)
class User:
    """A user as the permission model judges one: role and jurisdiction (a 6-, 9- or 12-digit 统计用区划代码 prefix).

    The signed-in user of a session, or the user a step taken elsewhere names (replay.check)."""

    id: str | None
    username: str
    display_name: str
    role: str
    jurisdiction: str

    def covers(self, region_code: str) -> bool:
        """Whether a 12-digit region code lies within this user's jurisdiction."""
        return region_code.startswith(self.jurisdiction)


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed; if not, `reason` in Chinese and `field` the part of the request refused."""

    allowed: bool
    reason: str = ""
    field: str = ""
    waiver: str = ""      # allowed only because the county let one person take two local steps here: says so


ALLOWED = Decision(True)


ONE_PERSON_WAIVER = "本地仅一名经办人，经县级管理员准许由同一人办理两个环节"


def stand_in_waiver(role: str, step_role: str) -> str:
    """What a step taken for another role of the same office says, on the step and the 审批表."""
    return f"本地仅一名经办人，经县级管理员准许由{role}代为办理{step_role}的环节"


def decide(user: Any, action: str, record: Mapping | None = None, *,
           steps: Iterable[Mapping] | None = None, options: duties.Options = duties.DEFAULT,
           one_person: int = 0) -> Decision:
    """Role → action, the record's region within the user's jurisdiction, the record's state for a workflow action,
    and segregation of duties against `steps` (the case's steps so far: state, action, user_id; recording the
    applicant's bills is the step duties.BILLS). `options` are what the county decided in its permission table.

    `record` is anything with a "region_code" (a person, a household, an application); an application also has
    its "state". Without a record only the role is asked (which buttons a screen offers). `one_person`: the county
    has recorded that the record's office has a single caseworker; the length of that office's code (9 a township,
    12 a village; 0 none; True counts as an office of any level): that person may take two local steps
    (duties.ONE_PERSON_STEPS), and another local role's step of the same level (duties.stands_in)."""
    role = ROLES.get(user.role)
    if role is None:
        return Decision(False, f"“{user.role}”不是本系统的角色，请管理员核对您的账号", "role")
    if len(user.jurisdiction or "") < role.scope:
        return Decision(False, f"您的管辖范围（{user.jurisdiction}）与{role.key}的角色不符，请管理员核对您的账号",
                        "jurisdiction")
    actions = role.actions_under(options)
    if action in rules.ACTION_NAMES:
        return _workflow(user, actions, action, record, steps, one_person)
    if action not in TASKS:
        raise ValueError(f"unknown action {action!r}")
    if action not in actions:
        return Decision(False, _refusal(user.role, action, options), "role")
    return _region(user, record, f"{record['region_code']} 不在您（{user.display_name}）的管辖范围 "
                                 f"{user.jurisdiction} 内" if record else "")


def _refusal(role: str, action: str, options: duties.Options) -> str:
    who = holders(action, options)
    if action in duties.BILL_ACTIONS:
        return (f"{role}不能{TASKS[action]}：录入账单和审批付款须由不同的人办理（职责分离），"
                f"账单由{'、'.join(who)}录入")
    if len(who) == 1:
        return f"只有{who[0]}可以{TASKS[action]}，您是{role}"
    return f"{role}不能{TASKS[action]}，此事由{'、'.join(who) or '系统'}办理"


def _region(user: Any, record: Mapping | None, reason: str) -> Decision:
    if record is not None and record.get("region_code") is not None and not user.covers(record["region_code"]):
        return Decision(False, reason, "jurisdiction")
    return ALLOWED


def _workflow(user: Any, allowed: frozenset[str], action: str, app: Mapping | None,
              steps: Iterable[Mapping] | None, one_person: int) -> Decision:
    if app is None:  # no case yet: whether the role ever takes this action
        return ALLOWED if any(a.endswith(f".{action}") for a in allowed) else Decision(
            False, f"{user.role}不办理“{rules.ACTION_NAMES[action]}”", "role")
    state = app["state"]
    if state in rules.FINAL:
        return Decision(False, f"申请已“{rules.STATE_NAMES[state]}”，办理已结束", "state")
    role = rules.role_for(state, action)
    if role is None:
        return Decision(False, f"“{rules.STATE_NAMES[state]}”环节不能“{rules.ACTION_NAMES[action]}”，不能跳过环节",
                        "action")
    stood_in = f"{state}.{action}" not in allowed
    if stood_in and not duties.stands_in(ROLES[user.role].scope, state, action, int(one_person)):
        return Decision(False, f"“{rules.ACTION_NAMES[action]}”须由{role}办理，您是{user.role}", "role")
    waiver = stand_in_waiver(user.role, role) if stood_in else ""
    where = _region(user, app, f"这份申请不在您的管辖范围（{user.jurisdiction}）内")
    if not where.allowed:
        return where
    if user.id is not None and steps is not None:
        taken = [(s["state"], s["action"]) for s in steps if s["user_id"] == user.id]
        conflicts = duties.conflicts_of(state, action, taken)
        if conflicts and one_person and duties.one_person_may(state, action, conflicts, int(one_person)):
            return Decision(True, waiver=waiver or ONE_PERSON_WAIVER)
        if duties.BILLS in conflicts:
            return Decision(False, "您录入或更正过申请人本年度的就诊账单：录入账单和审批付款须由不同的人办理（职责分离），"
                                   f"请由其他{role}办理", "user")
        if conflicts:
            return Decision(False, f"您已办理过本申请的“{_step_name(conflicts[0])}”环节，同一人不能办理两个环节，"
                                   f"请由其他{role}办理", "user")
    return Decision(True, waiver=waiver) if waiver else ALLOWED


def _step_name(step: str) -> str:
    return rules.STATE_NAMES.get(step) or rules.ACTION_NAMES[step]
