"""The family's explanation of a bill in plain words: what was spent, what each tier paid, what is left to them."""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import shown

# The parts of the family's own share as the engine splits it (app/policy/result.own_parts), in plain words; {tier}
# is the tier whose deductible, limit and rate they are of (基本医保, 大病保险, 医疗救助), when one is known.
PART_WORDS = (
    ("out_of_catalog", "目录外 {amount} 元"),
    ("under_deductible", "{tier}起付线以下的 {amount} 元，按规定由个人先付"),
    ("above_limit", "超过{tier}年度封顶线（限额）的 {amount} 元"),
    ("co_payment", "{tier}按比例支付后个人负担的 {amount} 元"),
    ("unsplit", "医保报销后剩下的 {amount} 元（医院结算单未分列起付线和比例）"),
)


def own_share_text(parts: dict) -> str:
    """What the family pays itself, part by part (only the parts that are not zero)."""
    tier = parts.get("tier") or ""
    said = [words.format(tier=tier, amount=shown(parts[key])) for key, words in PART_WORDS
            if Decimal(str(parts.get(key) or 0))]
    return "，".join(said)


def plain_explanation(figures: dict, visits: int = 1, kind: str = "住院") -> str:
    """One paragraph for the family, before the caseworker's formulas; `figures` holds a bill's or a year's amounts
    (total_cost, policy_covered, basic_paid, serious_illness_paid, assistance_paid, tilt_assistance_paid,
    personal_pay) as Decimal or text, and where the engine split it, `personal_pay_parts` (nothing is recomputed
    here: without the split only 目录外 is told apart)."""
    f = {k: Decimal(str(figures.get(k) or 0)) for k in (
        "total_cost", "policy_covered", "basic_paid", "serious_illness_paid", "assistance_paid",
        "tilt_assistance_paid", "personal_pay")}
    outside = f["total_cost"] - f["policy_covered"]
    relief = f["assistance_paid"] + f["tilt_assistance_paid"]
    inside_own = f["personal_pay"] - outside
    when = f"您本年度共就医 {visits} 次，" if visits > 1 else f"您这次{'住院' if kind == '住院' else '看病'}"
    parts = [f"{when}花了 {shown(f['total_cost'])} 元"]
    if outside > 0:
        parts.append(f"其中 {shown(outside)} 元是医保目录外的药品和项目，按国家政策不予报销")
    parts.append(f"基本医保报了 {shown(f['basic_paid'])} 元，大病保险报了 {shown(f['serious_illness_paid'])} 元，"
                 f"医疗救助给了 {shown(relief)} 元")
    if f["personal_pay"] < 0:  # the 补差 of earlier bills after a change of category (see forms.settlement_slip)
        parts.append(f"这次您不用自己付钱；本年您的身份类别有了变化，此前就诊的费用按新类别重算，多出的 "
                     f"{shown(-f['personal_pay'])} 元也在这次一并给您")
        return "；".join(parts) + "。"
    own = f"您自己付 {shown(f['personal_pay'])} 元"
    split = figures.get("personal_pay_parts")
    detail = own_share_text(split) if split else ""
    if detail:
        own += f"，其中{detail}"
    elif outside > 0 and inside_own >= 0:
        own += f"，其中目录外 {shown(outside)} 元，目录内各项报销之后剩下的 {shown(inside_own)} 元"
    parts.append(own)
    return "；".join(parts) + "。"
