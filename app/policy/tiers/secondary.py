"""湛江 二次救助: on what is still self-paid after the three tiers, optionally with 目录外 costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import Visit
from app.domain.money import fmt, pct
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import Step, VisitResult
from app.policy.schema import GradedRate, SecondarySection
from app.policy.state import YearState
from app.policy.tiers.common import Run, meets_all, money_text
from app.policy.values import Rule


def settle_secondary(run: Run, v: Visit, i: int, st: YearState, r: VisitResult,
                     steps: list[Step] | None) -> None:
    """Add 二次救助 for the visit to `r` (it counts as tilt_assistance_paid)."""
    sec = run.policy.secondary
    if sec is None or run.cat not in sec.categories or v.kind not in sec.kinds:
        return
    if not meets_all(sec.conditions, v):
        return
    deductible, d_entry, rate, r_entry = run.held(("二次救助",), v.date, _head, run, sec, v.date, i)
    st.secondary_total_cost += v.total_cost
    grade_text = ""
    if sec.graded is not None:
        rate, r_entry, grade_text = graded_rate(run, sec.graded, st.secondary_total_cost, v, i)
    limit, l_entry = run.held(("二次救助限额",), v.date, _value, run, sec.annual_limit, v.date, i)
    inc = r.compliant_self_pay + (v.out_of_catalog if sec.include_out_of_catalog else ZERO)
    st.secondary_base += inc
    over = blocks.over_deductible(st.secondary_base, deductible)
    cumulative = blocks.assisted(st.secondary_base, deductible, rate, limit)
    paid = blocks.due_now(cumulative, st.secondary_paid, inc)
    if steps is not None:
        scope = "个人自负合规费用和自费费用" if sec.include_out_of_catalog else "个人自负合规费用"
        steps.append(Step("倾斜救助", paid, "；".join(dict.fromkeys([r_entry.reference, d_entry.reference, l_entry.reference])),
                          f"{sec.name}：本年累计三重制度后{scope} {fmt(st.secondary_base)} − 起付线 "
                          f"{money_text(deductible)} = {fmt(over)} × {pct(rate)}{grade_text} = {fmt(over * rate)}"
                          f"（年度限额 {money_text(limit)}，已付 {fmt(st.secondary_paid)}），本次 {fmt(paid)}"))
    st.secondary_paid += paid
    r.tilt_assistance_paid += paid


def _need(run: Run, i: int) -> str:
    """What a missing value is needed for, as a refusal names it."""
    return f"测算第 {i + 1} 次就诊的{run.policy.secondary.name}"


def _value(run: Run, rule: Rule, day: date, i: int) -> tuple[Any, Any]:
    return run.value(rule, day, _need(run, i))


def _head(run: Run, sec: SecondarySection, day: date, i: int) -> tuple[Any, Any, Any, Any]:
    """The deductible and (unless graded) the rate on `day`, each with its entry, in the order a refusal names them."""
    need = _need(run, i)
    deductible, d_entry = run.value(sec.deductible, day, need)
    rate, r_entry = run.value(sec.rate, day, need) if sec.graded is None else (None, None)
    return deductible, d_entry, rate, r_entry


def graded_rate(run: Run, graded: GradedRate, total_cost: Decimal, v: Visit, i: int) -> tuple[Decimal, Any, str]:
    """The rate of the person's grade: among the category's rows, the one with the highest 医疗总费用起 that the year's
    total cost has reached (0 if it reached none), with the entry for the reference and the grade in words."""
    best: tuple[Decimal, Decimal, Any] | None = None
    for gi, g in enumerate(graded.grades):
        if run.cat not in g.categories:
            continue
        start, _ = run.held(("分档起", gi), v.date, _value, run, g.cost_from, v.date, i)
        start = start or ZERO
        if total_cost >= start and (best is None or start > best[0]):
            rate, entry = run.held(("分档比例", gi), v.date, _value, run, g.rate, v.date, i)
            best = (start, rate, entry)
    if best is None:
        return ZERO, _Ref(graded.reference), f"（本年医疗总费用 {fmt(total_cost)} 未达到{run.cat}任何一档）"
    start, rate, entry = best
    return rate, entry, f"（{run.cat}、本年医疗总费用 {fmt(total_cost)} 达到 {fmt(start)} 元这一档的比例）"


@dataclass(frozen=True)
class _Ref:
    """The reference of a grade table when no row applies (the step still cites its clause)."""

    reference: str
