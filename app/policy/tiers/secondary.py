"""湛江 二次救助: on what is still self-paid after the three tiers, optionally with 目录外 costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import CaseError, Visit
from app.domain.money import fmt, pct
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import Step, VisitResult
from app.policy.schema import GradedRate, SecondarySection
from app.policy.state import YearState
from app.policy.tiers.common import Run, meets_all, money_text, planned
from app.policy.values import Rule


def settle_secondary(run: Run, v: Visit, i: int, st: YearState, r: VisitResult,
                     steps: list[Step] | None) -> None:
    """Add 二次救助 for the visit to `r` (it counts as tilt_assistance_paid)."""
    sec = run.policy.secondary
    if sec is None or run.cat not in sec.categories or v.kind not in sec.kinds:
        return
    if not meets_all(sec.conditions, v):
        return
    deductible, d_entry, rate, r_entry = planned(run, st, ("二次救助",), v.date, _head, run, sec, v.date, i)
    st.secondary_total_cost += v.total_cost
    reached: Decimal | None = None
    if sec.graded is not None:
        rate, r_entry, reached = graded_rate(run, st, sec.graded, st.secondary_total_cost, v, i)
    limit, l_entry = planned(run, st, ("二次救助限额",), v.date, _value, run, sec.annual_limit, v.date, i)
    inc = r.compliant_self_pay + (v.out_of_catalog if sec.include_out_of_catalog else ZERO)
    st.secondary_base += inc
    over = blocks.over_deductible(st.secondary_base, deductible)
    cumulative = blocks.assisted(st.secondary_base, deductible, rate, limit)
    paid = blocks.due_now(cumulative, st.secondary_paid, inc)
    if steps is not None:
        scope = "个人自负合规费用和自费费用" if sec.include_out_of_catalog else "个人自负合规费用"
        steps.append(Step("倾斜救助", paid, "；".join(dict.fromkeys([r_entry.reference, d_entry.reference, l_entry.reference])),
                          f"{sec.name}：本年累计三重制度后{scope} {fmt(st.secondary_base)} − 起付线 "
                          f"{money_text(deductible)} = {fmt(over)} × {pct(rate)}"
                          f"{grade_text(run, st.secondary_total_cost, reached) if sec.graded else ''} = {fmt(over * rate)}"
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


def graded_rate(run: Run, st: YearState, graded: GradedRate, total_cost: Decimal, v: Visit,
                i: int) -> tuple[Decimal, Any, Decimal | None]:
    """The rate of the person's grade: among the category's rows, the one with the highest 医疗总费用起 that the year's
    total cost has reached (0 if it reached none), with the entry for the reference and the 医疗总费用起 reached."""
    try:  # the category's rows and where they start, read once for the days they hold
        starts = planned(run, st, ("分档起", run.cat), v.date, _starts, run, graded, v.date, i)
    except CaseError:  # a start the county left out: read as the rows are tried, so the refusal is the one it was
        starts = ((_start(run, g, v, i), gi) for gi, g in enumerate(graded.grades) if run.cat in g.categories)
    best: tuple[Decimal, Decimal, Any] | None = None
    for start, gi in starts:
        if total_cost >= start and (best is None or start > best[0]):
            rate, entry = planned(run, st, ("分档比例", gi), v.date, _value, run, graded.grades[gi].rate, v.date, i)
            best = (start, rate, entry)
    if best is None:
        return ZERO, _Ref(graded.reference), None
    return best[1], best[2], best[0]


def grade_text(run: Run, total_cost: Decimal, reached: Decimal | None) -> str:
    """The grade in words, for the explanation."""
    if reached is None:
        return f"（本年医疗总费用 {fmt(total_cost)} 未达到{run.cat}任何一档）"
    return f"（{run.cat}、本年医疗总费用 {fmt(total_cost)} 达到 {fmt(reached)} 元这一档的比例）"


def _start(run: Run, g: Any, v: Visit, i: int) -> Decimal:
    return run.value(g.cost_from, v.date, _need(run, i))[0] or ZERO


def _starts(run: Run, graded: GradedRate, day: date, i: int) -> tuple[tuple[Decimal, int], ...]:
    """Where each of the category's rows starts, in the table's order."""
    return tuple((run.value(g.cost_from, day, _need(run, i))[0] or ZERO, gi)
                 for gi, g in enumerate(graded.grades) if run.cat in g.categories)


@dataclass(frozen=True)
class _Ref:
    """The reference of a grade table when no row applies (the step still cites its clause)."""

    reference: str
