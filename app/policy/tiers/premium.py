"""资助参保: the premium subsidy a person's categories earn, the highest one only (就高, 不重复资助)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import CaseError
from app.domain.money import fmt, pct, round_fen
from app.policy.schema import Policy
from app.policy.tiers.common import Run
from app.policy.values import Rule

FULL = Decimal(1)


@dataclass(frozen=True, slots=True)
class PremiumOption:
    """What one 资助参保 rule gives one of the person's categories."""

    category: str
    mode: str                 # 全额, 比例 or 定额, as the policy file says
    share: Decimal | None     # of the individual contribution: 1 for 全额, the rule's share for 比例, None for 定额
    amount: Decimal | None    # 定额 only: the fixed amount, None while its local parameter is not set
    local: str | None         # 定额 only: the local parameter holding the amount, if the policy leaves it to the county
    reference: str
    reading: str | None


def premium_options(policy: Policy, value: Callable[[Rule, date, str], tuple[Any, Any]], cands: list[str],
                    insurance: str, day: date, local: dict[str, Decimal | None]) -> list[PremiumOption]:
    """Every rule of the policy that subsidises one of `cands` (in the policy's order), with its terms on `day`."""
    out = []
    for rule in policy.premium:
        hit = [c for c in cands if c in rule.categories]
        if not hit or (rule.schemes is not None and insurance not in rule.schemes):
            continue
        share = amount = key = None
        if rule.mode == "全额":
            share = FULL
        elif rule.mode == "比例":
            share = value(rule.share, day, "资助参保")[0]
        else:
            entry, parsed = rule.amount.at(day) or (None, None)
            key = entry.local if entry is not None else None
            amount = local.get(key) if key else parsed
        out.append(PremiumOption(hit[0], rule.mode, share, amount, key, rule.reference, rule.reading))
    return out


def contribution(policy: Policy, value: Callable[[Rule, date, str], tuple[Any, Any]], insurance: str, day: date,
                 need: str) -> tuple[Decimal, str] | None:
    """The individual contribution the policy declares (个人缴费) for a scheme on `day`, with its clause; None if it
    declares none. A contribution left to a local parameter the county has not set is a CaseError naming it."""
    rule = policy.contributions.get(insurance)
    if rule is None:
        return None
    amount, entry = value(rule, day, need)
    if amount is None or amount <= 0:
        raise CaseError("policy", f"{policy.id} 的个人缴费（{insurance}）在 {day} 为“不设”或 0，无法计算资助金额，请核对政策文件")
    return amount, entry.reference


def subsidy_amount(option: PremiumOption, paid: Decimal) -> Decimal | None:
    """What an option pays of a contribution: all, a share to the fen, or its fixed amount (None while unset)."""
    if option.share is not None:
        return round_fen(paid * option.share)
    return option.amount


def premium_subsidy(run: Run, cands: list[str], local: dict[str, Decimal | None]) -> dict | None:
    """Describe the best subsidy among the person's categories; a 定额 amount the county has not set is named, not guessed.

    Where the policy declares the year's contribution (个人缴费), the amount is computed and the options ranked by it.
    """
    day = run.case.visits[-1].date
    options = premium_options(run.policy, run.value, cands, run.case.insurance, day, local)
    if not options:
        return None
    try:
        paid = contribution(run.policy, run.value, run.case.insurance, day, "计算资助参保金额")
    except CaseError as exc:
        paid, missing = None, exc.field.removeprefix("local.")
    else:
        missing = None
    if paid is not None:
        best = max(options, key=lambda o: subsidy_amount(o, paid[0]) or 0)
    else:
        # Without the year's contribution a fixed amount cannot be ranked against a share of it: shares come first,
        # then the larger known fixed amount; on a tie the rule the policy lists first.
        best = max(options, key=lambda o: (o.share or 0, o.amount or 0))
    info: dict[str, Any] = {"category": best.category, "mode": best.mode, "reference": best.reference}
    if best.reading:
        info["reading"] = best.reading
    if best.share is not None:
        info["share"] = pct(best.share)
    elif best.amount is None:
        info["amount"] = None
        info["needs_local"] = best.local
    else:
        info["amount"] = fmt(best.amount)
    if paid is not None:
        info["contribution"] = fmt(paid[0])
        info["contribution_reference"] = paid[1]
        amount = subsidy_amount(best, paid[0])
        if amount is not None:
            info["amount"] = fmt(amount)
    elif missing is not None:
        info["contribution"] = None
        info["contribution_needs_local"] = missing
    return info
