"""A settlement case: the person, household and a year's visits, validated with Chinese messages naming the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.domain.errors import FieldError
from app.domain.money import MoneyError, parse_money
from app.domain.names import (
    DEFAULT_INSURANCE,
    HOSPITAL_LEVEL_ALIASES,
    INSURANCE_SCHEMES,
    VISIT_KINDS,
)


class CaseError(FieldError):
    """Input that cannot be settled: `field` is its settle-json key (visits[0].total_cost), with label and message."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One hospital bill."""

    id: str
    date: date
    kind: str
    total_cost: Decimal
    policy_covered: Decimal
    basic_paid: Decimal | None = None
    serious_illness_paid: Decimal | None = None
    referred: bool = False
    in_province: bool = True
    hospital_level: str | None = None
    major_disease: bool = False
    # 芜医保〔2021〕76号 二(二)5 pays 救助 only "在参保地定点医疗机构或按规定转诊异地就医（急诊、抢救除外）". A bill recorded
    # before these fields existed has no value: it is read as 参保地, not 急诊, not 备案 — the reading under which every
    # stored bill and golden case was settled, so they settle exactly as before.
    emergency: bool = False
    in_insured_area: bool = True
    filed_remote: bool = False

    @property
    def out_of_catalog(self) -> Decimal:
        return self.total_cost - self.policy_covered


@dataclass(frozen=True, slots=True)
class Household:
    """What 依申请救助 and 因病致贫 tests need to know of the household."""

    annual_income: Decimal | None = None
    low_income_standard: Decimal | None = None
    passes_asset_check: bool | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """Everything the engine needs to settle one person's year."""

    policy: str
    visits: tuple[Visit, ...]
    categories: tuple[str, ...] = ()
    insurance: str = DEFAULT_INSURANCE
    local: dict[str, object] = field(default_factory=dict)
    household: Household = field(default_factory=Household)
    application: bool = False


_TOP = {"policy", "local", "person", "household", "application", "visits"}
_PERSON = {"categories", "insurance"}
_HOUSEHOLD = {"annual_income", "low_income_standard", "passes_asset_check"}
_VISIT = {"id", "date", "kind", "total_cost", "policy_covered", "basic_paid", "serious_illness_paid",
          "referred", "in_province", "hospital_level", "major_disease", "emergency", "in_insured_area",
          "filed_remote"}


def _money(raw: object, where: str) -> Decimal:
    try:
        return parse_money(raw, where, exact=True)
    except MoneyError as exc:
        raise CaseError(exc.field, exc.message, exc.label) from None


def _bool(raw: object, where: str, default: bool) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise CaseError(where, f"应为 true 或 false（填写的是 {raw!r}）")
    return raw


def key_text(key: str) -> str:
    """A JSON key as a message shows it: in quotes and escaped if it is empty or holds spaces or control characters,
    so that the field the message names can be seen and the message stays on one line."""
    return key if key and key.isprintable() and not any(c.isspace() for c in key) else json.dumps(key, ensure_ascii=False)


def _unknown(data: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise CaseError(f"{where}{key_text(extra[0])}",
                        f"没有“{key_text(extra[0])}”这一项，请检查拼写（可用字段：{'、'.join(sorted(allowed))}）", "未知字段")


# settle-json.md: dates as 2022-03-05. date.fromisoformat also takes 20220305 and 2022-W10-6, which a script may have
# meant otherwise; the contract refuses them.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(raw: object, where: str, label: str | None = None) -> date:
    """A calendar date written exactly as YYYY-MM-DD; anything else is a CaseError naming `where`."""
    if not isinstance(raw, str) or not _ISO_DAY.fullmatch(raw):
        shown = f"“{raw}”" if isinstance(raw, str) else "此项"
        raise CaseError(where, f"{shown}不是 年-月-日 格式的日期，请写成 \"2022-03-05\" 的形式", label)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CaseError(where, f"“{raw}”不是有效日期（没有这一天），请写成 \"2022-03-05\" 的形式", label) from None


def _date(raw: object, where: str) -> date:
    return parse_day(raw, where)


def _visit(raw: object, i: int) -> Visit:
    at = f"visits[{i}]"
    if not isinstance(raw, dict):
        raise CaseError(at, f"每次就诊应为一个对象（{{...}}）")
    _unknown(raw, _VISIT, f"{at}.")
    for key in ("date", "kind", "total_cost", "policy_covered"):
        if key not in raw:
            raise CaseError(f"{at}.{key}", "缺少此字段，必须填写")
    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in VISIT_KINDS:
        raise CaseError(f"{at}.kind", f"“{kind}”不是就诊类别，应为 {'、'.join(VISIT_KINDS)} 之一")
    total = _money(raw["total_cost"], f"{at}.total_cost")
    covered = _money(raw["policy_covered"], f"{at}.policy_covered")
    if covered > total:
        raise CaseError(f"{at}.policy_covered", f"政策范围内费用 {covered} 大于医疗费用总额 {total}，请核对结算单")
    basic = _money(raw["basic_paid"], f"{at}.basic_paid") if raw.get("basic_paid") is not None else None
    serious = (_money(raw["serious_illness_paid"], f"{at}.serious_illness_paid")
               if raw.get("serious_illness_paid") is not None else None)
    if basic is not None and basic > covered:
        raise CaseError(f"{at}.basic_paid", f"基本医保支付 {basic} 大于政策范围内费用 {covered}，请核对结算单")
    if serious is not None and serious + (basic or 0) > covered:
        raise CaseError(f"{at}.serious_illness_paid", f"大病保险支付 {serious} 加基本医保支付超过政策范围内费用 {covered}，请核对结算单")
    if serious is not None and basic is None:
        raise CaseError(f"{at}.basic_paid", "已填写大病保险支付，请同时填写基本医保支付（结算单上的统筹支付）")
    level = raw.get("hospital_level")
    if level is not None:
        if not isinstance(level, str) or level not in HOSPITAL_LEVEL_ALIASES:
            raise CaseError(f"{at}.hospital_level", f"“{level}”不是医院级别，应为 基层、县级、市级、省级 之一")
        level = HOSPITAL_LEVEL_ALIASES[level]
    vid = raw.get("id", f"v{i + 1}")
    if not isinstance(vid, (str, int)) or isinstance(vid, bool):
        raise CaseError(f"{at}.id", "就诊编号应为文字")
    return Visit(
        id=str(vid), date=_date(raw["date"], f"{at}.date"), kind=kind, total_cost=total, policy_covered=covered,
        basic_paid=basic, serious_illness_paid=serious,
        referred=_bool(raw.get("referred"), f"{at}.referred", False),
        in_province=_bool(raw.get("in_province"), f"{at}.in_province", True),
        hospital_level=level, major_disease=_bool(raw.get("major_disease"), f"{at}.major_disease", False),
        emergency=_bool(raw.get("emergency"), f"{at}.emergency", False),
        in_insured_area=_bool(raw.get("in_insured_area"), f"{at}.in_insured_area", True),
        filed_remote=_bool(raw.get("filed_remote"), f"{at}.filed_remote", False),
    )


def parse_case(data: object) -> Case:
    """Validate a settle-json case; raise CaseError naming the first bad field."""
    if not isinstance(data, dict):
        raise CaseError("case", "应为一个 JSON 对象（{...}）")
    _unknown(data, _TOP, "")
    policy = data.get("policy")
    if not isinstance(policy, str) or not policy:
        raise CaseError("policy", "缺少政策编号，例如 \"wuhu-2022\"（jiuzhu policy list 可列出）")
    local = {} if data.get("local") is None else data["local"]
    if not isinstance(local, dict):
        raise CaseError("local", "应为对象，例如 {\"per_capita_disposable_income\": \"30000\"}")
    person = {} if data.get("person") is None else data["person"]
    if not isinstance(person, dict):
        raise CaseError("person", "应为对象，例如 {\"categories\": [\"低保对象\"]}")
    _unknown(person, _PERSON, "person.")
    categories = [] if person.get("categories") is None else person["categories"]
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise CaseError("person.categories", "应为类别名称的列表，例如 [\"低保对象\"]")
    insurance = person.get("insurance") or DEFAULT_INSURANCE
    if not isinstance(insurance, str) or insurance not in INSURANCE_SCHEMES:
        raise CaseError("person.insurance", f"“{insurance}”不是险种，应为 {'、'.join(INSURANCE_SCHEMES)} 之一")
    hh = {} if data.get("household") is None else data["household"]
    if not isinstance(hh, dict):
        raise CaseError("household", "应为对象")
    _unknown(hh, _HOUSEHOLD, "household.")
    household = Household(
        annual_income=_money(hh["annual_income"], "household.annual_income") if hh.get("annual_income") is not None else None,
        low_income_standard=(_money(hh["low_income_standard"], "household.low_income_standard")
                             if hh.get("low_income_standard") is not None else None),
        passes_asset_check=_bool(hh.get("passes_asset_check"), "household.passes_asset_check", None),  # type: ignore[arg-type]
    )
    visits_raw = data.get("visits")
    if not isinstance(visits_raw, list) or not visits_raw:
        raise CaseError("visits", "至少要有一次就诊（列表）")
    visits = tuple(_visit(v, i) for i, v in enumerate(visits_raw))
    years = {v.date.year for v in visits}
    if len(years) > 1:
        raise CaseError("visits", f"所有就诊必须在同一自然年度内（现有 {'、'.join(map(str, sorted(years)))} 年），请按年度分开结算")
    for i in range(1, len(visits)):
        if visits[i].date < visits[i - 1].date:
            raise CaseError(f"visits[{i}].date", f"就诊须按日期先后排列（{visits[i].date} 早于上一次 {visits[i - 1].date}）")
    ids = [v.id for v in visits]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise CaseError("visits", f"就诊编号 id “{dup}”重复，每次就诊的 id 须不同")
    application = _bool(data.get("application"), "application", False)
    return Case(policy=policy, visits=visits, categories=tuple(categories), insurance=insurance,
                local=dict(local), household=household, application=application)
