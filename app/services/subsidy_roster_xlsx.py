"""The 资助参保 roster as an .xlsx: the roster with its total, a summary by category, and who is not on it and why."""

from __future__ import annotations

from pathlib import Path

from app.documents import xlsx
from app.domain.money import fmt
from app.services.subsidy_roster import Person, SubsidyEntry, SubsidyRoster

_PERSON = ["乡镇（街道）", "村（居）", "姓名", "公民身份号码", "户主", "与户主关系", "住址", "参保险种", "身份类别"]
_ROSTER = ["序号", *_PERSON, "资助类别（就高）", "认定部门", "资助方式", "个人缴费标准", "资助金额", "依据", "说明"]
_FROZEN = _ROSTER.index("姓名") + 1


def export_subsidy_roster(roster: SubsidyRoster, path: Path | str) -> Path:
    """Write the roster to `path` (replacing it whole); returns the path written."""
    with xlsx.Book(path) as book:
        _roster(book, roster)
        _summary(book, roster)
        _unlisted(book, roster)
    return Path(path)


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


def _roster(book: xlsx.Book, roster: SubsidyRoster) -> None:
    sheet = book.sheet("资助参保名单", _ROSTER, title=f"{roster.place}{roster.year}年度城乡居民医保资助参保名单",
                       lines=_lines(roster), first_number=_ROSTER.index("个人缴费标准") + 1, frozen_columns=_FROZEN,
                       max_width=60)
    for n, e in enumerate(roster.entries, start=1):
        sheet.row(_entry(n, e))
    total = [None] * len(_ROSTER)
    total[0], total[_ROSTER.index("姓名")] = "合计", f"{len(roster.entries)} 人"
    total[_ROSTER.index("资助金额")] = roster.total
    sheet.row(total, bold=True)
    sheet.width(1, 6)


def _entry(n: int, e: SubsidyEntry) -> list[object]:
    return [n, *_person(e.person), e.category, e.certified_by, e.rule, e.contribution, e.amount, e.reference, e.note]


def _summary(book: xlsx.Book, roster: SubsidyRoster) -> None:
    sheet = book.sheet("按类别汇总", ["资助类别", "资助方式", "人数", "资助金额"], first_number=3,
                       title=f"{roster.place}{roster.year}年度资助参保按类别汇总", lines=_lines(roster)[:1])
    for category, rule, count, amount in roster.by_category():
        sheet.row([category, rule, count, amount])
    sheet.row(["合计", "", len(roster.entries), roster.total], bold=True)


def _unlisted(book: xlsx.Book, roster: SubsidyRoster) -> None:
    headers = ["序号", *_PERSON, "未列入原因"]
    sheet = book.sheet("未列入名单", headers, first_number=len(headers) + 1, frozen_columns=headers.index("姓名") + 1,
                       max_width=60, title=f"{roster.place}{roster.year}年度持有身份类别但未列入资助参保名单的人员",
                       lines=[f"身份认定日期：{roster.on.year}年1月1日　共 {len(roster.unlisted)} 人"])
    for n, u in enumerate(roster.unlisted, start=1):
        sheet.row([n, *_person(u.person), u.reason])
    sheet.width(1, 6)
