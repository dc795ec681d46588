"""The settlement engine: a person's year under one policy, tier by tier, every amount with its clause.

Each visit is settled in date order. Annual rules (deductibles per year, limits, bands) are applied
to the year's cumulative figures and the visit receives the cumulative result minus what earlier
visits already received — the 结算程序 of 六盘水民发〔2017〕84号 三(六): 按次结算，年度累计再算并扣减已付.
That makes the year's totals independent of how the same costs are split into visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.case import Case, CaseError, Visit
from app.domain.money import fmt, pct, round_fen
from app.domain.names import CANONICAL_CATEGORIES, ORDINARY
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.loader import LoadedPolicy
from app.policy.result import SettleResult, Step, VisitResult, Warning
from app.policy.schema import AboveLimit, AssistancePool, ByLevel, Treatment
from app.policy.values import NONE_WORDS, Rule

UNIVERSAL_LOCAL = "per_capita_disposable_income"
_COND_TEXT = {"规范转诊": "规范转诊", "省内就医": "省内就医", "重特大疾病": "重特大疾病病种"}


def _money_text(value: Decimal | None) -> str:
    return "不设" if value is None else fmt(value)


@dataclass(slots=True)
class _BlockState:
    qualifying_excess: Decimal = ZERO
    paid: Decimal = ZERO


@dataclass(slots=True)
class _PoolState:
    base: Decimal = ZERO
    paid: Decimal = ZERO
    blocks: dict[int, _BlockState] = field(default_factory=dict)


@dataclass(slots=True)
class _YearState:
    basic_paid: Decimal = ZERO
    basic_paid_by_kind: dict[str, Decimal] = field(default_factory=dict)
    referred_admissions: int = 0
    chain_deductible: Decimal = ZERO
    serious_base: Decimal = ZERO
    serious_paid: Decimal = ZERO
    pools: dict[int, _PoolState] = field(default_factory=dict)
    secondary_base: Decimal = ZERO
    secondary_paid: Decimal = ZERO


class Engine:
    """Settles cases under one loaded policy with one county's local parameters."""

    def __init__(self, loaded: LoadedPolicy, local: dict[str, Any] | None = None):
        self.loaded = loaded
        self.policy = loaded.policy
        self.local = self._check_local(local or {})
        self._cache: dict[tuple[int, date], tuple[Any, Any]] = {}
        p = self.policy
        self._canonical: dict[str, str] = {}
        self._rank: dict[str, int] = {}
        for i, decl in enumerate(p.categories):
            self._rank[decl.name] = i
            for name in (decl.name, *decl.aliases):
                self._canonical[name] = decl.name
        self._pool_of_kind: dict[str, int] = {}
        self._treatment: dict[tuple[int, str], Treatment] = {}
        for pi, pool in enumerate(p.assistance):
            for kind in pool.kinds:
                if kind in self._pool_of_kind:
                    raise CaseError(f"医疗救助：{kind}同时属于两个救助池，政策文件有误")
                self._pool_of_kind[kind] = pi
            for t in pool.treatments:
                for c in t.categories:
                    self._treatment[(pi, c)] = t
        self._assisted = {c for (_, c) in self._treatment}

    # ----- local parameters and dated values -------------------------------------------------

    def _check_local(self, raw: dict[str, Any]) -> dict[str, Decimal | None]:
        declared = self.policy.locals
        out: dict[str, Decimal | None] = {}
        for key, value in raw.items():
            param = declared.get(key)
            if param is None and key != UNIVERSAL_LOCAL:
                known = "、".join(declared) or "（本政策没有地方参数）"
                raise CaseError(f"local.{key}：本政策没有这个地方参数，可用的有：{known}")
            label = param.label if param else "上年度居民人均可支配收入"
            unit = param.unit if param else "元"
            out[key] = self._parse_local(key, value, label, unit, param)
        return out

    @staticmethod
    def _parse_local(key: str, value: Any, label: str, unit: str, param: Any) -> Decimal | None:
        where = f"local.{key}"
        if isinstance(value, str) and value.strip() in NONE_WORDS:
            if param is not None and param.allow_none:
                return None
            raise CaseError(f"{where}：{label}不能写“不设”，请填写{unit}数值")
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise CaseError(f"{where}：{label}应为数值字符串，例如 \"30000\"")
        text = str(value).strip()
        percent = text.endswith("%")
        try:
            number = Decimal(text.rstrip("%").strip()) if not isinstance(value, float) else Decimal(repr(value))
        except InvalidOperation:
            raise CaseError(f"{where}：{label}“{value}”不是数值") from None
        if not number.is_finite() or number < 0:
            raise CaseError(f"{where}：{label}不能为负数或非数值（填写的是 {value}）")
        if unit == "元":
            if percent:
                raise CaseError(f"{where}：{label}单位是元，请填写金额而不是百分数")
            if number.as_tuple().exponent < -2:
                raise CaseError(f"{where}：{label}最多两位小数（到分）")
        else:
            if percent:
                number = number / 100
            if number > 1:
                raise CaseError(f"{where}：{label}是比例，请写成 \"70%\" 或 0.7（不能超过 100%）")
        if param is not None:
            if param.minimum is not None and number < param.minimum:
                raise CaseError(f"{where}：{label}不能低于 {param.minimum}（{param.reference}）")
            if param.maximum is not None and number > param.maximum:
                raise CaseError(f"{where}：{label}不能高于 {param.maximum}（{param.reference}）")
        return number

    def _local_value(self, key: str, needed_for: str) -> Decimal | None:
        if key in self.local:
            return self.local[key]
        param = self.policy.locals.get(key)
        label = param.label if param else "上年度居民人均可支配收入"
        unit = param.unit if param else "元"
        raise CaseError(f"local.{key}：{needed_for}需要地方参数“{label}”（{unit}），本政策文件把它留给县里确定；"
                        f"请在 local 中填写（python -m app policy show {self.policy.id} 可查看说明）")

    def value(self, rule: Rule, day: date, needed_for: str) -> tuple[Any, Any]:
        """The value of `rule` in force on `day`, and its entry (for the reference); locals resolved."""
        key = (id(rule), day)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = rule.at(day)
        if found is None:
            first = rule.entries()[0][0]
            raise CaseError(f"visits.date：{day} 早于本政策规则最早生效日期 {first}（{needed_for}），请选用当时有效的政策")
        entry, parsed = found
        if entry.local is not None:
            result = (self._local_value(entry.local, needed_for), entry)
        elif entry.base is not None:
            base = self._local_value(entry.base, needed_for)
            result = (round_fen(parsed * base) if base is not None else None, entry)
        else:
            result = (parsed, entry)
        self._cache[key] = result
        return result

    # ----- categories -----------------------------------------------------------------------

    def candidates(self, categories: tuple[str, ...], notes: list[str] | None) -> list[str]:
        """The person's categories as this policy names them, in its order of precedence."""
        found: list[str] = []
        for name in categories:
            if name in self._canonical:
                found.append(self._canonical[name])
            elif name in CANONICAL_CATEGORIES:
                if notes is not None:
                    notes.append(f"本政策未对“{name}”规定专门待遇，按{ORDINARY}计算。")
                found.append(ORDINARY)
            else:
                known = "、".join(self._canonical)
                raise CaseError(f"person.categories：“{name}”不是本政策认可的类别，可用的有：{known}")
        unique = sorted(set(found) or {ORDINARY}, key=lambda c: self._rank.get(c, len(self._rank)))
        return unique

    # ----- settlement -----------------------------------------------------------------------

    def settle(self, case: Case, explain: bool = True) -> SettleResult:
        """Settle a case; with several categories, the one that pays the most applies (就高不就低)."""
        if case.policy != self.policy.id:
            raise CaseError(f"policy：本引擎加载的是 {self.policy.id}，案例写的是 {case.policy}")
        for i, v in enumerate(case.visits):
            if v.date < self.policy.effective:
                raise CaseError(f"visits[{i}].date：{v.date} 早于本政策施行日期 {self.policy.effective}，请选用当时有效的政策")
        notes: list[str] | None = [] if explain else None
        cands = self.candidates(case.categories, notes)
        best: SettleResult | None = None
        tried: list[tuple[str, Decimal]] = []
        for cat in cands:
            result = self._settle_as(case, cat, explain)
            tried.append((cat, result.total_paid))
            if best is None or result.total_paid > best.total_paid:
                best = result
        assert best is not None
        if explain and len(tried) > 1:
            others = "，".join(f"按{c}合计 {fmt(t)} 元" for c, t in tried)
            best.notes.insert(0, f"同时具有多重身份（{others}），按就高不就低原则只适用一个类别：{best.applied_category}。")
        if notes:
            best.notes.extend(n for n in notes if n not in best.notes)
        if explain:
            best.premium_subsidy = self.premium_subsidy(cands, case)
        return best

    def _settle_as(self, case: Case, cat: str, explain: bool) -> SettleResult:
        st = _YearState()
        results: list[VisitResult] = []
        for i, v in enumerate(case.visits):
            r = VisitResult(v.id, v.total_cost, v.policy_covered)
            steps = r.steps if explain else None
            r.basic_paid = self._basic(case, v, i, cat, st, steps)
            r.serious_illness_paid = self._serious(case, v, i, cat, st, r.basic_paid, steps)
            self._assistance(v, i, cat, st, r, steps)
            self._secondary(v, i, cat, st, r, steps)
            results.append(r)
        out = SettleResult(self.policy.id, self.loaded.version, cat, results)
        self._application(case, cat, out, explain)
        self._re_assistance(case, cat, out, explain)
        self._warnings(case, cat, out)
        return out

    # ----- tier 1: 基本医保 ----------------------------------------------------------------

    def _basic(self, case: Case, v: Visit, i: int, cat: str, st: _YearState, steps: list[Step] | None) -> Decimal:
        if v.basic_paid is not None:
            paid = v.basic_paid
            if steps is not None and paid:
                steps.append(Step("基本医保", paid, "医院一站式结算单",
                                  f"采用医院一站式结算单上的基本医保统筹支付 {fmt(paid)} 元"))
            if v.kind == "住院":
                st.referred_admissions += v.referred
            return paid
        where = f"visits[{i}].basic_paid"
        sec = self.policy.basic
        if sec is None:
            raise CaseError(f"{where}：本政策文件未规定基本医保待遇，请填写医院结算单上的基本医保统筹支付")
        if case.insurance not in sec.schemes:
            raise CaseError(f"{where}：本政策只能测算{'、'.join(sec.schemes)}的基本医保，参保险种为{case.insurance}，"
                            f"请填写结算单上的基本医保统筹支付")
        terms = sec.terms(v.kind)
        if terms is None:
            raise CaseError(f"{where}：本政策文件未规定{v.kind}的基本医保待遇，请填写结算单上的基本医保统筹支付")
        need = f"测算第 {i + 1} 次就诊（{v.kind}）的基本医保"
        adj = next((a for a in sec.adjustments if cat in a.categories and v.kind in a.kinds
                    and (a.schemes is None or case.insurance in a.schemes)), None)
        notes: list[str] = []
        refs: list[str] = []
        if adj is not None and adj.deductible is not None:
            # The category's own deductible replaces the ordinary one (六盘水: 不设起付线，不限医院级别).
            deductible, d_entry = self.value(adj.deductible, v.date, need)
            notes.append(f"{cat}起付线 {fmt(deductible or ZERO)}")
        else:
            deductible, d_entry = self.value(self._level_rule(terms.deductible, v, i, need), v.date, need)
        refs.append(d_entry.reference)
        deductible = deductible or ZERO
        if adj is not None and adj.rate is not None:
            rate, r_entry = self.value(adj.rate, v.date, need)
        else:
            rate, r_entry = self.value(terms.rate, v.date, need)
        if adj is not None and adj.rate_uplift is not None:
            up, e = self.value(adj.rate_uplift, v.date, need)
            rate = blocks.with_uplift(rate, up)
            notes.append(f"{cat}比例提高 {pct(up)[:-1]} 个百分点")
            refs.append(e.reference)
        due = deductible
        ref_rule = sec.referral
        if v.kind == "住院" and v.referred:
            st.referred_admissions += 1
            if (ref_rule is not None and cat in ref_rule.categories
                    and all(self._condition(c, v) for c in ref_rule.conditions)):
                refs.append(ref_rule.reference)
                if ref_rule.mode == "逐次递减":
                    step_v, _ = self.value(ref_rule.step, v.date, need)
                    floor_v, _ = self.value(ref_rule.floor, v.date, need)
                    due = blocks.tapered_deductible(deductible, st.referred_admissions, step_v, floor_v)
                    notes.append(f"规范转诊本年第 {st.referred_admissions} 次住院，起付线按首次 {fmt(deductible)} "
                                 f"递减为 {fmt(due)}（每次递减 {pct(step_v)}，最低 {pct(floor_v)}）")
                else:
                    due = blocks.continued_deductible(deductible, st.chain_deductible)
                    notes.append(f"规范转诊起付线连续计算：本级起付线 {fmt(deductible)}，"
                                 f"转诊前各次住院已交 {fmt(st.chain_deductible)}，本次补足 {fmt(due)}")
        charged = due if due < v.policy_covered else v.policy_covered
        if v.kind == "住院":
            # A referral continues the chain of admissions; any other admission starts a new one.
            st.chain_deductible = (st.chain_deductible + charged) if v.referred else charged
        raw = round_fen(blocks.over_deductible(v.policy_covered, due) * rate)
        cap, cap_entry = self.value(sec.annual_cap, v.date, need)
        left = None if cap is None else max(ZERO, cap - st.basic_paid)
        kind_left = None
        if terms.annual_cap is not None:
            kind_cap, _ = self.value(terms.annual_cap, v.date, need)
            if kind_cap is not None:
                kind_left = max(ZERO, kind_cap - st.basic_paid_by_kind.get(v.kind, ZERO))
        paid = blocks.capped(blocks.capped(raw, left), kind_left)
        st.basic_paid += paid
        st.basic_paid_by_kind[v.kind] = st.basic_paid_by_kind.get(v.kind, ZERO) + paid
        if steps is not None:
            extra = "；".join(notes)
            steps.append(Step("基本医保", paid, "；".join(dict.fromkeys([*refs, r_entry.reference, cap_entry.reference])),
                              f"政策范围内费用 {fmt(v.policy_covered)} − 起付线 {fmt(due)} = "
                              f"{fmt(blocks.over_deductible(v.policy_covered, due))}，× {pct(rate)} = {fmt(raw)}"
                              f"（年度限额 {_money_text(cap)}，本年已付 {fmt(st.basic_paid - paid)}）"
                              + (f"；{extra}" if extra else "")))
        return paid

    @staticmethod
    def _level_rule(rule: Rule | ByLevel, v: Visit, i: int, need: str) -> Rule:
        if not isinstance(rule, ByLevel):
            return rule
        if v.hospital_level is None:
            raise CaseError(f"visits[{i}].hospital_level：{need}起付线要按医院级别，请填写 基层、县级、市级 或 省级")
        found = rule.levels.get(v.hospital_level)
        if found is None:
            raise CaseError(f"visits[{i}].hospital_level：本政策未规定{v.hospital_level}医院{v.kind}的起付线，请填写 basic_paid")
        return found

    @staticmethod
    def _condition(cond: str, v: Visit) -> bool:
        if cond == "规范转诊":
            return v.referred
        if cond == "省内就医":
            return v.in_province
        return v.major_disease

    # ----- tier 2: 大病保险 ----------------------------------------------------------------

    def _serious(self, case: Case, v: Visit, i: int, cat: str, st: _YearState, basic: Decimal,
                 steps: list[Step] | None) -> Decimal:
        sec = self.policy.serious
        counted = sec is not None and v.kind in sec.kinds
        inc = v.policy_covered - basic if counted else ZERO
        if v.serious_illness_paid is not None:
            paid = v.serious_illness_paid
            st.serious_base += inc
            st.serious_paid += paid
            if steps is not None and paid:
                steps.append(Step("大病保险", paid, "医院一站式结算单",
                                  f"采用医院一站式结算单上的大病保险支付 {fmt(paid)} 元"))
            return paid
        where = f"visits[{i}].serious_illness_paid"
        if sec is None:
            raise CaseError(f"{where}：本政策文件未规定大病保险待遇，请填写医院结算单上的大病保险支付")
        if not counted:
            return ZERO
        if case.insurance not in sec.schemes:
            raise CaseError(f"{where}：本政策只能测算{'、'.join(sec.schemes)}的大病保险，参保险种为{case.insurance}，"
                            f"请填写结算单上的大病保险支付")
        need = f"测算第 {i + 1} 次就诊的大病保险"
        adj = next((a for a in sec.adjustments
                    if cat in a.categories and (a.schemes is None or case.insurance in a.schemes)), None)
        refs: list[str] = []
        notes: list[str] = []
        uplift = ZERO
        if adj is not None and adj.deductible is not None:
            deductible, e = self.value(adj.deductible, v.date, need)
            notes.append(f"{cat}起付线 {_money_text(deductible)}")
        else:
            deductible, e = self.value(sec.deductible, v.date, need)
            if adj is not None and adj.deductible_cut is not None:
                refs.append(e.reference)
                cut, e = self.value(adj.deductible_cut, v.date, need)
                before = deductible or ZERO
                deductible = round_fen(before * (1 - cut))
                notes.append(f"{cat}起付线降低 {pct(cut)}：{fmt(before)} → {fmt(deductible)}")
        refs.append(e.reference)
        rate, e = self.value(adj.rate if adj is not None and adj.rate is not None else sec.rate, v.date, need)
        refs.append(e.reference)
        if adj is not None and adj.rate_uplift is not None:
            uplift, e = self.value(adj.rate_uplift, v.date, need)
            refs.append(e.reference)
            notes.append(f"{cat}报销比例提高 {pct(uplift)[:-1]} 个百分点")
        cap, e = self.value(adj.cap if adj is not None and adj.cap is not None else sec.cap, v.date, need)
        refs.append(e.reference)
        if adj is not None and adj.cap is not None:
            notes.append(f"{cat}封顶线 {_money_text(cap)}")
        st.serious_base += inc
        over = blocks.over_deductible(st.serious_base, deductible)
        cumulative = round_fen(blocks.capped(blocks.rate_times(over, rate, uplift), cap))
        paid = min(max(cumulative - st.serious_paid, ZERO), inc)
        if steps is not None and (paid or st.serious_base):
            steps.append(Step("大病保险", paid, "；".join(dict.fromkeys(refs)),
                              f"本年累计基本医保后政策范围内个人自付 {fmt(st.serious_base)} − 起付线 "
                              f"{_money_text(deductible)} = {fmt(over)}，{self._rate_text(rate, uplift, over)} = "
                              f"{fmt(cumulative)}（封顶线 {_money_text(cap)}），扣除本年已付 {fmt(st.serious_paid)}，"
                              f"本次 {fmt(paid)}" + (f"；{'；'.join(notes)}" if notes else "")))
        st.serious_paid += paid
        return paid

    @staticmethod
    def _rate_text(rate: Any, uplift: Decimal, amount: Decimal) -> str:
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

    # ----- tier 3: 医疗救助, with 倾斜救助 and other above-limit assistance ------------------

    def _assistance(self, v: Visit, i: int, cat: str, st: _YearState, r: VisitResult,
                    steps: list[Step] | None) -> None:
        pi = self._pool_of_kind.get(v.kind)
        if pi is None:
            return
        pool = self.policy.assistance[pi]
        t = self._treatment.get((pi, cat))
        if t is None:
            return
        need = f"测算第 {i + 1} 次就诊的医疗救助"
        deductible, d_entry = self.value(t.deductible, v.date, need)
        rate, r_entry = self.value(t.rate, v.date, need)
        limit, l_entry = self.value(t.annual_limit, v.date, need)
        ceiling = self.value(t.cost_ceiling, v.date, need)[0] if t.cost_ceiling is not None else None
        ps = st.pools.get(pi)
        if ps is None:
            ps = st.pools[pi] = _PoolState()
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
            ded_text = f"{cat}不设起付线" if not deductible else f"{cat}年度起付线 {fmt(deductible)}"
            ceil_text = f"；{fmt(ceiling)} 元以内的费用" if ceiling is not None else ""
            tail = f"（{ded_text}{ceil_text}；年度限额 {_money_text(limit)}，已用 {fmt(paid_before)}）"
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
            if cat not in blk.categories or (blk.kinds is not None and v.kind not in blk.kinds):
                continue
            bs = ps.blocks.get(bi)
            if bs is None:
                bs = ps.blocks[bi] = _BlockState()
            qualifies = all(self._condition(c, v) for c in blk.conditions)
            if qualifies:
                bs.qualifying_excess += d_excess
            room = inc - r.assistance_paid - r.tilt_assistance_paid
            self._above_limit(blk, v, need, rate, limit, bs, room, qualifies, d_excess, r, steps)

    def _above_limit(self, blk: AboveLimit, v: Visit, need: str, rate: Decimal, limit: Decimal | None,
                     bs: _BlockState, room: Decimal, qualifies: bool, d_excess: Decimal, r: VisitResult,
                     steps: list[Step] | None) -> None:
        if not bs.qualifying_excess:
            # Nothing above the limit qualifies yet: pay nothing, and need none of the block's local values.
            if steps is not None and d_excess and not qualifies:
                conds = "、".join(_COND_TEXT[c] for c in blk.conditions)
                rule = blk.extra_limit or blk.total_limit
                steps.append(Step(blk.counts_as, ZERO, rule.at(v.date)[0].reference,
                                  f"{blk.name}：本次有 {fmt(d_excess)} 元合规费用超出年度救助限额，"
                                  f"但须{conds}才可享受，本次不予{blk.name}"))
            return
        refs: list[str] = []
        if blk.rate is not None:
            blk_rate, e = self.value(blk.rate, v.date, need)
            refs.append(e.reference)
        elif blk.rate_uplift is not None:
            up, e = self.value(blk.rate_uplift, v.date, need)
            ceiling = self.value(blk.max_rate, v.date, need)[0] if blk.max_rate is not None else blocks.ONE
            blk_rate = blocks.with_uplift(rate, up, ceiling)
            refs.append(e.reference)
        else:
            blk_rate = rate
        if blk.extra_limit is not None:
            blk_limit, e = self.value(blk.extra_limit, v.date, need)
        else:
            total, e = self.value(blk.total_limit, v.date, need)
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
            conds = "、".join(_COND_TEXT[c] for c in blk.conditions)
            steps.append(Step(blk.counts_as, ZERO, "；".join(refs),
                              f"{blk.name}：本次有 {fmt(d_excess)} 元合规费用超出年度救助限额，但须{conds}才可享受，"
                              f"本次不予{blk.name}"))
            return
        steps.append(Step(blk.counts_as, paid, "；".join(dict.fromkeys(refs)),
                          f"{blk.name}：超出年度救助限额后未获救助的合规费用本年累计 {fmt(bs.qualifying_excess)} × "
                          f"{pct(blk_rate)} = {fmt(bs.qualifying_excess * blk_rate)}（{blk.name}限额 "
                          f"{_money_text(blk_limit)}，已付 {fmt(paid_before)}），本次 {fmt(paid)}"))

    # ----- 湛江 二次救助 -------------------------------------------------------------------

    def _secondary(self, v: Visit, i: int, cat: str, st: _YearState, r: VisitResult,
                   steps: list[Step] | None) -> None:
        sec = self.policy.secondary
        if sec is None or cat not in sec.categories or v.kind not in sec.kinds:
            return
        if not all(self._condition(c, v) for c in sec.conditions):
            return
        need = f"测算第 {i + 1} 次就诊的{sec.name}"
        deductible, d_entry = self.value(sec.deductible, v.date, need)
        rate, r_entry = self.value(sec.rate, v.date, need)
        limit, l_entry = self.value(sec.annual_limit, v.date, need)
        inc = r.compliant_self_pay + (v.out_of_catalog if sec.include_out_of_catalog else ZERO)
        st.secondary_base += inc
        over = blocks.over_deductible(st.secondary_base, deductible)
        cumulative = round_fen(blocks.capped(over * rate, limit))
        paid = min(max(cumulative - st.secondary_paid, ZERO), inc)
        if steps is not None:
            scope = "个人自负合规费用和自费费用" if sec.include_out_of_catalog else "个人自负合规费用"
            steps.append(Step("倾斜救助", paid, "；".join(dict.fromkeys([r_entry.reference, d_entry.reference, l_entry.reference])),
                              f"{sec.name}：本年累计三重制度后{scope} {fmt(st.secondary_base)} − 起付线 "
                              f"{_money_text(deductible)} = {fmt(over)} × {pct(rate)} = {fmt(over * rate)}"
                              f"（年度限额 {_money_text(limit)}，已付 {fmt(st.secondary_paid)}），本次 {fmt(paid)}"))
        st.secondary_paid += paid
        r.tilt_assistance_paid += paid

    # ----- annual: 依申请救助, 再救助, 监测预警 -------------------------------------------

    @staticmethod
    def _sum(results: list[VisitResult], case: Case, kinds: list[str], attr: str) -> Decimal:
        return sum((getattr(r, attr) for r, v in zip(results, case.visits) if v.kind in kinds), ZERO)

    def _application(self, case: Case, cat: str, out: SettleResult, explain: bool) -> None:
        if not case.application:
            return
        sec = self.policy.application
        if sec is None:
            out.warnings.append(Warning("application_not_defined",
                                        f"本政策（{self.policy.document}）未规定依申请救助的待遇标准，未计算依申请救助。"))
            return
        if cat in self._assisted:
            out.warnings.append(Warning("application_not_applicable",
                                        f"申请人属于{cat}，已按类别享受医疗救助，不再另行计算依申请救助。"))
            return
        day = case.visits[-1].date
        need = "测算依申请救助"
        hh = case.household
        test = sec.income_test
        income = self._household(hh.annual_income, "household.annual_income", "家庭年度总收入")
        compliant = self._sum(out.visits, case, sec.kinds, "compliant_self_pay")
        self_paid = self._sum(out.visits, case, sec.kinds, "personal_pay")
        if test.mode == "收入减自付低于低收入标准":
            standard = self._household(hh.low_income_standard, "household.low_income_standard", "农村低收入家庭标准")
            passes = income - self_paid < standard
            test_text = (f"家庭年度总收入 {fmt(income)} − 个人自付医疗总费用 {fmt(self_paid)} = {fmt(income - self_paid)}，"
                         f"{'低于' if passes else '不低于'}低收入家庭标准 {fmt(standard)}")
        else:
            share, _ = self.value(test.share, day, need)
            passes = compliant > income * share
            test_text = (f"个人自付合规医疗费 {fmt(compliant)} {'超过' if passes else '未超过'}家庭收入 {fmt(income)} 的 "
                         f"{pct(share)}（{fmt(income * share)}）")
        if test.asset_check:
            if hh.passes_asset_check is None:
                raise CaseError("household.passes_asset_check：依申请救助须经财产核查，请填写 true 或 false（民政认定结果）")
            if not hh.passes_asset_check:
                passes = False
                test_text += "；不符合低收入家庭财产核查条件"
        if not passes:
            if explain:
                out.annual_steps.append(Step("依申请救助", ZERO, test.reference, f"不符合依申请救助条件：{test_text}"))
            return
        deductible, d_entry = self.value(sec.deductible, day, need)
        rate, r_entry = self.value(sec.rate, day, need)
        limit, l_entry = self.value(sec.annual_limit, day, need)
        over = blocks.over_deductible(compliant, deductible)
        paid = min(round_fen(blocks.capped(over * rate, limit)), compliant)
        out.application_assistance_paid = paid
        if explain:
            out.annual_steps.append(Step("依申请救助", paid, "；".join(dict.fromkeys([test.reference, r_entry.reference])),
                                         f"{test_text}，符合条件；本年个人自付合规医疗费用 {fmt(compliant)} − 起付线 "
                                         f"{_money_text(deductible)} = {fmt(over)} × {pct(rate)} = {fmt(over * rate)}"
                                         f"（年度限额 {_money_text(limit)}）"))

    @staticmethod
    def _household(value: Decimal | None, where: str, label: str) -> Decimal:
        if value is None:
            raise CaseError(f"{where}：依申请救助需要{label}，请填写（元）")
        return value

    def _re_assistance(self, case: Case, cat: str, out: SettleResult, explain: bool) -> None:
        sec = self.policy.re_assistance
        if sec is None:
            return
        day = case.visits[-1].date
        need = "测算再救助"
        burden = self._sum(out.visits, case, sec.kinds, "compliant_self_pay") - out.application_assistance_paid
        if not case.application:
            try:
                threshold, t_entry = self.value(sec.threshold, day, need)
            except CaseError:
                return  # only a hint; the threshold's local value is not needed to pay anything
            if threshold is not None and burden > threshold:
                out.warnings.append(Warning("re_assistance_possible",
                                            f"三重制度后政策范围内个人负担 {fmt(burden)} 元，超过门槛 {fmt(threshold)} 元"
                                            f"（{t_entry.reference}）；如有返贫致贫风险，可经申请审核给予再救助。"))
            return
        threshold, t_entry = self.value(sec.threshold, day, need)
        rate, r_entry = self.value(sec.rate, day, need)
        cap, c_entry = self.value(sec.cap, day, need)
        over = blocks.over_deductible(burden, threshold)
        paid = min(round_fen(blocks.capped(over * rate, cap)), max(burden, ZERO))
        out.re_assistance_paid = paid
        if explain:
            out.annual_steps.append(Step("再救助", paid, "；".join(dict.fromkeys([t_entry.reference, r_entry.reference])),
                                         f"三重制度后本年政策范围内个人负担 {fmt(burden)} − 门槛（上年度居民人均可支配收入的 25%）"
                                         f"{_money_text(threshold)} = {fmt(over)} × {pct(rate)} = {fmt(over * rate)}"
                                         f"（再救助封顶线 {_money_text(cap)}）"))

    def _warnings(self, case: Case, cat: str, out: SettleResult) -> None:
        day = case.visits[-1].date
        for rule in self.policy.warnings:
            if cat not in rule.categories:
                continue
            threshold, entry = self.value(rule.threshold, day, "判断因病返贫致贫监测预警")
            attr = "compliant_self_pay" if rule.measure == "合规自付" else "personal_pay"
            amount = (self._sum(out.visits, case, rule.kinds, attr)
                      - out.application_assistance_paid - out.re_assistance_paid)
            hit = amount >= threshold if rule.comparison == "达到" else amount > threshold
            if hit:
                scope = "个人自付合规医疗费用" if rule.measure == "合规自付" else "个人自负费用（含目录外）"
                out.warnings.append(Warning("return_to_poverty_risk",
                                            f"因病返贫致贫风险监测预警：本年度{scope} {fmt(amount)} 元，"
                                            f"{rule.comparison} {fmt(threshold)} 元（{entry.reference}），"
                                            f"应按月推送民政、乡村振兴部门核查。"))
            break

    # ----- 资助参保 -------------------------------------------------------------------------

    def premium_subsidy(self, cands: list[str], case: Case) -> dict | None:
        """The premium subsidy the person's categories earn, the highest one only (就高, 不重复资助)."""
        day = case.visits[-1].date
        best: tuple[Decimal, dict] | None = None
        for rule in self.policy.premium:
            hit = [c for c in cands if c in rule.categories]
            if not hit or (rule.schemes is not None and case.insurance not in rule.schemes):
                continue
            info: dict[str, Any] = {"category": hit[0], "mode": rule.mode, "reference": rule.reference}
            if rule.reading:
                info["reading"] = rule.reading
            if rule.mode == "全额":
                rank = Decimal(1)
                info["share"] = "100%"
            elif rule.mode == "比例":
                rank = self.value(rule.share, day, "资助参保")[0]
                info["share"] = pct(rank)
            else:
                entry, parsed = rule.amount.at(day) or (None, None)
                key = entry.local if entry is not None else None
                amount = self.local.get(key) if key else parsed
                rank = Decimal("0.0001")
                if amount is None:
                    info["amount"] = None
                    info["needs_local"] = key
                else:
                    info["amount"] = fmt(amount)
            if best is None or rank > best[0]:
                best = (rank, info)
        return best[1] if best else None
