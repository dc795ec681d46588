"""The 监测预警 list as an .xlsx for 民政 and 乡村振兴: title with county, month, policy and thresholds, then one row a person."""

from __future__ import annotations

from pathlib import Path

from app.documents import xlsx
from app.domain.money import ZERO
from app.services.monitoring import RiskEntry, RiskList

_FIXED = ["序号", "乡镇（街道）", "村（居）", "姓名", "公民身份号码", "户主", "与户主关系", "住址", "身份类别",
          "预警适用类别", "就诊次数", "医疗费用总额", "政策范围内费用", "基本医保统筹支付", "大病保险支付", "医疗救助支付",
          "倾斜救助支付"]
# Shown only when some row has them: the store's annual settlements carry them only where they were paid.
_OPTIONAL = [("application_assistance_paid", "依申请救助"), ("re_assistance_paid", "再救助")]
_CHECK = ["个人自付（含目录外）", "预警口径", "预警口径金额", "预警标准", "依据", "首次达到月份"]
_FIRST_NUMBER = _FIXED.index("就诊次数") + 1


def export_risk_list(risk: RiskList, path: Path | str) -> Path:
    """Write the list to `path` (replacing it whole); returns the path written."""
    optional = [(a, h) for a, h in _OPTIONAL if any(getattr(e, a) != ZERO for e in risk.entries)]
    headers = [*_FIXED, *(h for _, h in optional), *_CHECK]
    with xlsx.Book(path) as book:
        sheet = book.sheet("监测预警名单", headers, first_number=_FIRST_NUMBER,
                           frozen_columns=_FIXED.index("姓名") + 1,
                           title=f"{risk.place}{risk.period}因病返贫致贫风险监测预警名单", lines=[
            f"政策：{risk.policy_document}《{risk.policy_title}》",
            *(f"预警标准：{rule.describe()}" for rule in risk.rules),
            f"费用累计：{risk.year}年1月1日至{risk.year}年{risk.month}月{risk.as_of.day}日出院（结算）　统计范围："
            f"{risk.place}（{risk.jurisdiction or '全部'}）　共 {len(risk.entries)} 人　生成时间："
            f"{risk.generated_at:%Y-%m-%d %H:%M}　金额单位：元",
            "报送：民政部门、乡村振兴部门核查（同一名单）。含完整公民身份号码，仅供部门内部核查使用，请妥善保管，不得公开。",
        ])
        for n, e in enumerate(risk.entries, start=1):
            sheet.row(_values(n, e, optional))
        if not risk.entries:
            sheet.note(f"{risk.period}末没有达到预警标准的人员")
        sheet.width(1, 6)
    return Path(path)


def _values(n: int, e: RiskEntry, optional: list[tuple[str, str]]) -> list[object]:
    c = e.check
    return [n, e.township, e.village, e.name, e.id_number, e.head_name, e.relation_to_head, e.address,
            "、".join(e.categories) or "（无）", e.applied_category, e.visits, e.total_cost, e.policy_covered,
            e.basic_paid, e.serious_illness_paid, e.assistance_paid, e.tilt_assistance_paid,
            *(getattr(e, a) for a, _ in optional), e.personal_pay,
            f"{c.scope}（{'、'.join(c.kinds)}）{c.comparison}预警标准", c.amount, c.threshold, c.reference,
            f"{e.first_month}月"]
