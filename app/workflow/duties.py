"""Segregation of duties, in one table: who may record bills, and which workflow steps one person may not both take."""

from __future__ import annotations

from itertools import combinations

from app.workflow import rules

# Entering money and approving its payment must not meet in one person. Bills are entered by the caseworkers who
# receive the hospital's settlement slip (village and township 经办); no county role does, since the county roles
# decide the 依申请救助 that bills pay into, and the administrator manages the accounts. 系统 is the command
# line and the demo generator (see roles.py for why it is not refused).
BILL_ACTIONS = frozenset({"record_bill", "correct_bill"})
BILL_RECORDERS = frozenset({"村级经办", "乡镇经办", "系统"})

# A workflow step is its state, except that the county's two opinions are steps of their own beside the approval.
STEPS = tuple(rules.STEPS) + tuple(rules.COUNTY_PARTS)
# Pairs of steps one person MAY both take. Every other pair of different steps is refused ("您已办理过…").
# 户申请 then 村评议: in a village with a single caseworker, the caseworker records the household's 户申请 on its
# behalf and then holds the 村评议. The 户申请 recorded for a household is the household's request, not the
# caseworker's decision, so it does not take away the caseworker's one decision on the case.
MAY_BOTH = frozenset({frozenset({"draft", "village_review"})})
MAY_NOT_BOTH = frozenset(frozenset(pair) for pair in combinations(STEPS, 2)) - MAY_BOTH
# 撤回 is the household's wish carried out, not a decision: it neither counts as a step taken nor is refused.
NOT_A_DECISION = frozenset({"withdraw"})


def step_of(state: str, action: str) -> str:
    """The step an action belongs to, for the table above."""
    return action if action in rules.COUNTY_PARTS else state


def conflict(state: str, action: str, taken: list[tuple[str, str]]) -> str | None:
    """The step among `taken` ((state, action) the user already took on this case) that forbids this one, if any."""
    if action in NOT_A_DECISION:
        return None
    now = step_of(state, action)
    for earlier_state, earlier_action in taken:
        if earlier_action in NOT_A_DECISION:
            continue
        earlier = step_of(earlier_state, earlier_action)
        if frozenset({earlier, now}) in MAY_NOT_BOTH:
            return earlier
    return None
