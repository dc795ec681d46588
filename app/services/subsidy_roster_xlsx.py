"""The 资助参保 roster as an .xlsx: the roster with its total, a summary by category, and who is not on it and why."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from app.domain.money import fmt
from app.services import xlsx_style as style
from app.services.subsidy_roster import Person, SubsidyEntry, SubsidyRoster

_PERSON = ["乡镇（街道）", "村（居）", "姓名", "公民身份号码", "户主", "与户主关系", "住址", "参保险种", "身份类别"]
_ROSTER = ["序号", *_PERSON, "资助类别（就高）", "认定部门", "资助方式", "个人缴费标准", "资助金额", "依据", "说明"]
_FROZEN = _ROSTER.index("姓名") + 1


def export_subsidy_roster(roster: SubsidyRoster, path: Path | str) -> Path:
    """Write the roster to `path` (replacing it whole); returns the path written."""
    wb = Workbook()
    _roster(wb.active, roster)
    _summary(wb.create_sheet("按类别汇总"), roster)
    _unlisted(wb.create_sheet("未列入名单"), roster)
    return style.save_whole(wb, Path(path))


def _lines(roster: SubsidyRoster) -> list[str]:
    sources = {scheme: f"（{source}）" for scheme, source in roster.contribution_sources.items()}
    paid = "；".join(f"{scheme} {fmt(amount)} 元/人·年{sources.get(scheme, '')}"
                    for scheme, amount in roster.contributions.items()
                    if any(e.person.insurance == scheme for e in roster.entries)) or "（名单中无人需要）"
    return [
        f"政策：{roster.policy_document}《{roster.policy_title}》",
        f"身份认定：以 {roster.on.year}年1月1日 有效的身份类别为准；同时具有多个类别的，按就高原则只资助一次，不重复资助",
        f"{roster.year}年度个人缴费标准（当年医保筹资文件确定，编制名单时填写）：{paid}",
        f"统计范围：{roster.place}（{roster.jurisdiction or '全部'}）　共 {len(roster.entries)} 人，资助金额合计 "
        f"{fmt(roster.total)} 元　生成时间：{roster.generated_at:%Y-%m-%d %H:%M}　金额单位：元",
    ]


def _person(p: Person) -> list[object]:
    return [p.township, p.village, p.name, p.id_number, p.head_name, p.relation_to_head, p.address, p.insurance,
            "、".join(p.categories)]


def _roster(ws: Worksheet, roster: SubsidyRoster) -> None:
    ws.title = "资助参保名单"
    style.title_lines(ws, f"{roster.place}{roster.year}年度城乡居民医保资助参保名单", _lines(roster), len(_ROSTER))
    header_row = style.header(ws, _ROSTER)
    first_number = _ROSTER.index("个人缴费标准") + 1
    for n, e in enumerate(roster.entries, start=1):
        style.data_row(ws, _entry(n, e), first_number)
    total = [None] * len(_ROSTER)
    total[0], total[_ROSTER.index("姓名")] = "合计", f"{len(roster.entries)} 人"
    total[_ROSTER.index("资助金额")] = roster.total
    style.data_row(ws, total, first_number, bold=True)
    style.finish(ws, header_row, len(_ROSTER), frozen_columns=_FROZEN, max_width=60)
    ws.column_dimensions["A"].width = 6


def _entry(n: int, e: SubsidyEntry) -> list[object]:
    return [n, *_person(e.person), e.category, e.certified_by, e.rule, e.contribution, e.amount, e.reference, e.note]


def _summary(ws: Worksheet, roster: SubsidyRoster) -> None:
    headers = ["资助类别", "资助方式", "人数", "资助金额"]
    style.title_lines(ws, f"{roster.place}{roster.year}年度资助参保按类别汇总", _lines(roster)[:1], len(headers))
    header_row = style.header(ws, headers)
    for category, rule, count, amount in roster.by_category():
        style.data_row(ws, [category, rule, count, amount], 3)
    style.data_row(ws, ["合计", "", len(roster.entries), roster.total], 3, bold=True)
    style.finish(ws, header_row, len(headers))


def _unlisted(ws: Worksheet, roster: SubsidyRoster) -> None:
    headers = ["序号", *_PERSON, "未列入原因"]
    style.title_lines(ws, f"{roster.place}{roster.year}年度持有身份类别但未列入资助参保名单的人员", [
        f"身份认定日期：{roster.on.year}年1月1日　共 {len(roster.unlisted)} 人"], len(headers))
    header_row = style.header(ws, headers)
    for n, u in enumerate(roster.unlisted, start=1):
        style.data_row(ws, [n, *_person(u.person), u.reason], len(headers) + 1)
    style.finish(ws, header_row, len(headers), frozen_columns=headers.index("姓名") + 1, max_width=60)
    ws.column_dimensions["A"].width = 6
