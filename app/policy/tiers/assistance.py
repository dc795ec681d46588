"""Tier 3, 医疗救助 by category in pools with a shared annual limit, and assistance above the limit (倾斜救助, 重特大疾病)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.case import Visit
from app.domain.money import fmt, pct, round_fen
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import LazyShare, Step, VisitResult
from app.policy.schema import TILT_EXCESS, AboveLimit, AssistancePool, Treatment
from app.policy.state import BlockState, PoolState, YearState
from app.policy.tiers.common import COND_TEXT, Run, meets_all, meets_any, money_text, planned
from app.policy.tiers.income import income_test


def _need(i: int) -> str:
    """What a missing value is needed for, as a refusal names it."""
    return f"测算第 {i + 1} 次就诊的医疗救助"


def _pool_terms(run: Run, pool: AssistancePool, t: Treatment, day: date,
                i: int) -> tuple[Decimal | None, Decimal, Decimal | None, Decimal | None, str]:
    """A category's deductible, rate, annual limit and cost ceiling in a pool on `day`, and the clauses they cite."""
    need = _need(i)
    deductible, d_entry = run.value(t.deductible, day, need)
    rate, r_entry = run.value(t.rate, day, need)
    limit, l_entry = run.value(t.annual_limit, day, need)
    ceiling = run.value(t.cost_ceiling, day, need)[0] if t.cost_ceiling is not None else None
    return deductible, rate, limit, ceiling, "；".join(dict.fromkeys([r_entry.reference, d_entry.reference,
                                                                       l_entry.reference]))


def _block_terms(run: Run, blk: AboveLimit, day: date, i: int) -> tuple[Decimal | None, Decimal | None, Decimal,
                                                                         Decimal | None, str]:
    """An above-limit block's own rate, or its rise over the pool's rate and that rise's ceiling, and its limit (另计的
    限额 or 总限额) on `day`, with the clauses they cite."""
    need = _need(i)
    refs: list[str] = []
    own = rise = None
    ceiling = blocks.ONE
    if blk.rate is not None:
        own, e = run.value(blk.rate, day, need)
        refs.append(e.reference)
    elif blk.rate_uplift is not None:
        rise, e = run.value(blk.rate_uplift, day, need)
        ceiling = run.value(blk.max_rate, day, need)[0] if blk.max_rate is not None else blocks.ONE
        refs.append(e.reference)
    amount, e = run.value(blk.extra_limit if blk.extra_limit is not None else blk.total_limit, day, need)
    refs.append(e.reference)
    return own, rise, ceiling, amount, "；".join(dict.fromkeys(refs))


def _gate(run: Run, pi: int, pool: AssistancePool, t: Treatment, results: list[VisitResult],
          st: YearState) -> tuple[bool, str] | None:
    """For a tier paid only on application: whether this case opens it, and why; None for a tier paid as of right."""
    terms = t.on_application
    if terms is None:
        return None
    found = st.gates.get(pi)
    if found is not None:
        return found
    if not run.case.application:
        gate = (False, f"{run.cat}的{pool.name}须经申请、审核审批后给予（{terms.reference}），本案例未申请"
                       f"（application 为 false），不予计算")
    elif terms.income_test is None:
        gate = (True, f"{run.cat}已申请{pool.name}（{terms.reference}）")
    else:
        # The household is tested on the year's costs left after the insurance tiers, before any assistance.
        in_pool = [(v, r) for v, r in zip(run.case.visits, results) if v.kind in pool.kinds]
        compliant = sum((r.policy_covered - r.basic_paid - r.serious_illness_paid for _, r in in_pool), ZERO)
        self_paid = sum((r.total_cost - r.basic_paid - r.serious_illness_paid for _, r in in_pool), ZERO)
        passes, text = income_test(run, terms.income_test, compliant, self_paid, run.case.visits[-1].date,
                                   f"{run.cat}的{pool.name}")
        gate = (passes, f"{run.cat}已申请{pool.name}：{text}，{'符合' if passes else '不符合'}条件"
                        f"（{terms.income_test.reference}）")
    st.gates[pi] = gate
    return gate


def _share_parts(inc: Decimal, paid: Decimal, over_before: Decimal, over: Decimal, before_eligible: Decimal,
                 eligible: Decimal, rated_before: Decimal, rounded: Decimal) -> tuple[Decimal, Decimal]:
    """The visit's costs under the deductible, and above the limit: the costs over a cost ceiling, and what the rate
    gave but the annual limit did not pay (LazyShare)."""
    beyond_ceiling = (over - over_before) - (eligible - before_eligible)
    return inc - (over - over_before), beyond_ceiling + (rounded - rated_before) - paid


def settle_assistance(run: Run, found: tuple[int, AssistancePool, Treatment, tuple[tuple[int, AboveLimit], ...]],
                      v: Visit, i: int, st: YearState, r: VisitResult, results: list[VisitResult],
                      steps: list[Step] | None) -> None:
    """Add the category's assistance and any above-limit assistance for the visit to `r`; `found` is the pool
    covering the visit's kind with its index, the category's terms there (PolicyIndex.assisting) and the pool's
    above-limit blocks for the category and kind (applying_blocks)."""
    pi, pool, t, applying = found
    if pool.scope is not None and not meets_any(pool.scope.any_of, v):
        # Outside the tier's scope the visit's costs do not enter the pool at all: no deductible, no limit used.
        if steps is not None:
            conds = "、".join(COND_TEXT[c] for c in pool.scope.any_of)
            steps.append(Step("医疗救助", ZERO, pool.scope.reference,
                              f"{pool.name}只救助{conds}之一的就医费用，本次就医不属于其中任何一种，不予救助"))
        return
    gate = _gate(run, pi, pool, t, results, st) if t.on_application is not None else None
    if gate is not None and not gate[0]:
        if steps is not None:
            steps.append(Step("医疗救助", ZERO, t.on_application.reference, gate[1]))
        return
    ps = st.pools.get(pi)
    if ps is None:
        ps = st.pools[pi] = PoolState()
    span = st.pool_terms.get(pi)
    if span is None or not span[0] <= v.date < span[1]:
        span = st.pool_terms[pi] = run.held_span(("救助", pi, run.cat), v.date, _pool_terms, run, pool, t, v.date, i)
    terms = span[2]
    deductible, rate, limit, ceiling, ref = terms
    inc = v.policy_covered - r.basic_paid - r.serious_illness_paid
    last = ps.after
    if last is not None and last[0] is terms:
        # The previous visit left the base where it is and worked out its figures under the same terms (the usual
        # case: terms hold all year), so they are this visit's figures before it.
        _, over_before, before_eligible, rated_before, excess_before = last
    else:
        over_before = blocks.over_deductible(ps.base, deductible)
        before_eligible = blocks.capped(over_before, ceiling)
        product_before = before_eligible * rate
        rated_before = round_fen(product_before)
        excess_before = blocks.above_limit(before_eligible, limit, rate, product_before) if pool.above_limit else None
    ps.base += inc
    over = blocks.over_deductible(ps.base, deductible)
    eligible = blocks.capped(over, ceiling)
    product = eligible * rate
    rounded = round_fen(product)
    excess = blocks.above_limit(eligible, limit, rate, product) if pool.above_limit else None
    ps.after = (terms, over, eligible, rounded, excess)
    # round_fen(capped(product, limit)), rounding once where the limit does not bind
    cumulative = rounded if limit is None or product < limit else round_fen(limit)
    paid = blocks.due_now(cumulative, ps.paid, inc)
    paid_before = ps.paid
    ps.paid += paid
    r.assistance_paid += paid
    r.shares.append(LazyShare("医疗救助", inc, paid, _share_parts,
                              (over_before, over, before_eligible, eligible, rated_before, rounded)))
    if steps is not None:
        ded_text = f"{run.cat}不设起付线" if not deductible else f"{run.cat}年度起付线 {fmt(deductible)}"
        ceil_text = f"；{fmt(ceiling)} 元以内的费用" if ceiling is not None else ""
        tail = f"（{ded_text}{ceil_text}；年度限额 {money_text(limit)}，已用 {fmt(paid_before)}）"
        if ps.base == inc and not deductible and ceiling is None:
            text = f"政策范围内个人自付 {fmt(inc)} × {pct(rate)} = {fmt(eligible * rate)}"
            if cumulative != round_fen(eligible * rate):
                text += f"，受年度限额所限为 {fmt(paid)}"
        else:
            text = (f"本年累计政策范围内个人自付 {fmt(ps.base)}"
                    + (f" − 起付线 {fmt(deductible)}" if deductible else "")
                    + f"，计入 {fmt(eligible)} × {pct(rate)} = {fmt(eligible * rate)}"
                    + (f"，受年度限额所限为 {fmt(cumulative)}" if cumulative != round_fen(eligible * rate) else "")
                    + f"，扣除本年已救助 {fmt(paid_before)}，本次 {fmt(paid)}")
        if gate is not None and not paid_before:
            tail += f"；{gate[1]}"
        steps.append(Step("医疗救助", paid, ref, text + tail))
    if not applying:
        return
    d_excess = ZERO if excess is excess_before else blocks.exact_add(excess, -excess_before)  # both ZERO: the usual
    for bi, blk in applying:
        bs = ps.blocks.get(bi)
        if bs is None:
            bs = ps.blocks[bi] = BlockState()
        if not d_excess and not bs.qualifying_excess and blk.base.mode == TILT_EXCESS:
            continue  # nothing beyond the annual limit, before or now: the block pays and says nothing (the usual visit)
        qualifies = meets_all(blk.conditions, v)
        # The declared base: what the annual limit left unassisted, or all that basic assistance left self-paid.
        d_base = d_excess if blk.base.mode == TILT_EXCESS else max(inc - paid, ZERO)
        if qualifies:
            bs.qualifying_excess = blocks.exact_add(bs.qualifying_excess, d_base)
        room = inc - r.assistance_paid - r.tilt_assistance_paid
        _above_limit(run, st, blk, v, (pi, bi, i), rate, limit, bs, room, qualifies, d_base, r, steps)


def applying_blocks(pool: AssistancePool, cat: str, kind: str) -> tuple[tuple[int, AboveLimit], ...]:
    """The pool's above-limit blocks (with their index) that a visit of `kind` under `cat` can reach."""
    return tuple((bi, blk) for bi, blk in enumerate(pool.above_limit)
                 if cat in blk.categories and (blk.kinds is None or kind in blk.kinds))


def _base_text(blk: AboveLimit, amount: Decimal) -> str:
    """This visit's share of the block's base, in words: beyond the annual limit, or left after basic assistance."""
    if blk.base.mode == TILT_EXCESS:
        return f"本次有 {fmt(blocks.round_exact(amount))} 元合规费用超出年度救助限额"
    return f"本次基本救助后仍有 {fmt(amount)} 元政策范围内个人自付"


def _above_limit(run: Run, st: YearState, blk: AboveLimit, v: Visit, where: tuple[int, int, int], rate: Decimal,
                 limit: Decimal | None, bs: BlockState, room: Decimal, qualifies: bool, d_base: Decimal,
                 r: VisitResult, steps: list[Step] | None) -> None:
    if not bs.qualifying_excess:
        # Nothing above the limit qualifies yet: pay nothing, and need none of the block's local values.
        if steps is not None and d_base and not qualifies:
            conds = "、".join(COND_TEXT[c] for c in blk.conditions)
            rule = blk.extra_limit or blk.total_limit
            steps.append(Step(blk.counts_as, ZERO, rule.at(v.date)[0].reference,
                              f"{blk.name}：{_base_text(blk, d_base)}，"
                              f"但须{conds}才可享受，本次不予{blk.name}"))
        return
    pi, bi, i = where
    own, rise, ceiling, total, ref = planned(run, st, ("超限额", pi, bi), v.date, _block_terms, run, blk, v.date, i)
    blk_rate = own if own is not None else blocks.with_uplift(rate, rise, ceiling) if rise is not None else rate
    if blk.extra_limit is not None:
        blk_limit = total
    else:
        blk_limit = None if total is None else max(ZERO, total - (limit or ZERO))
    cumulative = blocks.round_exact(blocks.capped(blocks.exact_times(bs.qualifying_excess, blk_rate), blk_limit))
    paid = blocks.due_now(cumulative, bs.paid, max(room, ZERO))
    paid_before = bs.paid
    bs.paid += paid
    if blk.counts_as == "倾斜救助":
        r.tilt_assistance_paid += paid
    else:
        r.assistance_paid += paid
    if steps is None or not (paid or d_base):
        return
    if not qualifies:
        conds = "、".join(COND_TEXT[c] for c in blk.conditions)
        steps.append(Step(blk.counts_as, ZERO, ref,
                          f"{blk.name}：{_base_text(blk, d_base)}，但须{conds}才可享受，"
                          f"本次不予{blk.name}"))
        return
    uncapped = blocks.round_exact(blocks.exact_times(bs.qualifying_excess, blk_rate))
    if blk.extra_limit is not None:
        limit_text = f"{blk.name}年度限额 {money_text(blk_limit)}"
    else:
        limit_text = (f"与基本救助合计不超过 {money_text(total)}，基本救助限额 {money_text(limit)}，"
                      f"故{blk.name}最多 {money_text(blk_limit)}")
    scope = "超出年度救助限额后未获救助的合规费用" if blk.base.mode == TILT_EXCESS else "基本救助后剩余的政策范围内个人自付"
    text = (f"{blk.name}：{scope}本年累计 {fmt(blocks.round_exact(bs.qualifying_excess))} × "
            f"{pct(blk_rate)} = {fmt(uncapped)}")
    if cumulative != uncapped:
        text += f"，受{limit_text}所限为 {fmt(cumulative)}"
    else:
        text += f"（{limit_text}）"
    steps.append(Step(blk.counts_as, paid, ref,
                      text + f"；扣除本年已付 {fmt(paid_before)}，本次 {fmt(paid)}"))
