"""The 依申请救助 state machine as data: each state's step, the role that acts there, and where each action leads.

Order (芜医保〔2021〕76号 二(二)5): 户申请 → 村评议 → 乡镇审核 → 县级审批 (医保 checks the costs, 民政 the
income and assets) → 发放. 公示 is the app's choice (the documents set none): by default after 乡镇审核,
for 7 days. A state names the step that is waiting to be done; the 户申请 step is the submission of a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

STATE_NAMES = {
    "draft": "草稿", "village_review": "村评议", "township_review": "乡镇审核", "public_notice": "公示",
    "county_approval": "县级审批", "approved": "已批准", "disbursed": "已发放",
    "rejected": "不予救助", "withdrawn": "已撤回",
}
FINAL = {"disbursed", "rejected", "withdrawn"}
ACTION_NAMES = {
    "submit": "户申请（提交）", "pass": "同意，报下一环节", "return": "退回上一环节", "reject": "不予救助",
    "close_notice": "公示期满无异议", "medical_opinion": "医保审核费用", "civil_opinion": "民政认定收入财产",
    "approve": "批准", "disburse": "发放", "withdraw": "撤回申请",
}


@dataclass(frozen=True)
class Step:
    """What happens at a state: the role that acts, its scope (village, township, county) and its actions."""

    state: str
    role: str
    scope: int            # how many digits of the household's region code the user's jurisdiction must match
    actions: tuple[str, ...]
    limit_days: int       # default limit in working days (公示: calendar days of the notice)


def sequence(notice_after: str = "township_review") -> tuple[str, ...]:
    """The states in order, with 公示 placed after the configured step."""
    core = ["draft", "village_review", "township_review", "county_approval", "approved", "disbursed"]
    core.insert(core.index(notice_after) + 1, "public_notice")
    return tuple(core)


STEPS: dict[str, Step] = {s.state: s for s in (
    Step("draft", "村级经办", 12, ("submit", "withdraw"), 5),
    Step("village_review", "村级经办", 12, ("pass", "return", "reject", "withdraw"), 5),
    Step("township_review", "乡镇审核", 9, ("pass", "return", "reject", "withdraw"), 10),
    Step("public_notice", "乡镇经办", 9, ("close_notice", "return", "withdraw"), 7),
    Step("county_approval", "县级审批", 6, ("approve", "return", "reject", "withdraw"), 10),
    Step("approved", "乡镇经办", 9, ("disburse",), 10),
)}
# 县级审批's two parts, each by its own role, both needed before the approver decides.
COUNTY_PARTS = {"medical_opinion": "县级医保审核", "civil_opinion": "县级民政审核"}
# The 公示's length in calendar days until a county sets its own (the app's choice: the documents set none).
NOTICE_DAYS = 7
# Working days after the notice's last day for the township to close it (the app's choice: the documents set none).
NOTICE_CLOSE_WORKDAYS = 3
# Actions that need a written reason or opinion.
NEEDS_TEXT = {"return", "reject", "pass", "approve", "medical_opinion", "civil_opinion", "withdraw"}


def role_for(state: str, action: str) -> str | None:
    """The role that may take `action` in `state`, or None if the action does not exist there."""
    if state == "county_approval" and action in COUNTY_PARTS:
        return COUNTY_PARTS[action]
    step = STEPS.get(state)
    if step is None or action not in step.actions:
        return None
    if action == "withdraw":
        return "乡镇经办" if state != "draft" else "村级经办"
    return step.role


def next_state(state: str, action: str, order: tuple[str, ...]) -> str:
    """Where an action leads; 退回 goes back to the previous deciding step (公示 is not one)."""
    if action == "reject":
        return "rejected"
    if action == "withdraw":
        return "withdrawn"
    if action in COUNTY_PARTS:
        return state
    i = order.index(state)
    if action == "return":
        back = order[i - 1]
        return order[i - 2] if back == "public_notice" else back
    return order[i + 1]
