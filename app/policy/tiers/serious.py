"""Tier 2, 大病保险: an annual deductible and flat or banded rates on the year's cumulative self-pay."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import CaseError, Visit
from app.domain.money import fmt, pct, round_fen
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import LazyShare, Step, TierShare, VisitResult
from app.policy.state import YearState
from app.policy.schema import SeriousSection
from app.policy.tiers.common import Run, money_text


def settle_serious(run: Run, v: Visit, i: int, st: YearState, basic: Decimal,
                   steps: list[Step] | None, shares: list[TierShare] | None = None) -> Decimal:
    """What critical-illness insurance pays for the visit: the cumulative result minus what it already paid; a
    computed one adds its split of what it left to `shares`."""
    sec = run.policy.serious
    counted = sec is not None and v.kind in sec.kinds
    inc = v.policy_covered - basic if counted else ZERO
    if sec is None:
        raise CaseError(f"visits[{i}].serious_illness_paid", "本政策文件未规定大病保险待遇，请填写医院结算单上的大病保险支付")
    if not counted:
        return ZERO
    if run.case.insurance not in sec.schemes:
        raise CaseError(f"visits[{i}].serious_illness_paid", f"本政策只能测算{'、'.join(sec.schemes)}的大病保险，参保险种为"
                        f"{run.case.insurance}，请填写结算单上的大病保险支付")
    span = st.serious_terms.get(run.case.insurance)
    if span is None or not span[0] <= v.date < span[1]:
        span = st.serious_terms[run.case.insurance] = run.held_span(("大病", run.cat, run.case.insurance), v.date,
                                                                    _terms, run, sec, v.date, i)
    terms = span[2]
    deductible, rate, uplift, cap, ref, notes = terms
    last = st.serious_after
    if last is not None and last[0] is terms and last[1] is st.serious_base:
        # The previous computed visit left the base where it is, under the same terms: its figures after it are
        # this visit's before it.
        _, _, over_before, rated_before = last
    else:
        over_before = blocks.over_deductible(st.serious_base, deductible)
        rated_before = None
    st.serious_base += inc
    over = blocks.over_deductible(st.serious_base, deductible)
    product = blocks.rate_times(over, rate, uplift)
    rated = round_fen(product)
    # round_fen(capped(product, cap)), rounding once where the cap does not bind
    cumulative = rated if cap is None or product < cap else round_fen(cap)
    st.serious_after = (terms, st.serious_base, over, rated)
    paid = blocks.due_now(cumulative, st.serious_paid, inc)
    if shares is not None:
        shares.append(LazyShare("大病保险", inc, paid, _share_parts, (over_before, over, rated_before, rated, rate, uplift)))
    if steps is not None and (paid or st.serious_base):
        base = f"本年累计基本医保后政策范围内个人自付 {fmt(st.serious_base)}"
        if deductible is not None and not over:
            text = f"{base}，未超过大病保险起付线 {fmt(deductible)}，本次不支付"
        else:
            text = (base + (f" − 起付线 {fmt(deductible)} = {fmt(over)}" if deductible is not None else "（不设起付线）")
                    + f"，{rate_text(rate, uplift, over)} = {fmt(rated)}")
            if cumulative != rated:
                text += f"，受封顶线 {fmt(cap)} 所限为 {fmt(cumulative)}"
            text += f"；扣除本年已付 {fmt(st.serious_paid)}，本次 {fmt(paid)}"
        steps.append(Step("大病保险", paid, ref, text + (f"（{'；'.join(notes)}）" if notes else "")))
    st.serious_paid += paid
    return paid


def _share_parts(inc: Decimal, paid: Decimal, over_before: Decimal, over: Decimal, rated_before: Decimal | None,
                 rated: Decimal, rate: Any, uplift: Decimal) -> tuple[Decimal, Decimal]:
    """The visit's costs under the deductible, and what the rate gave but the cap did not pay (LazyShare)."""
    if rated_before is None:
        rated_before = round_fen(blocks.rate_times(over_before, rate, uplift))
    return inc - (over - over_before), rated - rated_before - paid


def reported_serious(plan: dict, slips: list[tuple[Visit, VisitResult]], st: YearState, explain: bool) -> None:
    """Count the hospital's figures of visits a slip settled (each result's serious_illness_paid is its slip's), and
    each visit's self-paid costs toward the year's 大病保险 base where the tier covers its kind (the plan's `counted`),
    in the visits' order: the tallies a computed visit after them reads."""
    base, total = st.serious_base, st.serious_paid
    for v, r in slips:
        paid = r.serious_illness_paid
        if plan[v.kind][2]:
            base += v.policy_covered - r.basic_paid
        total += paid
        if explain and paid:
            r.steps.append(Step("大病保险", paid, "医院一站式结算单", f"采用医院一站式结算单上的大病保险支付 {fmt(paid)} 元"))
    st.serious_base, st.serious_paid = base, total


def _terms(run: Run, sec: SeriousSection, day: date, i: int) -> tuple[Decimal | None, Any, Decimal, Decimal | None,
                                                                    str, tuple[str, ...]]:
    """The year's deductible, rate, rise and cap for the category and scheme on `day` (a category's own or its cut
    where an adjustment says so), with the clauses they cite and the notes they bring."""
    need = f"测算第 {i + 1} 次就诊的大病保险"
    adj = next((a for a in sec.adjustments
                if run.cat in a.categories and (a.schemes is None or run.case.insurance in a.schemes)), None)
    refs: list[str] = []
    notes: list[str] = []
    uplift = ZERO
    if adj is not None and adj.deductible is not None:
        deductible, e = run.value(adj.deductible, day, need)
        notes.append(f"{run.cat}起付线 {money_text(deductible)}")
    else:
        deductible, e = run.value(sec.deductible, day, need)
        if adj is not None and adj.deductible_cut is not None:
            refs.append(e.reference)
            cut, e = run.value(adj.deductible_cut, day, need)
            before = deductible or ZERO
            deductible = round_fen(before * (1 - cut))
            notes.append(f"{run.cat}起付线降低 {pct(cut)}：{fmt(before)} → {fmt(deductible)}")
    refs.append(e.reference)
    rate, e = run.value(adj.rate if adj is not None and adj.rate is not None else sec.rate, day, need)
    refs.append(e.reference)
    if adj is not None and adj.rate_uplift is not None:
        uplift, e = run.value(adj.rate_uplift, day, need)
        refs.append(e.reference)
        notes.append(f"{run.cat}报销比例提高 {pct(uplift)[:-1]} 个百分点")
    cap, e = run.value(adj.cap if adj is not None and adj.cap is not None else sec.cap, day, need)
    refs.append(e.reference)
    if adj is not None and adj.cap is not None:
        notes.append(f"{run.cat}封顶线 {money_text(cap)}")
    return deductible, rate, uplift, cap, "；".join(dict.fromkeys(refs)), tuple(notes)


def rate_text(rate: Any, uplift: Decimal, amount: Decimal) -> str:
    """How a flat or banded rate was applied, for the explanation."""
    if not isinstance(rate, tuple):
        return f"× {pct(blocks.with_uplift(rate, uplift))}"
    parts = []
    for band in rate:
        if amount <= band.lower:
            break
        top = amount if band.upper is None or amount < band.upper else band.upper
        upper = "以上" if band.upper is None else f"–{fmt(band.upper)}"
        parts.append(f"{fmt(band.lower)}{upper} 段 {fmt(top - band.lower)} × {pct(blocks.with_uplift(band.rate, uplift))}")
    return "分段累计（" + "，".join(parts) + "）" if parts else "分段累计"
