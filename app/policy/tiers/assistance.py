"""Tier 3, 医疗救助 by category in pools with a shared annual limit, and assistance above the limit (倾斜救助, 重特大疾病)."""

from __future__ import annotations

from decimal import Decimal

from app.domain.case import Visit
from app.domain.money import fmt, pct, round_fen
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import Step, VisitResult
from app.policy.schema import AboveLimit
from app.policy.state import BlockState, PoolState, YearState
from app.policy.tiers.common import COND_TEXT, Run, condition, money_text


def settle_assistance(run: Run, v: Visit, i: int, st: YearState, r: VisitResult,
                      steps: list[Step] | None) -> None:
    """Add the category's assistance and any above-limit assistance for the visit to `r`."""
    pi = run.index.pool_of_kind.get(v.kind)
    if pi is None:
        return
    pool = run.policy.assistance[pi]
    t = run.index.treatment.get((pi, run.cat))
    if t is None:
        return
    need = f"测算第 {i + 1} 次就诊的医疗救助"
    deductible, d_entry = run.value(t.deductible, v.date, need)
    rate, r_entry = run.value(t.rate, v.date, need)
    limit, l_entry = run.value(t.annual_limit, v.date, need)
    ceiling = run.value(t.cost_ceiling, v.date, need)[0] if t.cost_ceiling is not None else None
    ps = st.pools.get(pi)
    if ps is None:
        ps = st.pools[pi] = PoolState()
    inc = v.policy_covered - r.basic_paid - r.serious_illness_paid
    before_eligible = blocks.capped(blocks.over_deductible(ps.base, deductible), ceiling)
    ps.base += inc
    eligible = blocks.capped(blocks.over_deductible(ps.base, deductible), ceiling)
    cumulative = round_fen(blocks.capped(eligible * rate, limit))
    paid = min(max(cumulative - ps.paid, ZERO), inc)
    paid_before = ps.paid
    ps.paid += paid
    r.assistance_paid += paid
    if steps is not None:
        ded_text = f"{run.cat}不设起付线" if not deductible else f"{run.cat}年度起付线 {fmt(deductible)}"
        ceil_text = f"；{fmt(ceiling)} 元以内的费用" if ceiling is not None else ""
        tail = f"（{ded_text}{ceil_text}；年度限额 {money_text(limit)}，已用 {fmt(paid_before)}）"
        ref = "；".join(dict.fromkeys([r_entry.reference, d_entry.reference, l_entry.reference]))
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
        steps.append(Step("医疗救助", paid, ref, text + tail))
    if not pool.above_limit:
        return
    exhaust = blocks.limit_cost(limit, rate)
    d_excess = blocks.above_limit(eligible, exhaust) - blocks.above_limit(before_eligible, exhaust)
    for bi, blk in enumerate(pool.above_limit):
        if run.cat not in blk.categories or (blk.kinds is not None and v.kind not in blk.kinds):
            continue
        bs = ps.blocks.get(bi)
        if bs is None:
            bs = ps.blocks[bi] = BlockState()
        qualifies = all(condition(c, v) for c in blk.conditions)
        if qualifies:
            bs.qualifying_excess += d_excess
        room = inc - r.assistance_paid - r.tilt_assistance_paid
        _above_limit(run, blk, v, need, rate, limit, bs, room, qualifies, d_excess, r, steps)


def _above_limit(run: Run, blk: AboveLimit, v: Visit, need: str, rate: Decimal, limit: Decimal | None,
                 bs: BlockState, room: Decimal, qualifies: bool, d_excess: Decimal, r: VisitResult,
                 steps: list[Step] | None) -> None:
    if not bs.qualifying_excess:
        # Nothing above the limit qualifies yet: pay nothing, and need none of the block's local values.
        if steps is not None and d_excess and not qualifies:
            conds = "、".join(COND_TEXT[c] for c in blk.conditions)
            rule = blk.extra_limit or blk.total_limit
            steps.append(Step(blk.counts_as, ZERO, rule.at(v.date)[0].reference,
                              f"{blk.name}：本次有 {fmt(d_excess)} 元合规费用超出年度救助限额，"
                              f"但须{conds}才可享受，本次不予{blk.name}"))
        return
    refs: list[str] = []
    if blk.rate is not None:
        blk_rate, e = run.value(blk.rate, v.date, need)
        refs.append(e.reference)
    elif blk.rate_uplift is not None:
        up, e = run.value(blk.rate_uplift, v.date, need)
        ceiling = run.value(blk.max_rate, v.date, need)[0] if blk.max_rate is not None else blocks.ONE
        blk_rate = blocks.with_uplift(rate, up, ceiling)
        refs.append(e.reference)
    else:
        blk_rate = rate
    if blk.extra_limit is not None:
        blk_limit, e = run.value(blk.extra_limit, v.date, need)
    else:
        total, e = run.value(blk.total_limit, v.date, need)
        blk_limit = None if total is None else max(ZERO, total - (limit or ZERO))
    refs.append(e.reference)
    cumulative = round_fen(blocks.capped(bs.qualifying_excess * blk_rate, blk_limit))
    paid = min(max(cumulative - bs.paid, ZERO), max(room, ZERO))
    paid_before = bs.paid
    bs.paid += paid
    if blk.counts_as == "倾斜救助":
        r.tilt_assistance_paid += paid
    else:
        r.assistance_paid += paid
    if steps is None or not (paid or d_excess):
        return
    if not qualifies:
        conds = "、".join(COND_TEXT[c] for c in blk.conditions)
        steps.append(Step(blk.counts_as, ZERO, "；".join(dict.fromkeys(refs)),
                          f"{blk.name}：本次有 {fmt(d_excess)} 元合规费用超出年度救助限额，但须{conds}才可享受，"
                          f"本次不予{blk.name}"))
        return
    uncapped = round_fen(bs.qualifying_excess * blk_rate)
    if blk.extra_limit is not None:
        limit_text = f"{blk.name}年度限额 {money_text(blk_limit)}"
    else:
        limit_text = (f"与基本救助合计不超过 {money_text(total)}，基本救助限额 {money_text(limit)}，"
                      f"故{blk.name}最多 {money_text(blk_limit)}")
    text = (f"{blk.name}：超出年度救助限额后未获救助的合规费用本年累计 {fmt(bs.qualifying_excess)} × "
            f"{pct(blk_rate)} = {fmt(uncapped)}")
    if cumulative != uncapped:
        text += f"，受{limit_text}所限为 {fmt(cumulative)}"
    else:
        text += f"（{limit_text}）"
    steps.append(Step(blk.counts_as, paid, "；".join(dict.fromkeys(refs)),
                      text + f"；扣除本年已付 {fmt(paid_before)}，本次 {fmt(paid)}"))
