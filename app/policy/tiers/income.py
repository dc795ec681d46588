"""The household income test of 依申请救助 and of category tiers paid on application: passes or not, and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.case import CaseError
from app.domain.money import fmt, pct
from app.policy.schema import IncomeTest
from app.policy.tiers.common import Run


def household_figure(value: Decimal | None, where: str, label: str, need: str) -> Decimal:
    """A household figure the test needs; refuse, naming it, when the case lacks it."""
    if value is None:
        raise CaseError(where, f"{need}需要{label}，请填写（元）", label)
    return value


def income_test(run: Run, test: IncomeTest, compliant: Decimal, self_paid: Decimal, day: date,
                need: str) -> tuple[bool, str]:
    """Whether the household passes `test` on the year's self-paid costs, and the sentence saying so."""
    hh = run.case.household
    income = household_figure(hh.annual_income, "household.annual_income", "家庭年度总收入", need)
    if test.mode == "收入减自付低于低收入标准":
        standard = household_figure(hh.low_income_standard, "household.low_income_standard", "农村低收入家庭标准", need)
        passes = income - self_paid < standard
        left = income - self_paid
        left_text = fmt(left) if left >= 0 else f"负数（自付超出收入 {fmt(-left)}）"
        text = (f"家庭年度总收入 {fmt(income)} − 个人自付医疗总费用 {fmt(self_paid)} = {left_text}，"
                f"{'低于' if passes else '不低于'}低收入家庭标准 {fmt(standard)}")
    else:
        share, _ = run.value(test.share, day, need)
        passes = compliant > income * share
        text = (f"个人自付合规医疗费 {fmt(compliant)} {'超过' if passes else '未超过'}家庭收入 {fmt(income)} 的 "
                f"{pct(share)}（{fmt(income * share)}）")
    if test.asset_check:
        if hh.passes_asset_check is None:
            raise CaseError("household.passes_asset_check", f"{need}须经民政财产核查，还没有核查结果，"
                                                             "请填写是（符合）或否（不符合）")
        if not hh.passes_asset_check:
            passes = False
            text += "；不符合低收入家庭财产核查条件"
    return passes, text
