"""Dated rule values: each value is keyed by the date it takes effect and carries its document clause."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    model_validator,
)
from pydantic_core import PydanticCustomError

NONE_WORDS = ("不设", "无", "取消")
PLACEHOLDER = "待填"  # what `policy new` writes where the officer must put the document's value
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_POINTS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*个百分点\s*$")


class Strict(BaseModel):
    """Base for policy-file models: unknown keys are errors, keys are the Chinese labels."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


@dataclass(frozen=True, slots=True)
class Band:
    """One bracket of a banded (分段) rate: costs above `lower` up to `upper` (None: no upper end)."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal


def parse_amount(raw: Any, allow_none: bool = True) -> Decimal | None:
    """An amount in yuan, or None for 不设."""
    if isinstance(raw, str) and _PERCENT.match(raw):
        raise ValueError(f"“{raw}”是百分数，不是金额：文件规定为某个数的百分之几时，再写一行“基数: 地方参数名”"
                         "（如 基数: per_capita_disposable_income，上年度居民人均可支配收入），否则请写金额（元）")
    if isinstance(raw, str) and raw.strip() in NONE_WORDS:
        if not allow_none:
            raise ValueError(f"此处不能写“{raw}”，请填写金额（元）")
        return None
    if isinstance(raw, bool) or not isinstance(raw, (Decimal, int, str)):
        raise ValueError(f"“{raw}”不是金额，请填写数字（元）或“不设”")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"“{raw}”不是金额，请填写数字（元）或“不设”") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"金额不能为负数或非数字：{raw}")
    return value


def parse_ratio(raw: Any) -> Decimal:
    """A ratio written as a percentage string: "75%" → 0.75 (bare numbers are refused as ambiguous)."""
    match = _PERCENT.match(str(raw)) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"比例“{raw}”请写成百分数，例如 \"75%\"")
    value = Decimal(match.group(1)) / 100
    if value > 1:
        raise ValueError(f"比例“{raw}”超过 100%：报销、救助、资助的比例都不能超过 100%，请核对文件")
    return value


def parse_points(raw: Any) -> Decimal:
    """A rise in percentage points: "5个百分点" → 0.05."""
    match = _POINTS.match(str(raw)) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"“{raw}”请写成百分点，例如 \"5个百分点\"")
    value = Decimal(match.group(1)) / 100
    if value > 1:
        raise ValueError(f"“{raw}”超过 100 个百分点：提高后的比例不可能超过 100%，请核对文件")
    return value


def parse_bands(raw: Any) -> tuple[Band, ...]:
    """Brackets written as a list of {起, 至, 比例}; contiguous from 0, only the last open-ended."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("分段比例请写成列表，每段写“起”“至”“比例”，最后一段可不写“至”")
    bands: list[Band] = []
    expected = Decimal(0)
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"起", "至", "比例"} or "起" not in item or "比例" not in item:
            raise ValueError(f"第 {i} 段：每段只能写“起”“至”“比例”，且“起”“比例”必填")
        lower = parse_amount(item["起"], allow_none=False)
        upper = parse_amount(item["至"], allow_none=False) if "至" in item else None
        if lower != expected:
            raise ValueError(f"第 {i} 段：“起”应为 {expected}（紧接上一段的“至”）")
        if upper is None and i != len(raw):
            raise ValueError(f"第 {i} 段：只有最后一段可以不写“至”")
        if upper is not None and upper <= lower:
            raise ValueError(f"第 {i} 段：“至”必须大于“起”")
        bands.append(Band(lower, upper, parse_ratio(item["比例"])))
        expected = upper if upper is not None else expected
    return tuple(bands)


class Entry(Strict):
    """One dated value: a literal (值), a county's local parameter (地方参数), or 值 × 基数."""

    value: Any = Field(None, alias="值")
    local: str | None = Field(None, alias="地方参数")
    base: str | None = Field(None, alias="基数")
    reference: str = Field(alias="依据", min_length=2)
    reading: str | None = Field(None, alias="解读")

    @model_validator(mode="after")
    def _one_source(self) -> "Entry":
        if (self.value is None) == (self.local is None):
            raise ValueError("每个取值必须写“值”或“地方参数”之一（不能都写，也不能都不写）")
        # 基数 × 值 (值: "5%"), or 基数 × a county's ratio (地方参数 of unit 比例) where the document words the share
        # loosely (“50%左右”): both are a share of the base.
        return self


def _at(day: date, reason: str) -> PydanticCustomError:
    """A refusal of one dated entry: the loader adds the date to the location, so the line is the entry's own."""
    return PydanticCustomError("policy_value", "{reason}", {"reason": reason, "day": day.isoformat()})


class Rule(RootModel[dict[date, Entry]]):
    """A rule's values keyed by the date each takes effect; subclasses fix the kind of value."""

    kind: ClassVar[str] = "any"
    unit: ClassVar[str] = ""
    _dates: list[date] = PrivateAttr(default_factory=list)
    _parsed: list[Any] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _typed(self) -> "Rule":
        if not self.root:
            raise ValueError("至少要有一个生效日期及其取值")
        dates = sorted(self.root)
        self._dates = dates
        parsed = []
        for d in dates:
            entry = self.root[d]
            if entry.base is not None and self.kind != "amount":
                raise _at(d, f"“基数”只能用在金额上（起付线、限额、封顶线、门槛）：{self.unit}本身就是百分数，乘上基数"
                             f"就成了金额。请删去“基数: {entry.base}”，只写“值”")
            try:
                if entry.value is None:
                    parsed.append(None)
                elif entry.base is not None:
                    parsed.append(parse_ratio(entry.value))
                else:
                    parsed.append(self.parse(entry.value))
            except ValueError as exc:
                raise _at(d, str(exc)) from None
        self._parsed = parsed
        return self

    @staticmethod
    def parse(raw: Any) -> Any:
        raise NotImplementedError

    def at(self, day: date) -> tuple[Entry, Any] | None:
        """The entry in force on `day` and its parsed literal (None if from a local), or None before the first date."""
        dates = self._dates
        i = bisect.bisect_right(dates, day) - 1
        if i < 0:
            return None
        return self.root[dates[i]], self._parsed[i]

    def entries(self) -> list[tuple[date, Entry]]:
        return [(d, self.root[d]) for d in self._dates]


class AmountRule(Rule):
    kind: ClassVar[str] = "amount"
    unit: ClassVar[str] = "元"

    @staticmethod
    def parse(raw: Any) -> Decimal | None:
        return parse_amount(raw)


class RatioRule(Rule):
    kind: ClassVar[str] = "ratio"
    unit: ClassVar[str] = "比例"

    @staticmethod
    def parse(raw: Any) -> Decimal:
        return parse_ratio(raw)


class PointsRule(Rule):
    kind: ClassVar[str] = "points"
    unit: ClassVar[str] = "百分点"

    @staticmethod
    def parse(raw: Any) -> Decimal:
        return parse_points(raw)


YES_WORDS = ("是", "执行")
NO_WORDS = ("否", "不执行")


def parse_switch(raw: Any) -> bool:
    """A county's yes/no choice where a document says “可以”: 是/执行 or 否/不执行 (YAML true/false too)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    raise ValueError(f"“{raw}”请写成 是 或 否")


class SwitchRule(Rule):
    """A yes/no choice, dated like every value (湛江 二(三)6 “可以连续计算起付线”: whether the county does)."""

    kind: ClassVar[str] = "switch"
    unit: ClassVar[str] = "是否"
    parse = staticmethod(parse_switch)


class RateRule(Rule):
    """A flat percentage, or banded (分段) percentages."""

    kind: ClassVar[str] = "rate"
    unit: ClassVar[str] = "比例"

    @staticmethod
    def parse(raw: Any) -> Decimal | tuple[Band, ...]:
        return parse_bands(raw) if isinstance(raw, list) else parse_ratio(raw)
