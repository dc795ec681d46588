"""Segregation of duties, in one table: who may record bills (and what the county may change of it), and which
workflow steps one person may not both take, recording a case's bills among them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from app.workflow import rules

# Entering money and approving its payment must not meet in one person. Bills are entered by the caseworkers who
# receive the hospital's settlement slip (village and township 经办); no county role does, since the county roles
# decide the 依申请救助 that bills pay into, and the administrator manages the accounts. 系统 is the command
# line and the demo generator (see roles.py for why it is not refused).
BILL_ACTIONS = frozenset({"record_bill", "correct_bill"})
BILL_RECORDERS = frozenset({"村级经办", "乡镇经办", "系统"})
# A county office without township staff to enter its bills may let its county roles record them: the county
# decides, in its permission table (settings key SETTING, changed by an administrator and audited). Even then,
# nobody approves a case whose bills they recorded (BILLS below).
COUNTY_ROLES = frozenset({"县级医保审核", "县级民政审核", "县级审批"})
SETTING = "duties"


@dataclass(frozen=True)
class Options:
    """What the county has decided in its permission table; the defaults hold until it decides otherwise."""

    county_records_bills: bool = False

    @classmethod
    def of(cls, stored: Mapping | None) -> Options:
        """The options as stored in the settings (a missing or unknown key keeps its default)."""
        return cls(county_records_bills=bool((stored or {}).get("county_records_bills", False)))

    def bill_recorders(self) -> frozenset[str]:
        return BILL_RECORDERS | (COUNTY_ROLES if self.county_records_bills else frozenset())


DEFAULT = Options()

# A workflow step is its state, except that the county's two opinions are steps of their own beside the approval.
STEPS = tuple(rules.STEPS) + tuple(rules.COUNTY_PARTS)
# Pairs of steps one person MAY both take. Every other pair of different steps is refused ("您已办理过…"), unless
# the county has let one person take two local steps in an office with a single caseworker (ONE_PERSON_STEPS).
MAY_BOTH: frozenset[frozenset[str]] = frozenset()
# Having recorded (or corrected) a bill of the applicant's year is a step of its own: whoever entered the money may
# not decide at 县级审批 to pay it. It does not bar the village or township steps, which the caseworker who
# receives the hospital's slip also takes; no office's single caseworker waives it (it is not a local step).
BILLS = "bills"
MAY_NOT_BOTH = (frozenset(frozenset(pair) for pair in combinations(STEPS, 2)) - MAY_BOTH) | {
    frozenset({BILLS, "county_approval"})}
# Not decisions, so they neither count as a step taken nor are refused: 户申请 is the household's own request (in a
# village with a single caseworker, the caseworker records it on the household's behalf and then holds the 村评议);
# 撤回 is the household's wish carried out.
NOT_A_DECISION = frozenset({"submit", "withdraw"})
# The village- and township-level steps. Where a county administrator has recorded that an office has a single
# caseworker, one person may take two of these (never a county step); the step then says so, and the 审批表 prints it.
ONE_PERSON_STEPS = frozenset(s for s, step in rules.STEPS.items() if step.scope >= 9)
ONE_PERSON_SETTING = "one_person_offices"


def bill_steps(recorders) -> list[dict]:
    """Having recorded a case's bills, as steps the permission model weighs beside the case's own (users' ids)."""
    return [{"seq": None, "state": BILLS, "action": "record_bill", "to_state": None, "user_id": u} for u in recorders]


def step_of(state: str, action: str) -> str:
    """The step an action belongs to, for the table above."""
    return action if action in rules.COUNTY_PARTS else state


def conflict(state: str, action: str, taken: list[tuple[str, str]]) -> str | None:
    """The step among `taken` ((state, action) the user already took on this case) that forbids this one, if any."""
    conflicts = conflicts_of(state, action, taken)
    return conflicts[0] if conflicts else None


def conflicts_of(state: str, action: str, taken: list[tuple[str, str]]) -> list[str]:
    """Every step among `taken` that one person may not take together with this one."""
    out: list[str] = []
    if action in NOT_A_DECISION:
        return out
    now = step_of(state, action)
    for earlier_state, earlier_action in taken:
        if earlier_action in NOT_A_DECISION:
            continue
        earlier = step_of(earlier_state, earlier_action)
        if frozenset({earlier, now}) in MAY_NOT_BOTH and earlier not in out:
            out.append(earlier)
    return out


def office_level(codes: list[str], region_code: str | None) -> int:
    """The length of the widest office marked as having a single caseworker (settings key ONE_PERSON_SETTING) that
    holds a case's region: 9 a township, 12 a village, 0 none."""
    return min((len(code) for code in codes if region_code and region_code.startswith(code)), default=0)


def stands_in(role_scope: int, state: str, action: str, office: int) -> bool:
    """Whether, in an office with a single caseworker (`office`: the length of its code, 9 a township, 12 a
    village; 0 none), that caseworker (whose role has `role_scope`) may take a step of another role of the same
    level: a township with one person has nobody else to hold both 乡镇审核 and 乡镇经办. Never a county step,
    never a step of another level (a village's caseworker does not take the township's steps), and only where the
    marked office is at the step's level or covers it."""
    step = rules.STEPS.get(state)
    return (bool(office) and step_of(state, action) in ONE_PERSON_STEPS and step is not None
            and step.scope == role_scope and office <= step.scope)


def one_person_may(state: str, action: str, conflicts: list[str], office: int) -> bool:
    """Whether an office with a single caseworker (`office`: the length of its code, as in stands_in) may let one
    person take this step despite `conflicts`: only steps at the marked office's level or below it, as stands_in. A
    village with one caseworker says nothing of its township, which still has two people to hold two of its steps
    (a village's marking let one township clerk close the 公示 and pay out the same case)."""
    taken = [step_of(state, action), *conflicts]
    return bool(office) and all(s in ONE_PERSON_STEPS and office <= rules.STEPS[s].scope for s in taken)
