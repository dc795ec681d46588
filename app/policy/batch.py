"""Batch settlement: many person-years at once from columns, under the same policy file and values as the engine.

    result = settle_columns(engine, cols)      # engine: app.policy.engine.Engine (policy + local + dated values)

`cols` (YearColumns) holds the person-years and their visits as numpy columns in integer fen; the result holds each
visit's four tiers (fen), each person-year's applied category, 依申请/再救助 amounts and warnings — the same fen the
per-visit engine gives (tests/policy/test_batch.py holds both paths to it). Nothing here writes a rule: every value
comes from the engine's own Resolver on the policy's own rules, the arithmetic is the column form of blocks.py
(app/policy/vector.py), and the engine's running recurrence (cumulative result less what was paid) is solved for all
rows at once (vector.settle_running).

Whatever has no column form yet is settled by the per-visit engine, per person-year, and counted in
`BatchResult.reasons`: a policy section or key this module does not know (a block added since — see KNOWN), a
condition the columns do not carry, 依申请 cases, a visit after the policy's 适用期至 (the engine refuses it, or
under 期满后: 警告 settles it with its warning — rare, so not in columns), a year that reaches an above-limit block
(倾斜救助, 重特大疾病), values that are not whole fen or millionths, a running sum not settled in the rounds allowed,
and anything the engine would refuse (it then raises its own CaseError, naming the field, as settling that year
alone would).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel

from app.domain.case import Case, CaseError, Household, Visit
from app.domain.names import HOSPITAL_LEVELS, INSURANCE_SCHEMES, ORDINARY, VISIT_KINDS
from app.policy import blocks, vector
from app.policy.engine import Engine
from app.policy.result import RiskCheck, Warning
from app.policy.schema import TILT_EXCESS, ByLevel, GradedRate, Policy, RatioByLevel
from app.policy.tiers.annual import RISK_SCOPE, re_assistance_hint, risk_warning
from app.policy.tiers.common import COND_FIELD
from app.policy.values import Rule
from app.policy.vector import NO_LIMIT, PPM, Groups, Inexact, fen, ppm

CENT = Decimal("0.01")
KIND = {k: i for i, k in enumerate(VISIT_KINDS)}
LEVEL = {lv: i for i, lv in enumerate(HOSPITAL_LEVELS)}
SCHEME = {s: i for i, s in enumerate(INSURANCE_SCHEMES)}
INPATIENT = KIND["住院"]
# Each condition a rule may name as a bit of a visit's flags (read from the Visit field COND_FIELD names).
COND_BIT = {cond: 1 << i for i, cond in enumerate(COND_FIELD)}
# The condition fields added after the first columns (急诊, 参保地, 备案): optional in YearColumns.
LATER_FLAGS = tuple(COND_FIELD.values())[3:]
# Sums above this (fen) could overflow fen × millionths in int64: such a person-year is settled per visit.
SAFE_SUM = 9 * 10**12


@dataclass
class YearColumns:
    """Person-years and their visits as columns. Visits are grouped by person-year (`case` non-decreasing) and in
    date order within one; amounts are int64 fen, and -1 in basic_paid / serious_illness_paid means "not on the
    slip" (the engine computes it)."""

    categories: list[tuple[str, ...]]   # per person-year: the categories held (as the person's record names them)
    insurance: list[str]                # per person-year: the scheme (INSURANCE_SCHEMES)
    application: np.ndarray             # per person-year: bool, the household applied (依申请)
    case: np.ndarray                    # per visit: int64 index of its person-year
    date: np.ndarray                    # per visit: datetime64[D]
    kind: np.ndarray                    # per visit: int8 index in VISIT_KINDS
    total_cost: np.ndarray
    policy_covered: np.ndarray
    basic_paid: np.ndarray
    serious_illness_paid: np.ndarray
    referred: np.ndarray                # per visit: bool
    in_province: np.ndarray
    major_disease: np.ndarray
    hospital_level: np.ndarray          # per visit: int8 index in HOSPITAL_LEVELS, -1 where the bill has none
    ids: list[str] | None = None        # per visit: the id an explanation or error names (default v1, v2 …)
    households: list[Household] | None = None  # per person-year: what 依申请 tests need (only they read it)
    # per visit: bool; None reads as a bill recorded before these fields existed (not 急诊, 参保地, not 备案 — Visit's
    # own defaults)
    emergency: np.ndarray | None = None
    in_insured_area: np.ndarray | None = None
    filed_remote: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.case)
        for name in LATER_FLAGS:
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, Visit.__dataclass_fields__[name].default, bool))

    @property
    def cases(self) -> int:
        return len(self.categories)

    @property
    def visits(self) -> int:
        return len(self.case)

    @classmethod
    def from_cases(cls, cases: Iterable[Case]) -> "YearColumns":
        """Columns of settle-json cases (the differential test and the benchmark start from these)."""
        cases = list(cases)
        cats, ins, app, rows = [], [], [], []
        for n, c in enumerate(cases):
            cats.append(c.categories)
            ins.append(c.insurance)
            app.append(c.application)
            rows.extend((n, v) for v in c.visits)
        visits = [v for _, v in rows]

        def money(get: Callable[[Visit], Decimal | None]) -> np.ndarray:
            return np.array([-1 if get(v) is None else int(get(v) * 100) for v in visits], np.int64)

        return cls(
            categories=cats, insurance=ins, application=np.array(app, bool),
            case=np.array([n for n, _ in rows], np.int64),
            date=np.array([v.date for v in visits], "datetime64[D]"),
            kind=np.array([KIND[v.kind] for v in visits], np.int8),
            total_cost=money(lambda v: v.total_cost), policy_covered=money(lambda v: v.policy_covered),
            basic_paid=money(lambda v: v.basic_paid), serious_illness_paid=money(lambda v: v.serious_illness_paid),
            referred=np.array([v.referred for v in visits], bool),
            in_province=np.array([v.in_province for v in visits], bool),
            major_disease=np.array([v.major_disease for v in visits], bool),
            hospital_level=np.array([-1 if v.hospital_level is None else LEVEL[v.hospital_level] for v in visits],
                                    np.int8),
            ids=[v.id for v in visits], households=[c.household for c in cases],
            **{name: np.array([getattr(v, name) for v in visits], bool) for name in LATER_FLAGS})

    def bits(self) -> np.ndarray:
        """Per visit: the conditions it meets, as COND_BIT bits."""
        out = np.zeros(self.visits, np.int64)
        for cond, name in COND_FIELD.items():
            out |= getattr(self, name).astype(np.int64) * COND_BIT[cond]
        return out

    def visit_range(self, n: int) -> range:
        lo, hi = np.searchsorted(self.case, [n, n + 1])
        return range(int(lo), int(hi))

    def case_of(self, n: int, policy: str) -> Case:
        """Person-year `n` as the per-visit engine takes it."""
        def money(a: np.ndarray, i: int) -> Decimal | None:
            return None if a[i] < 0 else Decimal(int(a[i])) * CENT

        visits = tuple(Visit(
            id=self.ids[i] if self.ids is not None else f"v{i + 1}", date=self.date[i].item(),
            kind=VISIT_KINDS[self.kind[i]], total_cost=money(self.total_cost, i),
            policy_covered=money(self.policy_covered, i), basic_paid=money(self.basic_paid, i),
            serious_illness_paid=money(self.serious_illness_paid, i), referred=bool(self.referred[i]),
            in_province=bool(self.in_province[i]),
            hospital_level=None if self.hospital_level[i] < 0 else HOSPITAL_LEVELS[self.hospital_level[i]],
            major_disease=bool(self.major_disease[i]), emergency=bool(self.emergency[i]),
            in_insured_area=bool(self.in_insured_area[i]), filed_remote=bool(self.filed_remote[i]))
            for i in self.visit_range(n))
        return Case(policy=policy, visits=visits, categories=self.categories[n], insurance=self.insurance[n],
                    application=bool(self.application[n]),
                    household=self.households[n] if self.households is not None else Household())


@dataclass
class BatchResult:
    """Each visit's tiers (int64 fen) and each person-year's applied category, annual amounts and warnings."""

    basic_paid: np.ndarray
    serious_illness_paid: np.ndarray
    assistance_paid: np.ndarray
    tilt_assistance_paid: np.ndarray
    applied_category: list[str]
    application_assistance_paid: np.ndarray
    re_assistance_paid: np.ndarray
    warnings: Mapping[int, list[Warning]] = field(default_factory=dict)  # only person-years that have some
    per_visit: np.ndarray | None = None     # per person-year: settled by the per-visit engine (a declared fallback)
    reasons: Counter = field(default_factory=Counter)                # why, counted per person-year

    def tiers(self) -> tuple[np.ndarray, ...]:
        return self.basic_paid, self.serious_illness_paid, self.assistance_paid, self.tilt_assistance_paid


def settle_columns(engine: Engine, cols: YearColumns, rounds: int = 64) -> BatchResult:
    """Settle every person-year of `cols` under the engine's policy and values; see the module docstring.

    A person-year the engine would refuse raises the engine's CaseError (as settling it alone would)."""
    return _Batch(engine, cols, rounds).run()


def settle_year(loaded, local: dict[str, Any], cols: YearColumns,
                dated: dict[str, list[dict]] | None = None) -> BatchResult:
    """settle_columns with an engine built for the policy and a county's local values (e.g. a proposed change)."""
    return settle_columns(Engine(loaded, local, dated), cols)


# Which keys of each policy-file section have a column form here. A key set in a policy that is not listed (a block
# another change adds) makes the batch settle that policy's person-years per visit, so a new rule never goes unheard.
KNOWN: dict[str, set[str]] = {
    # after_end: a year with a visit after 适用期至 is settled per visit (rare; the engine refuses it or warns).
    "Policy": {"id", "title", "document", "region", "issued", "effective", "period", "ends", "after_end", "note",
               "categories", "locals", "shared_limits", "contributions", "basic", "serious", "assistance", "secondary",
               "application", "re_assistance", "warnings", "premium"},
    "CategoryDecl": {"name", "aliases", "custom", "note"},
    "LocalParameter": {"label", "unit", "reference", "note", "minimum", "maximum", "allow_none", "suggestion"},
    "BasicSection": {"schemes", "annual_cap", "inpatient", "chronic", "outpatient", "referral", "out_of_scope",
                     "adjustments", "note"},
    "ScopeCut": {"scope", "cut"},
    "BasicKindTerms": {"deductible", "rate", "annual_cap", "note"},
    "ByLevel": {"levels"},
    "RatioByLevel": {"levels"},
    "BasicAdjustment": {"categories", "schemes", "kinds", "deductible", "rate", "rate_uplift", "note"},
    "ReferralDeductible": {"mode", "categories", "step", "floor", "conditions", "applies", "reference", "reading"},
    "SeriousSection": {"schemes", "kinds", "deductible", "rate", "cap", "adjustments", "note"},
    "SeriousAdjustment": {"categories", "schemes", "deductible", "deductible_cut", "rate", "rate_uplift", "cap", "note"},
    "AssistancePool": {"name", "kinds", "scope", "treatments", "above_limit", "note"},
    "VisitScope": {"any_of", "reference", "reading"},
    "Treatment": {"categories", "deductible", "rate", "annual_limit", "cost_ceiling", "on_application", "note"},
    "ApplicationTerms": {"reference", "income_test", "reading"},
    "IncomeTest": {"mode", "share", "asset_check", "reference", "reading"},
    "AboveLimit": {"name", "base", "counts_as", "conditions", "kinds", "categories", "rate", "rate_uplift", "max_rate",
                   "extra_limit", "total_limit", "note"},
    "TiltBase": {"mode", "reference", "reading"},
    "SecondarySection": {"name", "conditions", "categories", "kinds", "include_out_of_catalog", "deductible", "rate",
                         "graded", "annual_limit", "note"},
    "GradedRate": {"grades", "reference", "reading"},
    "Grade": {"categories", "cost_from", "rate"},
    "ApplicationSection": {"kinds", "income_test", "deductible", "rate", "annual_limit", "note"},
    "ReAssistanceSection": {"kinds", "threshold", "rate", "cap", "note"},
    "WarningRule": {"categories", "measure", "kinds", "threshold", "comparison"},
    "PremiumRule": {"categories", "schemes", "mode", "share", "amount", "reference", "reading"},
    "Entry": {"value", "local", "base", "reference", "reading"},
}


def _walk(node: Any, rules: list[Rule], unknown: set[str]) -> None:
    """Collect the policy's rules and any key set that has no column form here."""
    if isinstance(node, Rule):
        rules.append(node)
        return
    if isinstance(node, BaseModel):
        name = type(node).__name__
        known = KNOWN.get(name)
        for key in node.model_fields_set:
            value = getattr(node, key)
            if (known is None or key not in known) and value not in (None, [], {}, False):
                unknown.add(f"{name}.{key}")
            _walk(value, rules, unknown)
        for key in type(node).model_fields:  # defaults are read too: a new default-on block must not pass unseen
            if key not in node.model_fields_set and (known is None or key not in known):
                if getattr(node, key) not in (None, [], {}, False):
                    unknown.add(f"{name}.{key}")
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, rules, unknown)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, rules, unknown)


def _conditions_known(policy: Policy) -> bool:
    """Every condition a rule names is one the columns carry."""
    conds = [c for pool in policy.assistance for blk in pool.above_limit for c in blk.conditions]
    if policy.basic is not None and policy.basic.referral is not None:
        conds += policy.basic.referral.conditions
    if policy.secondary is not None:
        conds += policy.secondary.conditions
    return all(c in COND_BIT for c in conds)


def _bits(conds: Iterable[str]) -> int:
    return sum(COND_BIT[c] for c in conds)


class _Table:
    """Rule values by key, resolved once per distinct key present (a key packs segment, category, kind …); rows
    outside `mask` read zeros."""

    def __init__(self, keys: np.ndarray, mask: np.ndarray, resolve: Callable[[int], tuple[int, ...]], width: int):
        present = np.flatnonzero(np.bincount(keys, weights=mask)) if len(keys) else np.zeros(0, np.int64)
        dense = np.zeros(int(keys.max()) + 1 if len(keys) else 1, np.int64)
        dense[present] = np.arange(1, len(present) + 1)
        self.values = np.zeros((len(present) + 1, width), np.int64)
        bad = np.zeros(len(present) + 1, bool)
        for j, key in enumerate(present.tolist(), start=1):
            try:
                self.values[j] = resolve(key)
            except (CaseError, Inexact):
                bad[j] = True
        self.inverse = np.where(mask, dense[keys], 0)
        self.bad_rows = bad[self.inverse]

    def column(self, j: int) -> np.ndarray:
        return self.values[self.inverse, j]


class _Batch:
    """One batch run: rows are visits × the person's candidate categories (就高不就低 tries each)."""

    def __init__(self, engine: Engine, cols: YearColumns, rounds: int):
        self.engine = engine
        self.policy = engine.policy
        self.cols = cols
        self.rounds = rounds
        self.fallback = np.zeros(cols.cases, bool)
        self.reasons: Counter = Counter()

    # -- setting up ---------------------------------------------------------------------------------------------
    def flag(self, cases: np.ndarray, reason: str) -> None:
        """Send these person-years (a bool mask or indices) to the per-visit engine, giving the reason."""
        mask = np.zeros(self.cols.cases, bool)
        mask[cases] = True
        new = mask & ~self.fallback
        if new.any():
            self.reasons[reason] += int(new.sum())
            self.fallback |= mask

    def flag_rows(self, rows: np.ndarray, reason: str) -> None:
        if rows.any():
            self.flag(np.unique(self.row_case[rows]), reason)

    def run(self) -> BatchResult:
        cols, policy = self.cols, self.policy
        rules: list[Rule] = []
        unknown: set[str] = set()
        _walk(policy, rules, unknown)
        if unknown or not _conditions_known(policy):
            self.flag(np.ones(cols.cases, bool), "policy keys without a column form: " + ", ".join(sorted(unknown)))
            return self.finish(None)
        self.flag(cols.application, "依申请")
        days = cols.date
        if len(days):
            early = days < np.datetime64(policy.effective)
            late = days > np.datetime64(policy.ends) if policy.ends is not None else np.zeros(len(days), bool)
            self.flag(np.unique(cols.case[early | late]), "outside the policy's period")
            big = np.zeros(cols.cases, np.int64)
            np.add.at(big, cols.case, cols.total_cost)
            self.flag(big > SAFE_SUM, "amounts too large for int64")
        # Segments: the dates where any value of the policy or the county changes; values are resolved per segment.
        points = sorted({d for r in rules for d in r._dates}
                        | {d for entries in self.engine.resolver.dated.values() for d, _ in entries})
        self.points = points
        self.expand(rules)
        self.basic()
        self.serious()
        self.assistance()
        self.secondary()
        return self.finish(self.choose())

    def day(self, seg: int) -> date:
        """A day of segment `seg` (its first); segment 0 lies before every value, where resolving refuses."""
        return self.points[seg - 1] if seg > 0 else date.min

    def value(self, rule: Rule, seg: int, need: str = "批量结算") -> Any:
        return self.engine.resolver.value(rule, self.day(seg), need)[0]

    def expand(self, rules: list[Rule]) -> None:
        cols = self.cols
        # Candidates once per distinct set of categories (a county has a few dozen), then spread to the people.
        tuple_id: dict[tuple[str, ...], int] = {}
        ids = np.array([tuple_id.setdefault(c, len(tuple_id)) for c in cols.categories], np.int64)
        code: dict[str, int] = {}
        cands: list[list[int]] = []
        refused: list[int] = []
        for t, cats in enumerate(tuple_id):
            try:
                names = self.engine.candidates(cats, None)
            except CaseError:
                refused.append(t)
                names = [ORDINARY]
            cands.append([code.setdefault(c, len(code)) for c in names])
        self.flag(np.isin(ids, refused), "category the policy refuses")
        width = max((len(c) for c in cands), default=1)
        table = np.array([c + [0] * (width - len(c)) for c in cands], np.int64).reshape(len(cands), width)
        n_cands = np.array([len(c) for c in cands], np.int64)[ids] if len(ids) else np.zeros(0, np.int64)
        self.cat_names = sorted(code, key=code.get)
        self.run_case = np.repeat(np.arange(cols.cases), n_cands)
        first_run = np.cumsum(n_cands) - n_cands
        self.run_cat = table[ids[self.run_case], np.arange(len(self.run_case)) - first_run[self.run_case]] \
            if len(self.run_case) else np.zeros(0, np.int64)
        count = np.bincount(cols.case, minlength=cols.cases)
        start = np.r_[0, np.cumsum(count)[:-1]] if cols.cases else np.zeros(0, np.int64)
        per_run = count[self.run_case]
        self.row_run = np.repeat(np.arange(len(self.run_case)), per_run)
        run_start = np.r_[0, np.cumsum(per_run)[:-1]] if len(per_run) else np.zeros(0, np.int64)
        rows = len(self.row_run)
        self.row_visit = start[self.run_case][self.row_run] + (np.arange(rows) - run_start[self.row_run])
        self.row_case = self.run_case[self.row_run]
        self.row_cat = self.run_cat[self.row_run]
        self.groups = Groups(self.row_run)
        v = self.row_visit
        self.kind = cols.kind[v].astype(np.int64)
        self.covered = cols.policy_covered[v]
        self.total = cols.total_cost[v]
        self.seg = np.searchsorted(np.array(self.points, "datetime64[D]"), cols.date[v], side="right").astype(np.int64)
        self.bits = cols.bits()[v]
        self.level = cols.hospital_level[v].astype(np.int64)
        self.ins = np.array([SCHEME[s] for s in cols.insurance], np.int64)[self.row_case] if cols.cases else \
            np.zeros(0, np.int64)
        self.ncat = len(self.cat_names)

    # -- the tiers ----------------------------------------------------------------------------------------------
    def basic(self) -> None:
        cols, sec = self.cols, self.policy.basic
        reported = cols.basic_paid[self.row_visit]
        computed = reported < 0
        key = ((((self.seg * self.ncat + self.row_cat) * 3 + self.kind) * 5 + (self.level + 1)) * 4 + self.ins)
        cut = sec.out_of_scope if sec is not None else None
        out_of_scope = (self.bits & _bits(cut.scope.any_of)) == 0 if cut is not None else np.zeros_like(key, bool)
        table = _Table(key * 2 + out_of_scope, computed, self._basic_terms, 8)
        self.flag_rows(table.bad_rows, "engine refuses (basic)")
        ded, rate, cap, kcap, mode, step, floor, need = (table.column(j) for j in range(8))
        inpatient = self.kind == INPATIENT
        referred = inpatient & cols.referred[self.row_visit]
        applies = computed & referred & (mode > 0) & ((self.bits & need) == need)
        self.flag_rows(applies & (mode == 3), "engine refuses (referral)")
        due = ded
        chained = applies & (mode == 2)
        if chained.any():
            due = np.where(chained, self._chain(computed, ded, referred, chained), ded)
        if (applies & (mode == 1)).any():
            # 逐次递减: the n-th referred admission of the year (a reported one counts too), blocks.tapered_deductible.
            nth = self.groups.cumsum(referred.astype(np.int64))
            factor = PPM - step * (nth - 1)
            factor = np.where(factor > floor, factor, floor)
            due = np.where(applies & (mode == 1), vector.round_ppm(ded * factor), ded)
        raw = np.where(computed, vector.round_ppm(vector.over_deductible(self.covered, due) * rate), 0)
        g, kind = self.groups, self.kind
        capped = computed & ((cap < NO_LIMIT) | (kcap < NO_LIMIT))

        def pay(paid: np.ndarray) -> np.ndarray:
            room = np.maximum(cap - g.before(paid), 0)
            for k in np.unique(kind[computed & (kcap < NO_LIMIT)]).tolist():
                mine = kind == k
                room = np.where(mine, np.minimum(room, np.maximum(kcap - g.before(np.where(mine, paid, 0)), 0)), room)
            return np.where(computed, np.minimum(raw, room), reported)

        guess = np.where(computed, raw, reported)
        if capped.any():
            paid, unsettled = vector.settle_running(g, pay, guess, self.rounds)
            self.flag_rows(unsettled, "not settled in the rounds allowed")
        else:
            paid = guess
        self.basic_paid = paid

    def _chain(self, computed: np.ndarray, ded: np.ndarray, referred: np.ndarray, chained: np.ndarray) -> np.ndarray:
        """起付线连续计算 (blocks.continued_deductible) along each year's admissions: every row's due deductible.

        The chain is the deductible paid since the last admission that was not a referral: a referral adds what it
        paid, any other admission starts again, and a slip with the hospital's figure counts its level's deductible
        (tiers/basic.py reported_basic). Solved by rounds, like the running sums, over the years that need it."""
        runs = np.unique(self.row_run[chained])
        rows = np.flatnonzero((self.kind == INPATIENT) & np.isin(self.row_run, runs))
        g = Groups(self.row_run[rows])
        comp, ref, cov, own = computed[rows], referred[rows], self.covered[rows], ded[rows]
        link = chained[rows]
        key = self.seg[rows] * 5 + self.level[rows] + 1
        table = _Table(key, ~comp, self._level_deductible, 2)
        has_level, level_ded = table.column(0).astype(bool), table.column(1)

        def after(before: np.ndarray) -> np.ndarray:
            charged = np.minimum(np.where(link, np.maximum(own - before, 0), own), cov)
            slip = np.minimum(level_ded, cov)
            on_slip = np.where(has_level, np.where(ref, np.maximum(before, slip), slip), before)
            return np.where(comp, np.where(ref, before + charged, charged), on_slip)

        before = np.zeros(len(rows), np.int64)
        for _ in range(len(rows) + 1):
            again = g.previous(after(before))
            if np.array_equal(again, before):
                break
            before = again
        due = ded.copy()
        due[rows] = np.where(link, np.maximum(own - before, 0), own)
        return due

    def _level_deductible(self, key: int) -> tuple[int, int]:
        """tiers/basic.py _level_deductible for a slip: (1, its level's deductible) or (0, 0) where it has none."""
        seg, level = divmod(key, 5)
        sec = self.policy.basic
        terms = sec.terms("住院") if sec is not None else None
        if terms is None:
            return 0, 0
        rule = terms.deductible
        if isinstance(rule, ByLevel):
            rule = rule.levels.get(HOSPITAL_LEVELS[level - 1]) if level > 0 else None
            if rule is None:
                return 0, 0
        try:
            return 1, fen(self.value(rule, seg) or blocks.ZERO)
        except (CaseError, Inexact):
            return 0, 0

    @staticmethod
    def _at_level(rule: Rule | ByLevel | RatioByLevel, level: int) -> Rule:
        """tiers/common.py level_rule on a level index (0: none on the bill): refuses where the engine does."""
        if not isinstance(rule, (ByLevel, RatioByLevel)):
            return rule
        found = rule.levels.get(HOSPITAL_LEVELS[level - 1]) if level > 0 else None
        if found is None:
            raise CaseError("hospital_level", "engine refuses")
        return found

    def _basic_terms(self, key: int) -> tuple[int, ...]:
        key, out_of_scope = divmod(key, 2)
        key, ins = divmod(key, 4)
        key, level = divmod(key, 5)
        key, kind = divmod(key, 3)
        seg, cat = divmod(key, self.ncat)
        sec, cat, kind, ins = self.policy.basic, self.cat_names[cat], VISIT_KINDS[kind], INSURANCE_SCHEMES[ins]
        if sec is None or ins not in sec.schemes or sec.terms(kind) is None:
            raise CaseError("basic_paid", "engine refuses")
        terms = sec.terms(kind)
        adj = next((a for a in sec.adjustments if cat in a.categories and kind in a.kinds
                    and (a.schemes is None or ins in a.schemes)), None)
        if adj is not None and adj.deductible is not None:
            ded = self.value(adj.deductible, seg)
        else:
            ded = self.value(self._at_level(terms.deductible, level), seg)
        if adj is not None and adj.rate is not None:
            rate = self.value(adj.rate, seg)
        else:
            rate = self.value(self._at_level(terms.rate, level), seg)
        if adj is not None and adj.rate_uplift is not None:
            rate = blocks.with_uplift(rate, self.value(adj.rate_uplift, seg))
        if out_of_scope:
            cut = self.value(sec.out_of_scope.cut, seg)
            rate = rate - cut if rate > cut else blocks.ZERO
        cap = self.value(sec.annual_cap, seg)
        kcap = self.value(terms.annual_cap, seg) if terms.annual_cap is not None else None
        mode = step = floor = need = 0
        ref = sec.referral
        if ref is not None and cat in ref.categories:
            need = _bits(ref.conditions)
            try:
                # The county's 执行 switch (tiers/basic.py _applies) first: a county that does not apply the rule
                # pays the level's own deductible (mode 0).
                if ref.applies is None or self.value(ref.applies, seg):
                    mode = 2
                    if ref.mode == "逐次递减":
                        mode, step, floor = 1, ppm(self.value(ref.step, seg)), ppm(self.value(ref.floor, seg))
            except (CaseError, Inexact):
                mode = 3  # refused where the rule applies (a referred admission meeting its conditions)
        return fen(ded or blocks.ZERO), ppm(rate), fen(cap), fen(kcap), mode, step, floor, need

    def serious(self) -> None:
        cols, sec = self.cols, self.policy.serious
        reported = cols.serious_illness_paid[self.row_visit]
        counted = np.isin(self.kind, [KIND[k] for k in sec.kinds]) if sec is not None else np.zeros_like(reported, bool)
        inc = np.where(counted, self.covered - self.basic_paid, 0)
        computed = (reported < 0) & counted
        if sec is None:
            self.flag_rows(reported < 0, "engine refuses (serious)")
            self.serious_paid = np.maximum(reported, 0)
            return
        key = (self.seg * self.ncat + self.row_cat) * 4 + self.ins
        bands = _band_count(sec)
        table = _Table(key, computed, lambda k: self._serious_terms(k, bands), 2 + 3 * bands)
        self.flag_rows(table.bad_rows, "engine refuses (serious)")
        g = self.groups
        which = table.inverse[computed]
        lower, upper, rate = (table.values[which][:, 2 + j::3] for j in range(3))
        base = g.cumsum(inc)[computed]
        amount = vector.banded(vector.over_deductible(base, table.values[which, 0]), lower, upper, rate)
        cumulative = _spread(computed, vector.round_ppm(np.minimum(amount, vector.limit_ppm(table.values[which, 1]))))

        def pay(paid: np.ndarray) -> np.ndarray:
            return np.where(computed, np.clip(cumulative - g.before(paid), 0, inc), np.maximum(reported, 0))

        guess = np.where(computed, np.clip(cumulative - g.previous(cumulative), 0, inc), np.maximum(reported, 0))
        paid, unsettled = vector.settle_running(g, pay, guess, self.rounds)
        self.flag_rows(unsettled, "not settled in the rounds allowed")
        self.serious_paid = paid

    def _serious_terms(self, key: int, bands: int) -> tuple[int, ...]:
        key, ins = divmod(key, 4)
        seg, cat = divmod(key, self.ncat)
        sec, cat, ins = self.policy.serious, self.cat_names[cat], INSURANCE_SCHEMES[ins]
        if ins not in sec.schemes:
            raise CaseError("serious_illness_paid", "engine refuses")
        adj = next((a for a in sec.adjustments
                    if cat in a.categories and (a.schemes is None or ins in a.schemes)), None)
        if adj is not None and adj.deductible is not None:
            ded = self.value(adj.deductible, seg)
        else:
            ded = self.value(sec.deductible, seg)
            if adj is not None and adj.deductible_cut is not None:
                ded = blocks.round_fen((ded or blocks.ZERO) * (1 - self.value(adj.deductible_cut, seg)))
        rate = self.value(adj.rate if adj is not None and adj.rate is not None else sec.rate, seg)
        uplift = self.value(adj.rate_uplift, seg) if adj is not None and adj.rate_uplift is not None else blocks.ZERO
        cap = self.value(adj.cap if adj is not None and adj.cap is not None else sec.cap, seg)
        out = [fen(ded or blocks.ZERO), fen(cap)]
        brackets = rate if isinstance(rate, tuple) else (None,)
        for b in range(bands):
            if b >= len(brackets):
                out += [0, 0, 0]
            elif brackets[b] is None:
                out += [0, NO_LIMIT, ppm(blocks.with_uplift(rate, uplift))]
            else:
                band = brackets[b]
                out += [fen(band.lower), fen(band.upper), ppm(blocks.with_uplift(band.rate, uplift))]
        return tuple(out)

    def assistance(self) -> None:
        self.assistance_paid = np.zeros(len(self.row_run), np.int64)
        self.tilt_paid = np.zeros(len(self.row_run), np.int64)
        g = self.groups
        inc_all = self.covered - self.basic_paid - self.serious_paid
        for pi, pool in enumerate(self.policy.assistance):
            in_pool = np.isin(self.kind, [KIND[k] for k in pool.kinds])
            if not in_pool.any():
                continue
            key = self.seg * self.ncat + self.row_cat
            table = _Table(key, in_pool, lambda k, pi=pi: self._assistance_terms(pi, k), 5)
            self.flag_rows(table.bad_rows, "engine refuses (assistance)")
            active = table.column(0).astype(bool)
            if pool.scope is not None:  # outside the scope a visit's costs do not enter the pool at all
                active &= (self.bits & _bits(pool.scope.any_of)) != 0
            ded, rate, limit, ceiling = (table.column(j) for j in range(1, 5))
            inc = np.where(active, inc_all, 0)
            base = g.cumsum(inc)
            eligible = np.minimum(vector.over_deductible(base, ded), ceiling)
            cumulative = np.where(active, vector.round_ppm(np.minimum(eligible * rate, vector.limit_ppm(limit))), 0)

            def pay(paid: np.ndarray, cumulative=cumulative, inc=inc) -> np.ndarray:
                return np.clip(cumulative - g.before(paid), 0, inc)

            guess = np.clip(cumulative - g.previous(cumulative), 0, inc)
            paid, unsettled = vector.settle_running(g, pay, guess, self.rounds)
            self.flag_rows(unsettled, "not settled in the rounds allowed")
            self.assistance_paid += paid
            for blk in pool.above_limit:
                # No column form yet: a year that reaches the block is settled per visit.
                cat_ok = np.isin(self.row_cat, [i for i, c in enumerate(self.cat_names) if c in blk.categories])
                kind_ok = np.isin(self.kind, [KIND[k] for k in blk.kinds]) if blk.kinds is not None else True
                need = _bits(blk.conditions)
                qualifies = active & cat_ok & kind_ok & ((self.bits & need) == need)
                if blk.base.mode == TILT_EXCESS:
                    reaches = (limit < NO_LIMIT) & (rate > 0) & (eligible * rate > vector.limit_ppm(limit))
                else:
                    reaches = inc > paid
                self.flag_rows(qualifies & reaches, "above-limit block (倾斜救助)")

    def _assistance_terms(self, pi: int, key: int) -> tuple[int, ...]:
        seg, cat = divmod(key, self.ncat)
        t = self.engine.index.treatment.get((pi, self.cat_names[cat]))
        if t is None or t.on_application is not None:  # no terms, or paid only on application (cases applying
            return 0, 0, 0, 0, 0                         # are settled per visit)
        ded = self.value(t.deductible, seg)
        rate = self.value(t.rate, seg)
        limit = self.value(t.annual_limit, seg)
        ceiling = self.value(t.cost_ceiling, seg) if t.cost_ceiling is not None else None
        return 1, fen(ded or blocks.ZERO), ppm(rate), fen(limit), fen(ceiling)

    def secondary(self) -> None:
        sec = self.policy.secondary
        if sec is None:
            return
        cat_ok = np.isin(self.row_cat, [i for i, c in enumerate(self.cat_names) if c in sec.categories])
        need = _bits(sec.conditions)
        active = cat_ok & np.isin(self.kind, [KIND[k] for k in sec.kinds]) & ((self.bits & need) == need)
        if not active.any():
            return
        key = self.seg * self.ncat + self.row_cat

        def terms(k: int) -> tuple[int, ...]:
            seg = k // self.ncat
            rate = ppm(self.value(sec.rate, seg)) if sec.graded is None else 0
            return fen(self.value(sec.deductible, seg) or blocks.ZERO), rate, fen(self.value(sec.annual_limit, seg))

        table = _Table(key, active, terms, 3)
        self.flag_rows(table.bad_rows, "engine refuses (secondary)")
        ded, rate, limit = (table.column(j) for j in range(3))
        g = self.groups
        if sec.graded is not None:
            rate = self._graded(sec.graded, key, active, g.cumsum(np.where(active, self.total, 0)))
        inc = self.covered - self.basic_paid - self.serious_paid - self.assistance_paid - self.tilt_paid
        if sec.include_out_of_catalog:
            inc = inc + (self.total - self.covered)
        inc = np.where(active, inc, 0)
        cumulative = np.where(active, vector.assisted(g.cumsum(inc), ded, rate, limit), 0)

        def pay(paid: np.ndarray) -> np.ndarray:
            return np.clip(cumulative - g.before(paid), 0, inc)

        guess = np.clip(cumulative - g.previous(cumulative), 0, inc)
        paid, unsettled = vector.settle_running(g, pay, guess, self.rounds)
        self.flag_rows(unsettled, "not settled in the rounds allowed")
        self.tilt_paid = self.tilt_paid + paid

    def _graded(self, graded: GradedRate, key: np.ndarray, active: np.ndarray, total: np.ndarray) -> np.ndarray:
        """tiers/secondary.py graded_rate per row: of the category's grades, the first with the highest 医疗总费用起
        the year's total cost so far (`total`) has reached gives the rate; 0 where it reached none."""
        best = np.full(len(key), -1, np.int64)
        rate = np.zeros(len(key), np.int64)
        for grade in graded.grades:
            def terms(k: int, grade=grade) -> tuple[int, ...]:
                seg, cat = divmod(k, self.ncat)
                if self.cat_names[cat] not in grade.categories:
                    return 0, 0, 0
                return 1, fen(self.value(grade.cost_from, seg) or blocks.ZERO), ppm(self.value(grade.rate, seg))

            table = _Table(key, active, terms, 3)
            self.flag_rows(table.bad_rows, "engine refuses (secondary)")
            start = table.column(1)
            reached = table.column(0).astype(bool) & (total >= start) & (start > best)
            best = np.where(reached, start, best)
            rate = np.where(reached, table.column(2), rate)
        return rate

    # -- the year -----------------------------------------------------------------------------------------------
    def choose(self) -> np.ndarray:
        """The best run of each person-year: the most paid in all, the policy's first category on a tie."""
        runs = len(self.run_case)
        paid = self.basic_paid + self.serious_paid + self.assistance_paid + self.tilt_paid
        total = vector.sum_by(self.row_run, paid, runs)
        best_total = np.full(self.cols.cases, -1, np.int64)
        np.maximum.at(best_total, self.run_case, total)
        top = np.flatnonzero(total == best_total[self.run_case])
        first = top[np.r_[True, self.run_case[top][1:] != self.run_case[top][:-1]]] if len(top) else top
        return first

    def finish(self, best: np.ndarray | None) -> BatchResult:
        cols = self.cols
        n = cols.visits
        out = BatchResult(*(np.zeros(n, np.int64) for _ in range(4)), applied_category=[ORDINARY] * cols.cases,
                          application_assistance_paid=np.zeros(cols.cases, np.int64),
                          re_assistance_paid=np.zeros(cols.cases, np.int64))
        if best is not None:
            chosen = np.zeros(len(self.run_case), bool)
            chosen[best] = True
            rows = chosen[self.row_run]
            visits = self.row_visit[rows]
            for target, source in zip(out.tiers(), (self.basic_paid, self.serious_paid, self.assistance_paid,
                                                    self.tilt_paid)):
                target[visits] = source[rows]
            cats = self.run_cat[best]
            out.applied_category = [self.cat_names[c] for c in cats.tolist()]
            self.year_warnings(out, best, rows)
        if not isinstance(out.warnings, YearWarnings):
            out.warnings = YearWarnings(self.engine, cols.categories, self.fallback)
        for n_case in np.flatnonzero(self.fallback).tolist():
            self.per_visit(out, n_case)
        out.per_visit = self.fallback
        out.reasons = self.reasons
        return out

    def year_warnings(self, out: BatchResult, best: np.ndarray, rows: np.ndarray) -> None:
        """The year's warnings, as the engine gives them (the 再救助 hint, the 监测预警, then unnamed categories):
        the figures are found here for all person-years at once, the sentences written only when one is read."""
        policy, cols = self.policy, self.cols
        cases = cols.cases
        visit, case, kind = self.row_visit[rows], self.row_case[rows], self.kind[rows]
        paid = (self.basic_paid + self.serious_paid + self.assistance_paid + self.tilt_paid)[rows]
        compliant = self.covered[rows] - paid
        personal = self.total[rows] - paid
        last = np.zeros(cases, np.int64)
        np.maximum.at(last, case, visit)
        last_seg = np.searchsorted(np.array(self.points, "datetime64[D]"), cols.date[last], side="right")
        found = YearWarnings(self.engine, cols.categories, self.fallback)
        sec = policy.re_assistance
        if sec is not None:
            burden = vector.sum_by(case, np.where(np.isin(kind, [KIND[k] for k in sec.kinds]), compliant, 0), cases)
            for seg in np.unique(last_seg).tolist():
                try:
                    threshold, entry = self.engine.resolver.value(sec.threshold, self.day(seg), "测算再救助")
                except CaseError:
                    continue  # only a hint: the engine gives none without the threshold's value
                if threshold is not None:
                    found.add_hint((last_seg == seg) & (burden > fen(threshold)), burden, threshold, entry.reference)
        cat_of = self.run_cat[best]
        measured: dict[tuple[int, str], np.ndarray] = {}
        for c, name in enumerate(self.cat_names):
            rule = next((r for r in policy.warnings if name in r.categories), None)
            mine = cat_of == c
            if rule is None or not mine.any():
                continue
            figure = personal if rule.measure == "全部自付" else compliant
            if (id(rule), rule.measure) not in measured:
                measured[id(rule), rule.measure] = vector.sum_by(
                    case, np.where(np.isin(kind, [KIND[k] for k in rule.kinds]), figure, 0), cases)
            amount = measured[id(rule), rule.measure]
            for seg in np.unique(last_seg[mine]).tolist():
                here = mine & (last_seg == seg)
                try:
                    threshold, entry = self.engine.resolver.value(rule.threshold, self.day(seg), "判断因病返贫致贫监测预警")
                    limit = fen(threshold)
                except (CaseError, Inexact):
                    self.flag(here, "engine refuses (监测预警)")
                    continue
                hit = amount > limit if rule.comparison == "超过" else amount >= limit
                found.add_risk(here & hit, amount, RiskCheck(rule.measure, RISK_SCOPE[rule.measure], tuple(rule.kinds),
                                                             blocks.ZERO, threshold, rule.comparison, entry.reference,
                                                             True))
        out.warnings = found

    def per_visit(self, out: BatchResult, n: int) -> None:
        """Settle person-year `n` with the per-visit engine and put its result in the columns."""
        result = self.engine.settle(self.cols.case_of(n, self.policy.id), explain=False)
        for i, vr in zip(self.cols.visit_range(n), result.visits):
            out.basic_paid[i] = int(vr.basic_paid * 100)
            out.serious_illness_paid[i] = int(vr.serious_illness_paid * 100)
            out.assistance_paid[i] = int(vr.assistance_paid * 100)
            out.tilt_assistance_paid[i] = int(vr.tilt_assistance_paid * 100)
        out.applied_category[n] = result.applied_category
        out.application_assistance_paid[n] = int(result.application_assistance_paid * 100)
        out.re_assistance_paid[n] = int(result.re_assistance_paid * 100)
        out.warnings.settled[n] = list(result.warnings)


# A figure no real year shows, standing in for each person's own in a sentence's template.
_STAND_IN = "987654321987.65"


def _yuan(fen_: int) -> str:
    """fmt() of a whole number of fen, without Decimal."""
    sign, fen_ = ("-", -fen_) if fen_ < 0 else ("", fen_)
    return f"{sign}{fen_ // 100}.{fen_ % 100:02d}"


class YearWarnings(Mapping):
    """Each person-year's warnings by index, only those that have some; a sentence is written when it is read."""

    def __init__(self, engine: Engine, categories: list[tuple[str, ...]], per_visit: np.ndarray):
        self.engine = engine
        self.categories = categories
        self.per_visit = per_visit
        self.settled: dict[int, list[Warning]] = {}   # person-years the per-visit engine settled: its own warnings
        self.hints: list[tuple[np.ndarray, np.ndarray, Decimal, str]] = []
        self.risks: list[tuple[np.ndarray, np.ndarray, RiskCheck]] = []
        self._named: dict[tuple[str, ...], list[Warning]] = {}
        self._named_json: dict[tuple[str, ...], list[str]] = {}
        self._templates: dict[tuple[str, int], str] = {}

    def add_hint(self, where: np.ndarray, burden: np.ndarray, threshold: Decimal, reference: str) -> None:
        self.hints.append((where, burden, threshold, reference))

    def add_risk(self, where: np.ndarray, amount: np.ndarray, check: RiskCheck) -> None:
        self.risks.append((where, amount, check))

    def named(self, n: int) -> list[Warning]:
        cats = self.categories[n]
        found = self._named.get(cats)
        if found is None:
            found = self._named[cats] = self.engine.category_warnings(cats)
        return found

    def __getitem__(self, n: int) -> list[Warning]:
        if self.per_visit[n]:
            found = self.settled.get(n)
            if not found:
                raise KeyError(n)
            return found
        out = [re_assistance_hint(Decimal(int(burden[n])) * CENT, threshold, ref)
               for where, burden, threshold, ref in self.hints if where[n]]
        out += [risk_warning(check._replace(amount=Decimal(int(amount[n])) * CENT))
                for where, amount, check in self.risks if where[n]]
        out += self.named(n)
        if not out:
            raise KeyError(n)
        return out

    def as_json(self, n: int) -> str:
        """The warnings of person-year `n` as annual_settlements stores them (JSON, as json.dumps writes it), built
        from each sentence's template: the sentence is the engine's own, written once with a stand-in figure."""
        if self.per_visit[n]:
            return json.dumps([w.to_json() for w in self.settled.get(n, [])], ensure_ascii=False)
        parts = [self._template("hint", i, lambda figure, h=h: re_assistance_hint(figure, h[2], h[3]))
                 .replace(_STAND_IN, _yuan(int(h[1][n]))) for i, h in enumerate(self.hints) if h[0][n]]
        parts += [self._template("risk", i, lambda figure, r=r: risk_warning(r[2]._replace(amount=figure)))
                  .replace(_STAND_IN, _yuan(int(r[1][n]))) for i, r in enumerate(self.risks) if r[0][n]]
        cats = self.categories[n]
        named = self._named_json.get(cats)
        if named is None:  # the same few sets of categories recur across a county: write each set's JSON once
            named = self._named_json[cats] = [json.dumps(w.to_json(), ensure_ascii=False) for w in self.named(n)]
        return "[" + ", ".join(parts + named) + "]"

    def _template(self, kind: str, i: int, make: Callable[[Decimal], Warning]) -> str:
        key = (kind, i)
        found = self._templates.get(key)
        if found is None:
            found = self._templates[key] = json.dumps(make(Decimal(_STAND_IN)).to_json(), ensure_ascii=False)
        return found

    def _has(self) -> np.ndarray:
        has = np.zeros(len(self.categories), bool)
        for where, *_ in [*self.hints, *self.risks]:
            has |= where
        has |= np.array([bool(self.named(n)) for n in range(len(self.categories))], bool)
        has &= ~self.per_visit
        has[[n for n, w in self.settled.items() if w]] = True
        return has

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(self._has()).tolist())

    def __len__(self) -> int:
        return int(self._has().sum())


def _band_count(sec) -> int:
    """The most brackets any 大病保险 rate of the policy has (a flat rate is one, a local value too)."""
    rules = [sec.rate, *(a.rate for a in sec.adjustments if a.rate is not None)]
    return max([len(p) for r in rules for p in r._parsed if isinstance(p, tuple)] + [1])


def _spread(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values given for the rows of `mask`, placed on all rows (0 elsewhere)."""
    out = np.zeros(len(mask), values.dtype)
    out[mask] = values
    return out
