"""资助参保: the premium subsidy a person's categories earn, the highest one only (就高, 不重复资助)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.money import fmt, pct
from app.policy.tiers.common import Run


def premium_subsidy(run: Run, cands: list[str], local: dict[str, Decimal | None]) -> dict | None:
    """Describe the best subsidy among the person's categories; a 定额 amount the county has not set is named, not guessed."""
    day = run.case.visits[-1].date
    best: tuple[Decimal, dict] | None = None
    for rule in run.policy.premium:
        hit = [c for c in cands if c in rule.categories]
        if not hit or (rule.schemes is not None and run.case.insurance not in rule.schemes):
            continue
        info: dict[str, Any] = {"category": hit[0], "mode": rule.mode, "reference": rule.reference}
        if rule.reading:
            info["reading"] = rule.reading
        if rule.mode == "全额":
            rank = Decimal(1)
            info["share"] = "100%"
        elif rule.mode == "比例":
            rank = run.value(rule.share, day, "资助参保")[0]
            info["share"] = pct(rank)
        else:
            # A fixed amount cannot be ranked against a share of an unknown premium; shares come first.
            rank = Decimal(0)
            entry, parsed = rule.amount.at(day) or (None, None)
            key = entry.local if entry is not None else None
            amount = local.get(key) if key else parsed
            if amount is None:
                info["amount"] = None
                info["needs_local"] = key
            else:
                info["amount"] = fmt(amount)
        if best is None or rank > best[0]:
            best = (rank, info)
    return best[1] if best else None
