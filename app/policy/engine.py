"""The settlement engine: a person's year under one policy, tier by tier, every amount with its clause.

Each visit is settled in date order. Annual rules (deductibles per year, limits, bands) are applied
to the year's cumulative figures and the visit receives the cumulative result minus what earlier
visits already received — the 结算程序 of 六盘水民发〔2017〕84号 三(六): 按次结算，年度累计再算并扣减已付.
That makes the year's totals independent of how the same costs are split into visits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import Case, CaseError, Visit
from app.domain.money import fmt
from app.domain.names import ORDINARY
from app.policy.index import PolicyIndex
from app.policy.loader import LoadedPolicy
from app.policy.schema import Policy
from app.policy.resolver import Resolver
from app.policy.result import SettleResult, VisitResult, Warning
from app.policy.state import TermsKept, YearState
from app.policy.tiers.annual import (
    add_warnings,
    settle_application,
    settle_re_assistance,
)
from app.policy.tiers.assistance import applying_blocks, settle_assistance
from app.policy.tiers.basic import kind_capped, reads_chain, reported_basic, settle_basic
from app.policy.tiers.common import Run
from app.policy.tiers.premium import premium_subsidy
from app.policy.tiers.secondary import settle_secondary
from app.policy.tiers.serious import reported_serious, settle_serious


class KindPlan(dict):
    """For one category, each kind of visit's per-visit tiers, worked out once so that a visit calls only the tiers
    that apply: the pool covering the kind with its index, the category's terms there and the above-limit blocks it
    can reach (None: no pool); whether 二次救助 can pay it; whether it counts toward 大病保险; whether 基本医保 caps
    the kind on its own (kind_capped); whether a slip's admission continues the referral chain (reads_chain)."""

    def __init__(self, policy: Policy, index: PolicyIndex, cat: str):
        super().__init__()
        self.policy, self.index, self.cat = policy, index, cat
        self.kept = TermsKept()  # for every case of the category

    def __missing__(self, kind: str) -> tuple[tuple | None, bool, bool, bool, bool]:
        policy, cat = self.policy, self.cat
        serious, secondary = policy.serious, policy.secondary
        pool = self.index.assisting.get((kind, cat))
        found = self[kind] = (None if pool is None else (*pool, applying_blocks(pool[1], cat, kind)),
                              secondary is not None and cat in secondary.categories and kind in secondary.kinds,
                              serious is not None and kind in serious.kinds,
                              kind_capped(policy, kind), reads_chain(policy, kind))
        return found


def year_paid(out: SettleResult, st: YearState) -> Decimal:
    """Everything a settled year pays (its total_paid), from its tallies: compared across a person's categories."""
    return st.paid() + out.application_assistance_paid + out.re_assistance_paid


def take_slips(run: Run, plan: KindPlan, slips: list[tuple[Visit, VisitResult]], st: YearState,
               explain: bool) -> None:
    """Count visits whose insurance figures both came from the hospital's slip in the year's tallies, tier by tier."""
    reported_basic(run, plan, slips, st, explain)
    reported_serious(plan, slips, st, explain)


class Engine:
    """Settles cases under one loaded policy with one county's local parameters."""

    def __init__(self, loaded: LoadedPolicy, local: dict[str, Any] | None = None,
                 dated: dict[str, list[dict]] | None = None):
        self.loaded = loaded
        self.policy = loaded.policy
        self.resolver = Resolver(self.policy, local or {}, dated)
        self.index = PolicyIndex.of(self.policy)
        self._plans: dict[str, KindPlan] = {}

    def candidates(self, categories: tuple[str, ...], notes: list[str] | None) -> list[str]:
        """The person's categories as this policy names them, in its order of precedence."""
        return self.index.candidates(categories, notes)

    def category_warnings(self, categories: tuple[str, ...]) -> list[Warning]:
        """A warning for each of the person's categories the policy does not name (settled as ordinary)."""
        return [Warning("category_not_in_policy", f"“{name}”不在本政策（{self.policy.document}）规定的救助类别中，"
                                                  f"已按{ORDINARY}计算，请核对身份类别")
                for name in categories if name not in self.index.canonical]

    def settle(self, case: Case, explain: bool = True) -> SettleResult:
        """Settle a case; with several categories, the one that pays the most applies (就高不就低)."""
        if case.policy != self.policy.id:
            raise CaseError("policy", f"本引擎加载的是 {self.policy.id}，案例写的是 {case.policy}")
        effective, ends = self.policy.effective, self.policy.ends
        refused_after = ends if ends is not None and self.policy.after_end == "拒绝" else date.max
        days = [v.date for v in case.visits]
        if days and (min(days) < effective or max(days) > refused_after):  # then find the first outside, to name it
            for i, day in enumerate(days):
                if day < effective:
                    raise CaseError(f"visits[{i}].date", f"{day} 早于本政策施行日期 {effective}，请选用当时有效的政策")
                if day > refused_after:
                    raise CaseError(f"visits[{i}].date", f"{day} 晚于本政策适用期（至 {ends}），请选用当时有效的政策")
        notes: list[str] | None = [] if explain else None
        cands = self.index.candidates(case.categories, notes)
        best: SettleResult | None = None
        best_paid = run = None
        tried: list[tuple[str, Decimal]] = []
        for cat in cands:
            this = Run(self.policy, self.index, case, cat, self.resolver.value, self.resolver.held_span)
            result, st = self._settle_as(this, explain, len(cands) > 1)
            if len(cands) > 1:  # what each category's year pays is compared; a single category's is never read
                paid = year_paid(result, st)
                tried.append((cat, paid))
                if best is not None and paid <= best_paid:
                    continue
                best_paid = paid
            best, run = result, this
        assert best is not None and run is not None
        add_warnings(run, best)  # the 监测预警 of the category applied only: the others' results are dropped
        late = self.policy.ends is not None and case.visits[-1].date > self.policy.ends
        if late:  # only reached when the policy file chose 期满后: 警告
            best.warnings.append(Warning("policy_period_ended",
                                         f"就诊日期晚于本政策适用期（至 {self.policy.ends}）：本政策文件选择期满后仍按"
                                         f"{self.policy.document}结算并提示（理由见政策文件“期满后”处的说明）。请核实上级是否"
                                         f"已发文延续或出台新政策：已延续的请更新“适用期至”，有新政策的请改用新政策重新结算"))
        for name in case.categories:
            if name not in self.index.canonical:  # rare: build the warnings only then
                best.warnings.extend(self.category_warnings(case.categories))
                break
        if explain:
            if len(tried) > 1:
                others = "，".join(f"按{c}三重制度合计支付 {fmt(t)} 元" for c, t in tried)
                best.notes.insert(0, f"同时具有多重身份（{others}），按就高不就低原则只适用一个类别：{best.applied_category}。")
            best.notes.extend(n for n in notes or [] if n not in best.notes)
            best.premium_subsidy = premium_subsidy(run, cands, self.resolver.local)
        return best

    def _plan(self, cat: str) -> "KindPlan":
        """Which per-visit tiers apply to each kind of visit under `cat` (KindPlan), worked out once per category."""
        plan = self._plans.get(cat)
        if plan is None:
            plan = self._plans[cat] = KindPlan(self.policy, self.index, cat)
        return plan

    def _settle_as(self, run: Run, explain: bool, tally: bool = True) -> tuple[SettleResult, YearState]:
        """The year under the run's category, and its tallies (what it pays is their paid() and the annual tiers');
        without `tally` the tallies may leave out the slips' figures no tier read (a single category's year)."""
        plan = self._plan(run.cat)
        st = YearState(plan.kept)
        results: list[VisitResult] = []
        # The insurance tiers first for the whole year: they never depend on assistance, and a tier paid only on
        # application tests the household on the year's costs left after them.
        slips: list[tuple[Visit, VisitResult]] = []  # visits a slip settled, not yet in the year's tallies
        for i, v in enumerate(run.case.visits):
            r = VisitResult(v.id, v.total_cost, v.policy_covered, v.basic_paid, v.serious_illness_paid)
            results.append(r)
            if r.basic_paid is not None and r.serious_illness_paid is not None:
                slips.append((v, r))  # 85% of visits: their figures are only counted, and only when read
                continue
            if slips:  # a tier computes on the year's tallies: the slips' figures before it go in first, in order
                take_slips(run, plan, slips, st, explain)
                slips = []
            steps = r.steps if explain else None
            if r.basic_paid is None:
                r.basic_paid = settle_basic(run, v, i, st, steps, r.shares, plan[v.kind][3])
            else:
                reported_basic(run, plan, [(v, r)], st, explain)
            if r.serious_illness_paid is None:
                r.serious_illness_paid = settle_serious(run, v, i, st, r.basic_paid, steps, r.shares)
            else:
                reported_serious(plan, [(v, r)], st, explain)
        if slips and (tally or explain):
            take_slips(run, plan, slips, st, explain)
        for i, (v, r) in enumerate(zip(run.case.visits, results)):
            pool, secondary, _, _, _ = plan[v.kind]
            steps = r.steps if explain else None
            if pool is not None:
                settle_assistance(run, pool, v, i, st, r, results, steps)
            if secondary:
                settle_secondary(run, v, i, st, r, steps)
        out = SettleResult(self.policy.id, self.loaded.version, run.cat, results)
        settle_application(run, out, explain)
        settle_re_assistance(run, out, explain)
        return out, st
