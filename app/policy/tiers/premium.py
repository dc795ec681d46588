"""资助参保: the premium subsidy a person's categories earn, the highest one only (就高, 不重复资助)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.money import fmt, pct
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


def premium_subsidy(run: Run, cands: list[str], local: dict[str, Decimal | None]) -> dict | None:
    """Describe the best subsidy among the person's categories; a 定额 amount the county has not set is named, not guessed."""
    options = premium_options(run.policy, run.value, cands, run.case.insurance, run.case.visits[-1].date, local)
    # Without the year's contribution a fixed amount cannot be ranked against a share of it: shares come first,
    # then the larger known fixed amount; on a tie the rule the policy lists first.
    best = max(options, key=lambda o: (o.share or 0, o.amount or 0), default=None)
    if best is None:
        return None
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
    return info
