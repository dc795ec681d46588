"""Tier 1, 基本医保: the hospital's figure, or per-visit deductible × rate under the annual cap."""

from __future__ import annotations

from decimal import Decimal

from app.domain.case import CaseError, Visit
from app.domain.money import fmt, pct, round_fen
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import FIRST_TIER, Step, TierShare, VisitResult
from app.policy.state import YearState
from app.policy.tiers.common import COND_TEXT, Run, level_rule, meets_all, meets_any, money_text, planned
from app.policy.schema import BasicKindTerms, BasicSection, Policy, ReferralDeductible
from app.policy.values import Rule


def settle_basic(run: Run, v: Visit, i: int, st: YearState, steps: list[Step] | None,
                 shares: list[TierShare] | None = None, by_kind: bool = True) -> Decimal:
    """What basic insurance pays for a visit without the slip's figure (reported_basic takes that), with its split
    of what it left added to `shares`."""
    sec = run.policy.basic
    if sec is None:
        raise CaseError(f"visits[{i}].basic_paid", "本政策文件未规定基本医保待遇，请填写医院结算单上的基本医保统筹支付")
    if run.case.insurance not in sec.schemes:
        raise CaseError(f"visits[{i}].basic_paid", f"本政策只能测算{'、'.join(sec.schemes)}的基本医保，参保险种为"
                        f"{run.case.insurance}，请填写结算单上的基本医保统筹支付")
    terms = sec.terms(v.kind)
    if terms is None:
        raise CaseError(f"visits[{i}].basic_paid", f"本政策文件未规定{v.kind}的基本医保待遇，请填写结算单上的基本医保统筹支付")
    key = (v.kind, v.hospital_level, run.case.insurance)
    span = st.basic_terms.get(key)
    if span is None or not span[0] <= v.date < span[1]:
        span = st.basic_terms[key] = run.held_span(
            ("基本", v.kind, v.hospital_level, run.cat, run.case.insurance), v.date, _terms, run, terms, v, i)
    deductible, rate, r_ref, refs, notes = span[2]
    explain = steps is not None
    if explain:
        refs, notes = list(refs), list(notes)
    if sec.out_of_scope is not None and not meets_any(sec.out_of_scope.scope.any_of, v):
        cut, e = run.value(sec.out_of_scope.cut, v.date, _need(i, v))
        rate = rate - cut if rate > cut else ZERO
        if explain:
            conds = "、".join(COND_TEXT[c] for c in sec.out_of_scope.scope.any_of)
            notes.append(f"本次就医不属于{conds}之一，报销比例降低 {pct(cut)[:-1]} 个百分点为 {pct(rate)}")
            refs.append(e.reference)
    due = deductible
    ref_rule = sec.referral
    if v.kind == "住院" and v.referred:
        st.referred_admissions += 1
        if (ref_rule is not None and run.cat in ref_rule.categories
                and meets_all(ref_rule.conditions, v)
                and _applies(run, ref_rule, v, _need(i, v), notes if explain else None)):
            if ref_rule.mode == "逐次递减":
                step_v, _ = run.value(ref_rule.step, v.date, _need(i, v))
                floor_v, _ = run.value(ref_rule.floor, v.date, _need(i, v))
                due = blocks.tapered_deductible(deductible, st.referred_admissions, step_v, floor_v)
                if explain:
                    notes.append(f"规范转诊本年第 {st.referred_admissions} 次住院，起付线按首次 {fmt(deductible)} "
                                 f"递减为 {fmt(due)}（每次递减 {pct(step_v)}，最低 {pct(floor_v)}）")
            else:
                due = blocks.continued_deductible(deductible, st.chain_deductible)
                if explain:
                    notes.append(f"规范转诊起付线连续计算：本级起付线 {fmt(deductible)}，"
                                 f"转诊前各次住院已交 {fmt(st.chain_deductible)}，本次补足 {fmt(due)}")
            if explain:
                refs.append(ref_rule.reference)
    charged = due if due < v.policy_covered else v.policy_covered
    if v.kind == "住院":
        # A referral continues the chain of admissions; any other admission starts a new one.
        st.chain_deductible = (st.chain_deductible + charged) if v.referred else charged
    raw = round_fen(blocks.over_deductible(v.policy_covered, due) * rate)
    cap, cap_ref, kind_cap = planned(run, st, ("基本限额", v.kind), v.date, _caps, run, sec, terms, v, i)
    left = None if cap is None else max(ZERO, cap - st.basic_paid)
    kind_left = None if kind_cap is None else max(ZERO, kind_cap - st.basic_paid_by_kind.get(v.kind, ZERO))
    paid = blocks.capped(blocks.capped(raw, left), kind_left)
    if explain:
        text = (f"政策范围内费用 {fmt(v.policy_covered)} − 起付线 {fmt(due)} = "
                f"{fmt(blocks.over_deductible(v.policy_covered, due))}，× {pct(rate)} = {fmt(raw)}")
        if paid != raw:
            which = (f"{v.kind}年度限额 {fmt(kind_cap)}，本年{v.kind}已付 {fmt(st.basic_paid_by_kind.get(v.kind, ZERO))}"
                     if kind_left is not None and paid == kind_left and (left is None or kind_left <= left)
                     else f"年度限额 {money_text(cap)}，本年已付 {fmt(st.basic_paid)}")
            text += f"；受{which}所限，本次支付 {fmt(paid)}"
        else:
            text += f"（年度限额 {money_text(cap)}，本年已付 {fmt(st.basic_paid)}）"
        if notes:
            text += "；" + "；".join(notes)
        steps.append(Step("基本医保", paid, "；".join(dict.fromkeys([*refs, r_ref, cap_ref])), text))
    if shares is not None:
        shares.append(TierShare(FIRST_TIER, v.policy_covered, paid, charged, raw - paid))
    st.basic_paid += paid
    if by_kind:  # the kind's own figure is read only where the kind has its own cap (kind_capped)
        st.basic_paid_by_kind[v.kind] = st.basic_paid_by_kind.get(v.kind, ZERO) + paid
    return paid


def _need(i: int, v: Visit) -> str:
    """What a missing value is needed for, as a refusal names it."""
    return f"测算第 {i + 1} 次就诊（{v.kind}）的基本医保"


def _terms(run: Run, terms: BasicKindTerms, v: Visit, i: int) -> tuple[Decimal, Decimal, str, tuple[str, ...],
                                                                      tuple[str, ...]]:
    """The visit's deductible and rate — the category's own where an adjustment gives one, else its level's — raised
    for the category where the policy says so, with the clauses and notes they bring: the same for every visit of the
    kind, level, category and scheme while the values hold."""
    need = _need(i, v)
    sec = run.policy.basic
    adj = next((a for a in sec.adjustments if run.cat in a.categories and v.kind in a.kinds
                and (a.schemes is None or run.case.insurance in a.schemes)), None)
    notes: list[str] = []
    refs: list[str] = []
    if adj is not None and adj.deductible is not None:
        # The category's own deductible replaces the ordinary one (六盘水: 不设起付线，不限医院级别).
        deductible, d_entry = run.value(adj.deductible, v.date, need)
        notes.append(f"{run.cat}起付线 {fmt(deductible or ZERO)}")
    else:
        deductible, d_entry = run.value(level_rule(terms.deductible, v, i, need), v.date, need)
    refs.append(d_entry.reference)
    if adj is not None and adj.rate is not None:
        rate, r_entry = run.value(adj.rate, v.date, need)
    else:
        rate, r_entry = run.value(level_rule(terms.rate, v, i, need, "比例"), v.date, need)
    if adj is not None and adj.rate_uplift is not None:
        up, e = run.value(adj.rate_uplift, v.date, need)
        rate = blocks.with_uplift(rate, up)
        notes.append(f"{run.cat}比例提高 {pct(up)[:-1]} 个百分点")
        refs.append(e.reference)
    return deductible or ZERO, rate, r_entry.reference, tuple(refs), tuple(notes)


def _caps(run: Run, sec: BasicSection, terms: BasicKindTerms, v: Visit, i: int) -> tuple[Decimal | None, str,
                                                                                       Decimal | None]:
    """The year's cap, its clause, and the kind's own cap (None: none) for visits of the kind while they hold."""
    need = _need(i, v)
    cap, cap_entry = run.value(sec.annual_cap, v.date, need)
    kind_cap = run.value(terms.annual_cap, v.date, need)[0] if terms.annual_cap is not None else None
    return cap, cap_entry.reference, kind_cap


def _applies(run: Run, ref_rule: ReferralDeductible, v: Visit, need: str, notes: list[str] | None) -> bool:
    """Whether the county applies the referral rule (a document's “可以”); a county that does not is said so."""
    if ref_rule.applies is None:
        return True
    on, entry = run.value(ref_rule.applies, v.date, need)
    if not on and notes is not None:
        notes.append(f"规范转诊起付线{ref_rule.mode}为县里可选的政策（{entry.reference}），本县未执行，按本级起付线")
    return bool(on)


def kind_capped(policy: Policy, kind: str) -> bool:
    """Whether the policy caps 基本医保 for `kind` on its own (the year's figure by kind is then kept)."""
    terms = policy.basic.terms(kind) if policy.basic is not None else None
    return terms is not None and terms.annual_cap is not None


def reads_chain(policy: Policy, kind: str) -> bool:
    """Whether a slip's admission of `kind` continues the referral chain's deductible (only 连续计算 reads it:
    elsewhere the level deductible would be looked up for nothing)."""
    ref_rule = policy.basic.referral if policy.basic is not None else None
    return kind == "住院" and ref_rule is not None and ref_rule.mode == "连续计算"


def reported_basic(run: Run, plan: dict, slips: list[tuple[Visit, VisitResult]], st: YearState,
                   explain: bool) -> None:
    """Count the hospital's figures of visits a slip settled (each result's basic_paid is its slip's) toward the
    year's cap (and the kind's, where the plan says kind_capped) and the referral chain (where reads_chain), in the
    visits' order: the tallies a computed visit after them reads."""
    total = st.basic_paid
    for v, r in slips:
        paid = r.basic_paid
        total += paid
        _, _, _, by_kind, chain = plan[v.kind]
        if by_kind:
            st.basic_paid_by_kind[v.kind] = st.basic_paid_by_kind.get(v.kind, ZERO) + paid
        if v.kind == "住院":
            st.referred_admissions += v.referred
            level_deductible = _level_deductible(run, v, st) if chain else None
            if level_deductible is not None:
                # The slip does not say what deductible it took; along a chain the patient has paid up to the
                # highest level's deductible so far, and a new chain starts with this level's.
                charged = min(level_deductible, v.policy_covered)
                st.chain_deductible = max(st.chain_deductible, charged) if v.referred else charged
        if explain and paid:
            r.steps.append(Step("基本医保", paid, "医院一站式结算单", f"采用医院一站式结算单上的基本医保统筹支付 {fmt(paid)} 元"))
    st.basic_paid = total


def _level_deductible(run: Run, v: Visit, st: YearState) -> Decimal | None:
    """This admission's level deductible if the policy and the county's values give it; otherwise None."""
    sec = run.policy.basic
    terms = sec.terms("住院") if sec is not None else None
    if terms is None or (v.hospital_level is None and not isinstance(terms.deductible, Rule)):
        return None
    try:
        value = planned(run, st, ("转诊链", v.hospital_level), v.date, _chain_deductible, run, terms, v)
    except CaseError:
        return None
    return value or ZERO


def _chain_deductible(run: Run, terms: BasicKindTerms, v: Visit) -> Decimal | None:
    return run.value(level_rule(terms.deductible, v, 0, "referral chain"), v.date, "计算转诊起付线")[0]
