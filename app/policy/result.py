"""What a settlement returns: amounts per visit and per year, explanation steps and warnings, as settle-json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from app.domain.money import ZERO, fmt


@dataclass(slots=True)
class Step:
    """One line of explanation: which tier, how much, the numbers used and the document clause."""

    tier: str
    amount: Decimal
    reference: str
    explain: str

    def to_json(self) -> dict:
        return {"tier": self.tier, "amount": fmt(self.amount), "reference": self.reference, "explain": self.explain}


class TierShare:
    """What one tier left of the in-catalogue costs it settled, and why: 起付线以下, 超过封顶线 (a limit or a cost
    ceiling), and the co-payment share (自付比例部分) of what it did pay on."""

    # Not a dataclass: one is made per tier and visit, and most are never read (a settlement without explanation
    # that is not stored), so the clamps are worked out when first read, not when made.
    __slots__ = ("tier", "base", "paid", "_under", "_above", "_clamped")

    def __init__(self, tier: str, base: Decimal, paid: Decimal, under_deductible: Decimal,
                 above_limit: Decimal) -> None:
        self.tier, self.base, self.paid = tier, base, paid  # base: the costs this tier settled on for the visit
        self._under, self._above, self._clamped = under_deductible, above_limit, None

    def _clamp(self) -> tuple[Decimal, Decimal]:
        # Cumulative rounding can tip a figure a fen past what is left; the parts must still add up exactly.
        # (Each `a if a < b else b` is exactly min/max's choice, equal values included.)
        left = self.base - self.paid
        if ZERO > left:
            left = ZERO
        under_deductible, above_limit = self._under, self._above
        if ZERO > under_deductible:
            under_deductible = ZERO
        if left < under_deductible:
            under_deductible = left
        room = left - under_deductible
        if ZERO > above_limit:
            above_limit = ZERO
        self._clamped = (under_deductible, room if room < above_limit else above_limit)
        return self._clamped

    @property
    def under_deductible(self) -> Decimal:
        return (self._clamped or self._clamp())[0]

    @property
    def above_limit(self) -> Decimal:
        return (self._clamped or self._clamp())[1]

    def _fields(self) -> tuple:
        return self.tier, self.base, self.paid, self.under_deductible, self.above_limit

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TierShare) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # as the dataclass it was: compared, never a key

    def __repr__(self) -> str:
        tier, base, paid, under, above = self._fields()
        return (f"TierShare(tier={tier!r}, base={base!r}, paid={paid!r}, under_deductible={under!r}, "
                f"above_limit={above!r})")

    @property
    def co_payment(self) -> Decimal:
        return max(self.base - self.paid, ZERO) - self.under_deductible - self.above_limit

    def to_json(self) -> dict:
        return {"tier": self.tier, "base": fmt(self.base), "paid": fmt(self.paid),
                "under_deductible": fmt(self.under_deductible), "above_limit": fmt(self.above_limit),
                "co_payment": fmt(self.co_payment)}


class LazyShare(TierShare):
    """A TierShare kept as the tier's own figures for the visit and worked into its two parts (under the deductible,
    above the limit) by `parts(base, paid, *figures)` only when first read: most are never read (a settlement without
    explanation that is not stored)."""

    __slots__ = ("_parts", "_figures")

    def __init__(self, tier: str, base: Decimal, paid: Decimal,
                 parts: Callable[..., tuple[Decimal, Decimal]], figures: tuple) -> None:
        self.tier, self.base, self.paid = tier, base, paid
        self._parts, self._figures, self._clamped = parts, figures, None

    def _clamp(self) -> tuple[Decimal, Decimal]:
        self._under, self._above = self._parts(self.base, self.paid, *self._figures)
        return TierShare._clamp(self)


FIRST_TIER = "基本医保"  # the tier that settles on the whole 政策范围内费用 (app/policy/tiers/basic.py)
OWN_PARTS = ("out_of_catalog", "under_deductible", "above_limit", "co_payment", "unsplit")


def deciding_share(shares: list[TierShare]) -> TierShare | None:
    """The tier whose split tells what the family is left with: the last that did anything. A later tier that paid
    nothing because all it saw lay under its deductible (大病保险 below its 起付线) only passed the costs on, and
    the split the family knows is the tier's before it (基本医保's 起付线 and 报销比例)."""
    for share in reversed(shares):
        if share.paid or share.under_deductible < share.base:
            return share
    # Every tier only passed the costs on: all lay under 基本医保's own 起付线 when it was computed; when the
    # hospital's slip gave it, its split is not known, and a later tier's 起付线 is not why the family pays.
    return shares[0] if shares and shares[0].tier == FIRST_TIER else None


def own_parts(total_cost: Decimal, policy_covered: Decimal, compliant_self_pay: Decimal,
              shares: list[TierShare]) -> dict[str, Decimal]:
    """The family's own share split into its parts, adding up to it exactly: 目录外; then what the deciding tier
    (deciding_share) left (起付线以下, 超过封顶线, 自付比例部分), less what any later payment (倾斜救助, 二次救助) took
    from it, the above-limit part first; `unsplit` where no tier's split is known (the hospital's one-stop slip gave
    the insurance figures and no assistance tier applied)."""
    parts = dict.fromkeys(OWN_PARTS, ZERO)
    parts["out_of_catalog"] = total_cost - policy_covered
    inside = compliant_self_pay
    if inside < 0:  # a payment that also covers 目录外 costs (湛江's 二次救助 may) took the rest from them
        parts["out_of_catalog"] += inside
        return parts
    last = deciding_share(shares)
    if last is None:
        parts["unsplit"] = inside
        return parts
    split = {"above_limit": last.above_limit, "co_payment": last.co_payment, "under_deductible": last.under_deductible}
    taken = sum(split.values(), ZERO) - inside
    for key in split:  # later payments are made on what the limit left unpaid first
        cut = min(split[key], max(taken, ZERO))
        split[key] -= cut
        taken -= cut
    parts.update(split)
    parts["unsplit"] = inside - sum(split.values(), ZERO)
    return parts


@dataclass(slots=True, init=False)  # its own __init__: one is made per visit, and the generated one costs 2x
class VisitResult:
    """The three tiers (and 倾斜救助) for one visit."""

    id: str
    total_cost: Decimal
    policy_covered: Decimal
    basic_paid: Decimal
    serious_illness_paid: Decimal
    assistance_paid: Decimal
    tilt_assistance_paid: Decimal
    steps: list[Step]
    shares: list[TierShare]  # each computed tier's split, in the order they ran

    def __init__(self, id: str, total_cost: Decimal, policy_covered: Decimal, basic_paid: Decimal = ZERO,
                 serious_illness_paid: Decimal = ZERO, assistance_paid: Decimal = ZERO,
                 tilt_assistance_paid: Decimal = ZERO, steps: list[Step] | None = None,
                 shares: list[TierShare] | None = None) -> None:
        self.id, self.total_cost, self.policy_covered = id, total_cost, policy_covered
        self.basic_paid, self.serious_illness_paid = basic_paid, serious_illness_paid
        self.assistance_paid, self.tilt_assistance_paid = assistance_paid, tilt_assistance_paid
        self.steps = [] if steps is None else steps
        self.shares = [] if shares is None else shares

    @property
    def own_parts(self) -> dict[str, Decimal]:
        """personal_pay in its parts (see own_parts)."""
        return own_parts(self.total_cost, self.policy_covered, self.compliant_self_pay, self.shares)

    @property
    def own_parts_tier(self) -> str:
        """The tier whose 起付线, 封顶线 and 比例 the parts are of ("" where none is known)."""
        share = deciding_share(self.shares)
        return share.tier if share is not None else ""

    @property
    def personal_pay(self) -> Decimal:
        return (self.total_cost - self.basic_paid - self.serious_illness_paid
                - self.assistance_paid - self.tilt_assistance_paid)

    @property
    def compliant_self_pay(self) -> Decimal:
        """Policy-covered costs still self-paid after every per-visit tier."""
        return (self.policy_covered - self.basic_paid - self.serious_illness_paid
                - self.assistance_paid - self.tilt_assistance_paid)

    def to_json(self) -> dict:
        return {
            "id": self.id, "total_cost": fmt(self.total_cost), "policy_covered": fmt(self.policy_covered),
            "basic_paid": fmt(self.basic_paid), "serious_illness_paid": fmt(self.serious_illness_paid),
            "assistance_paid": fmt(self.assistance_paid), "tilt_assistance_paid": fmt(self.tilt_assistance_paid),
            "personal_pay": fmt(self.personal_pay), "steps": [s.to_json() for s in self.steps],
            "personal_pay_parts": {k: fmt(v) for k, v in self.own_parts.items()},
            "personal_pay_parts_tier": self.own_parts_tier,
            "tier_shares": [s.to_json() for s in self.shares],
        }


@dataclass(slots=True)
class Warning:
    """A notice for the caseworker, e.g. the 因病返贫致贫 监测预警."""

    code: str
    message: str

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message}


class RiskCheck(NamedTuple):  # not a frozen dataclass: one is made per settled year, and that one's __init__ costs 5x
    """The 监测预警 test of a settled year: the figure the policy measures, its threshold and the verdict."""

    measure: str         # 合规自付 or 全部自付, as the policy file names the figure
    scope: str           # the figure as a warning says it: 个人自付合规医疗费用 …
    kinds: tuple[str, ...]  # the visit kinds whose costs count
    amount: Decimal
    threshold: Decimal
    comparison: str      # 达到 (≥) or 超过 (>)
    reference: str
    reached: bool


@dataclass(frozen=True, slots=True)
class ApplicationCeiling:
    """The most 依申请救助 the policy lets a year receive, whatever an approver decides.

    芜医保〔2021〕76号 二(二)5 fixes the amount: "个人自付合规医疗费用，救助起付线 2 万元，救助比例 50%", "依申请救助
    年度救助限额为 3 万元". It gives nobody a margin to pay more: the county's 县级审批 approves the amount the
    formula gives (医保 having checked the costs, 民政 the income and assets), and may lower it where the costs or the
    household turn out otherwise (a bill already reimbursed, say), never raise it. So the most that may be approved is
    the formula's result (`formula`), itself within the 年度限额; the year's 个人自付合规医疗费用 and the 年度限额 stay
    as bounds for a ceiling made without the formula's result. (Approving up to the whole year's 合规自付 let an
    approver pay ten times what the document grants.)"""

    basis: Decimal              # the year's 个人自付合规医疗费用 of the kinds the section covers
    limit: Decimal | None       # the 年度限额; None where the policy (or the county, for a local value) sets none
    limit_reference: str
    formula: Decimal | None = None  # what the section's 起付线, 比例 and 年度限额 give (0 where the household fails)
    formula_reference: str = ""

    @property
    def highest(self) -> Decimal:
        bounds = [self.basis] + [b for b in (self.limit, self.formula) if b is not None]
        return min(bounds)

    def describe(self) -> str:
        """Which bound applies, in the words a refusal uses."""
        if self.formula is not None and self.formula == self.highest:
            return (f"按政策测算的依申请救助 {fmt(self.formula)} 元，由{self.formula_reference}的起付线、救助比例和年度"
                    f"限额算出；批准金额只能核减，不能高于测算金额")
        if self.limit is not None and self.limit <= self.basis:
            return f"依申请救助年度限额 {fmt(self.limit)} 元（{self.limit_reference}）"
        cap = "，政策未设年度限额" if self.limit is None else ""
        return f"本年个人自付合规医疗费用 {fmt(self.basis)} 元（救助不能超过本人负担的费用{cap}）"


@dataclass(slots=True)
class SettleResult:
    """A person's year, settled under one policy with one applied category."""

    policy: str
    policy_version: str
    applied_category: str
    visits: list[VisitResult]
    application_assistance_paid: Decimal = ZERO
    re_assistance_paid: Decimal = ZERO
    annual_steps: list[Step] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    premium_subsidy: dict | None = None
    risk: RiskCheck | None = None  # the 监测预警 test, when a rule covers the applied category (not in to_json)
    # The bound on an approved 依申请救助, when the policy has the section and the person may apply (not in to_json).
    application_ceiling: ApplicationCeiling | None = None
    # Whether the household met 依申请救助's conditions (income test, 财产核查); None where none was tested (not in
    # to_json): an approval at 0 元 of a household that did not is refused, one that did but is owed 0 is confirmed.
    application_passes: bool | None = None

    @property
    def total_paid(self) -> Decimal:
        """Everything the three tiers pay together for the year."""
        total = ZERO
        for v in self.visits:  # a loop, not sum() over a generator: this is asked of every candidate category's year
            total += v.basic_paid + v.serious_illness_paid + v.assistance_paid + v.tilt_assistance_paid
        return total + self.application_assistance_paid + self.re_assistance_paid

    def totals(self) -> dict[str, Decimal]:
        total = {k: ZERO for k in ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")}
        for v in self.visits:
            total["basic_paid"] += v.basic_paid
            total["serious_illness_paid"] += v.serious_illness_paid
            total["assistance_paid"] += v.assistance_paid
            total["tilt_assistance_paid"] += v.tilt_assistance_paid
        total["application_assistance_paid"] = self.application_assistance_paid
        total["re_assistance_paid"] = self.re_assistance_paid
        total["personal_pay"] = (sum((v.personal_pay for v in self.visits), ZERO)
                                 - self.application_assistance_paid - self.re_assistance_paid)
        return total

    def to_json(self) -> dict:
        out = {
            "policy": self.policy,
            "policy_version": self.policy_version,
            "applied_category": self.applied_category,
            "visits": [v.to_json() for v in self.visits],
            "annual": {
                "application_assistance_paid": fmt(self.application_assistance_paid),
                "re_assistance_paid": fmt(self.re_assistance_paid),
                "steps": [s.to_json() for s in self.annual_steps],
            },
            "totals": {k: fmt(v) for k, v in self.totals().items()},
            "warnings": [w.to_json() for w in self.warnings],
            "notes": list(self.notes),
        }
        if self.premium_subsidy is not None:
            out["premium_subsidy"] = self.premium_subsidy
        return out
