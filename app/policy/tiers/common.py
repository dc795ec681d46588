"""What every tier shares: the run context (policy, case, category, values) and small helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import Case, CaseError, Visit
from app.domain.money import ZERO as FEN_ZERO, fmt
from app.policy.blocks import ZERO
from app.policy.index import PolicyIndex
from app.policy.result import VisitResult
from app.policy.schema import ByLevel, Policy, RatioByLevel
from app.policy.values import Rule

COND_TEXT = {"规范转诊": "规范转诊", "省内就医": "省内就医", "重特大疾病": "重特大疾病病种", "参保地就医": "在参保地就医",
             "急诊抢救": "急诊、抢救", "异地备案": "办理异地就医备案"}
# The visit field each condition reads (a Visit attribute of the same meaning).
COND_FIELD = {"规范转诊": "referred", "省内就医": "in_province", "重特大疾病": "major_disease",
              "参保地就医": "in_insured_area", "急诊抢救": "emergency", "异地备案": "filed_remote"}


def unheld_span(key: Any, day: date, build: Callable[..., Any], *args: Any) -> tuple[date, date, Any]:
    """Terms built afresh every time, for a run without an engine's memory: an empty span of days, so that a
    case's plan never keeps them (Resolver.held_span is the remembering one)."""
    return day, day, build(*args)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 4x, and a Run is made per case and category
class Run:
    """One settlement of a case under one applied category (never changed once made)."""

    policy: Policy
    index: PolicyIndex
    case: Case
    cat: str
    value: Callable[[Rule, date, str], tuple[Any, Any]]
    held_span: Callable[..., tuple[date, date, Any]] = unheld_span


def planned(run: Run, st: Any, key: tuple, day: date, build: Callable[..., Any], *args: Any) -> Any:
    """Terms a tier builds (Resolver.held_span), kept in `st.plan` (the engine's: its category's, across cases) for
    the days they hold, so a visit only tests its day against them. `key` names what the terms depend on besides the
    case's category."""
    span = st.plan.get(key)
    if span is None or not span[0] <= day < span[1]:
        span = st.plan[key] = run.held_span(key, day, build, *args)
    return span[2]


def money_text(value: Decimal | None) -> str:
    """An amount, or 不设 where a limit or deductible is not set."""
    return "不设" if value is None else fmt(value)


def condition(cond: str, v: Visit) -> bool:
    """Whether a visit meets a rule's condition (规范转诊, 省内就医, 重特大疾病, 参保地就医, 急诊抢救, 异地备案)."""
    return getattr(v, COND_FIELD[cond])


# Loops, not any()/all() over a generator: a generator costs four times the look-ups, and these run per visit.
def meets_any(conds: Sequence[str], v: Visit) -> bool:
    """Whether a visit meets at least one of a scope's conditions."""
    for cond in conds:
        if getattr(v, COND_FIELD[cond]):
            return True
    return False


def meets_all(conds: Sequence[str], v: Visit) -> bool:
    """Whether a visit meets every condition of a rule (true when there are none)."""
    for cond in conds:
        if not getattr(v, COND_FIELD[cond]):
            return False
    return True


def level_rule(rule: Rule | ByLevel | RatioByLevel, v: Visit, i: int, need: str, what: str = "起付线") -> Rule:
    """The rule for the visit's hospital level, where the value (`what`: 起付线, 比例) differs by level."""
    if not isinstance(rule, (ByLevel, RatioByLevel)):
        return rule
    if v.hospital_level is None:
        raise CaseError(f"visits[{i}].hospital_level", f"{need}{what}要按医院级别，请填写 基层、县级、市级 或 省级")
    found = rule.levels.get(v.hospital_level)
    if found is None:
        raise CaseError(f"visits[{i}].hospital_level",
                        f"本政策未规定{v.hospital_level}医院{v.kind}的{what}，请填写结算单上的基本医保统筹支付")
    return found


def year_sum(results: list[VisitResult], case: Case, kinds: list[str], attr: str) -> Decimal:
    """Sum one figure over the year's visits of the given kinds."""
    total = ZERO
    # A loop, not sum() over a generator: the 监测预警 asks it of every year. The two self-paid figures are
    # VisitResult's properties written out (a property read per visit costs as much as the arithmetic).
    first = SELF_PAID_FROM.get(attr)
    if first is None:
        for r, v in zip(results, case.visits):
            if v.kind in kinds:
                total += getattr(r, attr)
        return total
    skipped = False
    for r, v in zip(results, case.visits):
        if v.kind in kinds:
            total += getattr(r, first) - r.basic_paid - r.serious_illness_paid
            # Most visits got no assistance, or no 倾斜救助: the figure is still money's ZERO (0.00), which takes
            # nothing away; it is added once below instead, for the exponent the sum visit by visit has (every sum
            # here is exact, and its exponent is the least of its terms').
            if r.assistance_paid is FEN_ZERO:
                skipped = True
            else:
                total -= r.assistance_paid
            if r.tilt_assistance_paid is FEN_ZERO:
                skipped = True
            else:
                total -= r.tilt_assistance_paid
    return total + FEN_ZERO if skipped else total


# What each self-paid figure of VisitResult is taken from before the tiers' payments.
SELF_PAID_FROM = {"compliant_self_pay": "policy_covered", "personal_pay": "total_cost"}
