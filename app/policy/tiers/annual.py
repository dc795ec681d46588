"""The year's own rules: 依申请救助, 湖南 再救助 and the 因病返贫致贫 监测预警."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.domain.case import CaseError
from app.domain.money import fmt, pct
from app.policy import blocks
from app.policy.blocks import ZERO
from app.policy.result import ApplicationCeiling, RiskCheck, SettleResult, Step, Warning
from app.policy.tiers.common import Run, money_text, year_sum
from app.policy.tiers.income import income_test


def settle_application(run: Run, out: SettleResult, explain: bool) -> None:
    """依申请救助 for a person outside the assistance categories who passes the income test."""
    if not run.case.application:
        return
    if any(t.on_application is not None for (_, cat), t in run.index.treatment.items() if cat == run.cat):
        return  # the application was for the category's own tier, settled with the assistance
    sec = run.policy.application
    if sec is None:
        out.warnings.append(Warning("application_not_defined",
                                    f"本政策（{run.policy.document}）未规定依申请救助的待遇标准，未计算依申请救助。"))
        return
    if run.cat in run.index.assisted:
        out.warnings.append(Warning("application_not_applicable",
                                    f"申请人属于{run.cat}，已按类别享受医疗救助，不再另行计算依申请救助。"))
        return
    day = run.case.visits[-1].date
    need = "测算依申请救助"
    test = sec.income_test
    compliant = year_sum(out.visits, run.case, sec.kinds, "compliant_self_pay")
    limit, l_entry = run.value(sec.annual_limit, day, need)
    out.application_ceiling = ApplicationCeiling(compliant, limit, l_entry.reference)
    self_paid = year_sum(out.visits, run.case, sec.kinds, "personal_pay")
    passes, test_text = income_test(run, test, compliant, self_paid, day, "依申请救助")
    out.application_passes = passes
    if not passes:
        out.application_ceiling = replace(out.application_ceiling, formula=ZERO, formula_reference=test.reference)
        if explain:
            out.annual_steps.append(Step("依申请救助", ZERO, test.reference, f"不符合依申请救助条件：{test_text}"))
        return
    deductible, d_entry = run.value(sec.deductible, day, need)
    rate, r_entry = run.value(sec.rate, day, need)
    over = blocks.over_deductible(compliant, deductible)
    paid = min(blocks.assisted(compliant, deductible, rate, limit), compliant)
    out.application_assistance_paid = paid
    out.application_ceiling = replace(out.application_ceiling, formula=paid, formula_reference=r_entry.reference)
    if explain:
        out.annual_steps.append(Step("依申请救助", paid, "；".join(dict.fromkeys([test.reference, r_entry.reference])),
                                     f"{test_text}，符合条件；本年个人自付合规医疗费用 {fmt(compliant)} − 起付线 "
                                     f"{money_text(deductible)} = {fmt(over)} × {pct(rate)} = {fmt(over * rate)}"
                                     f"（年度限额 {money_text(limit)}）"))


def settle_re_assistance(run: Run, out: SettleResult, explain: bool) -> None:
    """湖南 再救助 on the burden above the threshold, when applied for; otherwise a hint that it could be."""
    sec = run.policy.re_assistance
    if sec is None:
        return
    day = run.case.visits[-1].date
    need = "测算再救助"
    burden = year_sum(out.visits, run.case, sec.kinds, "compliant_self_pay") - out.application_assistance_paid
    if not run.case.application:
        try:
            threshold, t_entry = run.value(sec.threshold, day, need)
        except CaseError:
            return  # only a hint; the threshold's local value is not needed to pay anything
        if threshold is not None and burden > threshold:
            out.warnings.append(re_assistance_hint(burden, threshold, t_entry.reference))
        return
    threshold, t_entry = run.value(sec.threshold, day, need)
    rate, r_entry = run.value(sec.rate, day, need)
    cap, c_entry = run.value(sec.cap, day, need)
    over = blocks.over_deductible(burden, threshold)
    paid = min(blocks.assisted(burden, threshold, rate, cap), max(burden, ZERO))
    out.re_assistance_paid = paid
    if explain:
        out.annual_steps.append(Step("再救助", paid, "；".join(dict.fromkeys([t_entry.reference, r_entry.reference])),
                                     f"三重制度后本年政策范围内个人负担 {fmt(burden)} − 门槛（上年度居民人均可支配收入的 25%）"
                                     f"{money_text(threshold)} = {fmt(over)} × {pct(rate)} = {fmt(over * rate)}"
                                     f"（再救助封顶线 {money_text(cap)}）"))


def re_assistance_hint(burden: Decimal, threshold: Decimal, reference: str) -> Warning:
    """The hint that a year's burden above the 再救助 threshold could be assisted on application."""
    return Warning("re_assistance_possible", f"三重制度后政策范围内个人负担 {fmt(burden)} 元，超过门槛 {fmt(threshold)} 元"
                                             f"（{reference}）；如有返贫致贫风险，可经申请审核给予再救助。")


def risk_check(run: Run, out: SettleResult) -> RiskCheck | None:
    """The 因病返贫致贫 监测预警 test of the settled year: the first rule covering the applied category decides."""
    day = run.case.visits[-1].date
    for rule in run.policy.warnings:
        if run.cat not in rule.categories:
            continue
        threshold, entry = run.value(rule.threshold, day, "判断因病返贫致贫监测预警")
        attr = "compliant_self_pay" if rule.measure == "合规自付" else "personal_pay"
        amount = (year_sum(out.visits, run.case, rule.kinds, attr)
                  - out.application_assistance_paid - out.re_assistance_paid)
        hit = amount >= threshold if rule.comparison == "达到" else amount > threshold
        return RiskCheck(rule.measure, RISK_SCOPE[rule.measure], tuple(rule.kinds), amount, threshold,
                         rule.comparison, entry.reference, hit)
    return None


# How a warning names the figure each 口径 measures.
RISK_SCOPE = {"合规自付": "个人自付合规医疗费用", "全部自付": "个人自负费用（含目录外）"}


def add_warnings(run: Run, out: SettleResult) -> None:
    """The 因病返贫致贫 监测预警 when the year's self-paid costs reach the policy's threshold."""
    out.risk = check = risk_check(run, out)
    if check is not None and check.reached:
        out.warnings.append(risk_warning(check))


def risk_warning(check: RiskCheck) -> Warning:
    """The 监测预警 a reached check raises."""
    return Warning("return_to_poverty_risk", f"因病返贫致贫风险监测预警：本年度{check.scope} {fmt(check.amount)} 元，"
                                             f"{check.comparison} {fmt(check.threshold)} 元（{check.reference}），"
                                             f"应按月推送民政、乡村振兴部门核查。")
