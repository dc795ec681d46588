"""The policy file format (pydantic): sections for each tier, keyed in Chinese as a policy officer writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.domain.names import (
    CANONICAL_CATEGORIES,
)
from app.policy.values import (
    AmountRule,
    PointsRule,
    RateRule,
    RatioRule,
    Strict,
    parse_amount,
    parse_points,
    parse_ratio,
    parse_switch,
    SwitchRule,
)

Kind = Literal["住院", "门诊慢特病", "普通门诊"]
Scheme = Literal["城乡居民医保", "职工医保", "新农合", "城镇居民医保"]
Condition = Literal["规范转诊", "省内就医", "重特大疾病", "参保地就医", "急诊抢救", "异地备案"]
Categories = Annotated[list[str], Field(min_length=1)]
Kinds = Annotated[list[Kind], Field(min_length=1)]


def refuse_key(key: str, reason: str) -> PydanticCustomError:
    """A refusal of one key of a section: the loader adds the key to the location, so the line is the key's own."""
    return PydanticCustomError("policy_value", "{reason}", {"reason": reason, "key": key})


def _only_with(present: object, needs: object, key: str, other: str, why: str) -> None:
    """Refuse `key` written where it means nothing: without `other`, or beside it (`needs` says which)."""
    if present is not None and not needs:
        raise refuse_key(key, f"“{key}”{why}，请删去“{key}”或改写“{other}”")


class LocalParameter(Strict):
    """A value the document leaves to the county: declared with label and unit, supplied per county."""

    label: str = Field(alias="名称")
    unit: Literal["元", "比例", "百分点", "是否"] = Field(alias="单位")
    reference: str = Field(alias="依据", min_length=2)
    note: str | None = Field(None, alias="说明")
    minimum: Decimal | None = Field(None, alias="最小值")
    maximum: Decimal | None = Field(None, alias="最大值")
    allow_none: bool = Field(False, alias="可不设")
    # The document's own figure where it words the value loosely (“50%左右”, “原则上…5%”): shown to the county as the
    # suggestion when it sets the value, never used in its place — the county must still set it.
    suggestion: str | None = Field(None, alias="建议值")

    @model_validator(mode="after")
    def _suggestion(self) -> "LocalParameter":
        if self.suggestion is not None:
            parse = {"元": parse_amount, "比例": parse_ratio, "百分点": parse_points, "是否": parse_switch}[self.unit]
            try:
                parse(self.suggestion)
            except ValueError as exc:
                raise refuse_key("建议值", f"建议值：{exc}") from None
        return self

    @model_validator(mode="after")
    def _bounds(self) -> "LocalParameter":
        top = {"比例": Decimal(1), "百分点": Decimal(1)}.get(self.unit)
        for key, bound in (("最小值", self.minimum), ("最大值", self.maximum)):
            if bound is None:
                continue
            if bound < 0:
                raise ValueError(f"“{key}”不能为负数")
            if top is not None and bound > top:
                raise ValueError(f"单位是{self.unit}，“{key}”请写成小数，1 表示 100%（写的是 {bound}）")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"“最小值” {self.minimum} 大于“最大值” {self.maximum}，县里填什么都不合格，请核对文件")
        return self


class CategoryDecl(Strict):
    """A category this policy recognises, in order of precedence for 就高不就低 ties."""

    name: str = Field(alias="名称")
    aliases: list[str] = Field(default_factory=list, alias="别名")
    custom: bool = Field(False, alias="本地类别")
    note: str | None = Field(None, alias="说明")

    @model_validator(mode="after")
    def _canonical(self) -> "CategoryDecl":
        if not self.custom and self.name not in CANONICAL_CATEGORIES:
            raise ValueError(f"类别“{self.name}”不在标准类别中；若是本文件特有的类别，请加“本地类别: true”")
        return self


Level = Literal["基层", "县级", "市级", "省级"]


class ByLevel(Strict):
    """A value that differs by hospital level (同级别医疗机构)."""

    levels: dict[Level, AmountRule] = Field(alias="按医院级别")


class RatioByLevel(Strict):
    """A rate that differs by hospital level (湛医保〔2019〕5号 二(三)6 “在不同级别医疗机构实行不同的……支付比例”)."""

    levels: dict[Level, RatioRule] = Field(alias="按医院级别")


class BasicKindTerms(Strict):
    """Basic insurance terms for one kind of visit; the deductible is per visit (每次住院)."""

    deductible: AmountRule | ByLevel = Field(alias="起付线")
    rate: RatioRule | RatioByLevel = Field(alias="比例")
    annual_cap: AmountRule | None = Field(None, alias="年度限额")
    note: str | None = Field(None, alias="说明")

    @field_validator("deductible", "rate", mode="before")
    @classmethod
    def _levelled(cls, raw: Any, info: Any) -> Any:
        if isinstance(raw, dict) and "按医院级别" in raw:
            return (ByLevel if info.field_name == "deductible" else RatioByLevel).model_validate(raw)
        return raw


class BasicAdjustment(Strict):
    """Basic-insurance terms that differ for some categories (and schemes), e.g. 六盘水 新农合 80%."""

    categories: Categories = Field(alias="类别")
    schemes: list[Scheme] | None = Field(None, alias="险种")
    kinds: Kinds = Field(alias="费用类别")
    deductible: AmountRule | None = Field(None, alias="起付线")
    rate: RatioRule | None = Field(None, alias="比例")
    rate_uplift: PointsRule | None = Field(None, alias="比例提高")
    note: str | None = Field(None, alias="说明")

    @model_validator(mode="after")
    def _one_rate(self) -> "BasicAdjustment":
        _only_with(self.rate_uplift, self.rate is None, "比例提高", "比例",
                   "和“比例”同时写了：写了本类别自己的比例，就不再提高普通比例")
        return self


class ReferralDeductible(Strict):
    """How the per-admission deductible changes for referred (规范转诊) admissions."""

    mode: Literal["逐次递减", "连续计算"] = Field(alias="方式")
    categories: Categories = Field(alias="类别")
    step: RatioRule | None = Field(None, alias="每次递减")
    floor: RatioRule | None = Field(None, alias="最低")
    conditions: list[Condition] = Field(default_factory=list, alias="条件")
    # Where the document says the rule “可以” apply, whether the county applies it (a 是否 local); absent: always.
    applies: SwitchRule | None = Field(None, alias="执行")
    reference: str = Field(alias="依据")
    reading: str | None = Field(None, alias="解读")

    @model_validator(mode="after")
    def _taper(self) -> "ReferralDeductible":
        if self.mode == "逐次递减" and (self.step is None or self.floor is None):
            raise ValueError("方式为“逐次递减”时必须写“每次递减”和“最低”")
        for key, value in (("每次递减", self.step), ("最低", self.floor)):
            _only_with(value, self.mode == "逐次递减", key, "方式", "只用于“逐次递减”，方式为“连续计算”时不起作用")
        return self


class VisitScope(Strict):
    """Which visits' costs a tier assists at all: those meeting any one of the conditions (e.g. 芜湖 二(二)5:
    参保地定点医疗机构, or 规范转诊 异地就医, or 急诊、抢救)."""

    any_of: Annotated[list[Condition], Field(min_length=1)] = Field(alias="任一")
    reference: str = Field(alias="依据", min_length=2)
    reading: str | None = Field(None, alias="解读")


class ScopeCut(Strict):
    """A rate cut for visits outside a scope (湛医保〔2019〕5号 二(三)6: “除经批准异地居住……以及急诊、抢救外，对未按规定办理
    备案或转诊手续，直接在统筹区外就医的参保人，降低基本医疗保险……报销比例”)."""

    scope: VisitScope = Field(alias="就医范围")
    cut: PointsRule = Field(alias="比例降低")


class BasicSection(Strict):
    """Tier 1, 基本医保: used only when a bill does not report basic_paid."""

    schemes: list[Scheme] = Field(alias="适用险种")
    annual_cap: AmountRule = Field(alias="年度限额")
    inpatient: BasicKindTerms | None = Field(None, alias="住院")
    chronic: BasicKindTerms | None = Field(None, alias="门诊慢特病")
    outpatient: BasicKindTerms | None = Field(None, alias="普通门诊")
    referral: ReferralDeductible | None = Field(None, alias="转诊起付线")
    out_of_scope: ScopeCut | None = Field(None, alias="范围外降低")
    adjustments: list[BasicAdjustment] = Field(default_factory=list, alias="倾斜")
    note: str | None = Field(None, alias="说明")

    def terms(self, kind: str) -> BasicKindTerms | None:
        return getattr(self, _KIND_TERMS[kind])


_KIND_TERMS = {"住院": "inpatient", "门诊慢特病": "chronic", "普通门诊": "outpatient"}


class SeriousAdjustment(Strict):
    """大病保险 倾斜: a cut in the deductible, a rise in the rate, or the cap lifted, for some categories."""

    categories: Categories = Field(alias="类别")
    schemes: list[Scheme] | None = Field(None, alias="险种")
    deductible: AmountRule | None = Field(None, alias="起付线")
    deductible_cut: RatioRule | None = Field(None, alias="起付线降低")
    rate: RateRule | None = Field(None, alias="比例")
    rate_uplift: PointsRule | None = Field(None, alias="比例提高")
    cap: AmountRule | None = Field(None, alias="封顶线")
    note: str | None = Field(None, alias="说明")

    @model_validator(mode="after")
    def _one_way(self) -> "SeriousAdjustment":
        _only_with(self.deductible_cut, self.deductible is None, "起付线降低", "起付线",
                   "和“起付线”同时写了：写了本类别自己的起付线，就不再按普通起付线降低")
        _only_with(self.rate_uplift, self.rate is None, "比例提高", "比例",
                   "和“比例”同时写了：写了本类别自己的比例，就不再提高普通比例")
        return self


class SeriousSection(Strict):
    """Tier 2, 大病保险: an annual deductible on the year's cumulative self-paid policy-covered costs."""

    schemes: list[Scheme] = Field(alias="适用险种")
    kinds: Kinds = Field(alias="适用费用")
    deductible: AmountRule = Field(alias="起付线")
    rate: RateRule = Field(alias="比例")
    cap: AmountRule = Field(alias="封顶线")
    adjustments: list[SeriousAdjustment] = Field(default_factory=list, alias="倾斜")
    note: str | None = Field(None, alias="说明")


class IncomeTest(Strict):
    """The household test for 依申请救助 (and for a category tier paid only on application, where a document has one)."""

    mode: Literal["收入减自付低于低收入标准", "自付超过收入比例"] = Field(alias="方式")
    share: RatioRule | None = Field(None, alias="比例")
    asset_check: bool = Field(alias="财产核查")
    reference: str = Field(alias="依据", min_length=2)
    reading: str | None = Field(None, alias="解读")

    @model_validator(mode="after")
    def _share(self) -> "IncomeTest":
        if self.mode == "自付超过收入比例" and self.share is None:
            raise ValueError("方式为“自付超过收入比例”时必须写“比例”")
        _only_with(self.share, self.mode == "自付超过收入比例", "比例", "方式",
                   "只用于方式“自付超过收入比例”，方式“收入减自付低于低收入标准”不用它")
        return self


class ApplicationTerms(Strict):
    """A category tier paid only after the household applies (依申请), with the document's income test if it has one."""

    reference: str = Field(alias="依据", min_length=2)
    income_test: IncomeTest | None = Field(None, alias="收入检验")
    reading: str | None = Field(None, alias="解读")


class Treatment(Strict):
    """One category group's assistance terms within a pool: annual deductible, rate, limits."""

    categories: Categories = Field(alias="类别")
    deductible: AmountRule = Field(alias="起付线")
    rate: RatioRule = Field(alias="比例")
    annual_limit: AmountRule = Field(alias="年度限额")
    cost_ceiling: AmountRule | None = Field(None, alias="费用上限")
    on_application: ApplicationTerms | None = Field(None, alias="依申请")
    note: str | None = Field(None, alias="说明")


TILT_EXCESS = "超限额部分"
TILT_REMAINING = "剩余合规自付"


class TiltBase(Strict):
    """Which costs an above-limit block assists: a declared reading, since documents word 倾斜救助 two ways."""

    mode: Literal["超限额部分", "剩余合规自付"] = Field(alias="方式")
    reference: str = Field(alias="依据", min_length=2)
    reading: str | None = Field(None, alias="解读")


class AboveLimit(Strict):
    """Assistance on costs beyond the point where the annual limit ran out (倾斜救助, 重特大疾病), or on what is left."""

    name: str = Field(alias="名称")
    base: TiltBase = Field(alias="救助基数")
    counts_as: Literal["医疗救助", "倾斜救助"] = Field(alias="计入")
    conditions: list[Condition] = Field(alias="条件")
    kinds: list[Kind] | None = Field(None, alias="适用费用")
    categories: Categories = Field(alias="类别")
    rate: RatioRule | None = Field(None, alias="比例")
    rate_uplift: PointsRule | None = Field(None, alias="比例提高")
    max_rate: RatioRule | None = Field(None, alias="最高比例")
    extra_limit: AmountRule | None = Field(None, alias="限额")
    total_limit: AmountRule | None = Field(None, alias="总限额")
    note: str | None = Field(None, alias="说明")

    @model_validator(mode="after")
    def _one_limit(self) -> "AboveLimit":
        if (self.extra_limit is None) == (self.total_limit is None):
            raise ValueError("必须写“限额”（超出部分另计的额度）或“总限额”（含基本救助在内的最高额）之一")
        if self.rate is not None and self.rate_uplift is not None:
            raise ValueError("“比例”和“比例提高”只能写一个（不写则按所属类别的救助比例）")
        _only_with(self.max_rate, self.rate_uplift is not None, "最高比例", "比例提高",
                   "只限制“比例提高”之后的比例，没写“比例提高”时不起作用")
        if self.base.mode == TILT_REMAINING and self.total_limit is not None:
            raise refuse_key("总限额", "救助基数为“剩余合规自付”时请写“限额”（另计的额度）：“总限额”按超出基本救助限额的部分计，"
                                    "与这种读法不相称")
        return self


class AssistancePool(Strict):
    """Tier 3, 医疗救助: one annual limit pool over some kinds of visit, terms by category."""

    name: str = Field(alias="名称")
    kinds: Kinds = Field(alias="适用费用")
    scope: VisitScope | None = Field(None, alias="就医范围")
    treatments: list[Treatment] = Field(alias="待遇")
    above_limit: list[AboveLimit] = Field(default_factory=list, alias="超限额救助")
    note: str | None = Field(None, alias="说明")


class Grade(Strict):
    """One row of a graded rate: for these categories (贫困程度), from this year's total cost on (医疗总费用), this rate."""

    categories: Categories = Field(alias="类别")
    cost_from: AmountRule = Field(alias="医疗总费用起")
    rate: RatioRule = Field(alias="比例")


class GradedRate(Strict):
    """A rate graded by category and by the year's total medical cost (湛江 二次救助 “按照贫困程度和医疗总费用高低”):
    the row of the person's category with the highest 医疗总费用起 the year has reached gives the rate for the year."""

    grades: Annotated[list[Grade], Field(min_length=1)] = Field(alias="档")
    reference: str = Field(alias="依据", min_length=2)
    reading: str | None = Field(None, alias="解读")


class SecondarySection(Strict):
    """湛江 二次救助: on what is still self-paid after the three tiers, optionally with 目录外 costs."""

    name: str = Field(alias="名称")
    conditions: list[Condition] = Field(alias="条件")
    categories: Categories = Field(alias="类别")
    kinds: Kinds = Field(alias="适用费用")
    include_out_of_catalog: bool = Field(alias="含目录外费用")
    deductible: AmountRule = Field(alias="起付线")
    rate: RatioRule | None = Field(None, alias="比例")
    graded: GradedRate | None = Field(None, alias="分档比例")
    annual_limit: AmountRule = Field(alias="年度限额")
    note: str | None = Field(None, alias="说明")

    @model_validator(mode="after")
    def _one_rate(self) -> "SecondarySection":
        if (self.rate is None) == (self.graded is None):
            raise ValueError("必须写“比例”（一个比例）或“分档比例”（按类别和医疗总费用分档）之一，不能都写或都不写")
        return self


class ApplicationSection(Strict):
    """依申请救助: for people without an assistance category, income-tested over the year."""

    kinds: Kinds = Field(alias="适用费用")
    income_test: IncomeTest = Field(alias="收入检验")
    deductible: AmountRule = Field(alias="起付线")
    rate: RatioRule = Field(alias="比例")
    annual_limit: AmountRule = Field(alias="年度限额")
    note: str | None = Field(None, alias="说明")


class ReAssistanceSection(Strict):
    """湖南 再救助: on the year's policy-covered burden after the three tiers, above a threshold."""

    kinds: Kinds = Field(alias="适用费用")
    threshold: AmountRule = Field(alias="门槛")
    rate: RatioRule = Field(alias="比例")
    cap: AmountRule = Field(alias="封顶线")
    note: str | None = Field(None, alias="说明")


class WarningRule(Strict):
    """因病返贫致贫 监测预警: the year's self-paid costs reach a threshold."""

    categories: Categories = Field(alias="类别")
    measure: Literal["合规自付", "全部自付"] = Field(alias="口径")
    kinds: Kinds = Field(alias="适用费用")
    threshold: AmountRule = Field(alias="阈值")
    comparison: Literal["达到", "超过"] = Field(alias="比较")


class PremiumRule(Strict):
    """资助参保: how much of the individual premium the assistance fund pays, by category."""

    categories: Categories = Field(alias="类别")
    schemes: list[Scheme] | None = Field(None, alias="险种")
    mode: Literal["全额", "比例", "定额"] = Field(alias="方式")
    share: RatioRule | None = Field(None, alias="比例")
    amount: AmountRule | None = Field(None, alias="金额")
    reference: str = Field(alias="依据")
    reading: str | None = Field(None, alias="解读")

    @model_validator(mode="after")
    def _value(self) -> "PremiumRule":
        if self.mode == "比例" and self.share is None:
            raise ValueError("方式为“比例”时必须写“比例”")
        if self.mode == "定额" and self.amount is None:
            raise ValueError("方式为“定额”时必须写“金额”")
        if self.share is not None and self.mode != "比例":
            raise refuse_key("比例", f"方式为“{self.mode}”时不能写“比例”：“全额”资助整个个人缴费，“定额”资助“金额”；"
                                   "按比例资助请把方式改为“比例”，否则删去“比例”")
        if self.amount is not None and self.mode != "定额":
            raise refuse_key("金额", f"方式为“{self.mode}”时不能写“金额”：只有“定额”按金额资助；请删去“金额”或把方式改为“定额”")
        return self


class Policy(Strict):
    """One regional document as data."""

    id: str = Field(alias="编号")
    title: str = Field(alias="名称")
    document: str = Field(alias="文号")
    region: str = Field(alias="地区")
    issued: date = Field(alias="发文日期")
    effective: date = Field(alias="施行日期")
    period: str | None = Field(None, alias="适用期")
    ends: date | None = Field(None, alias="适用期至")
    # After 适用期至: 拒绝 refuses the visit (a document that simply ends); 警告 settles it with a loud warning on every
    # result (a 过渡期 the document says may be extended, where refusing would stop payments the county still owes).
    after_end: Literal["拒绝", "警告"] = Field("拒绝", alias="期满后")
    note: str | None = Field(None, alias="说明")
    categories: list[CategoryDecl] = Field(alias="类别", min_length=1)
    locals: dict[str, LocalParameter] = Field(default_factory=dict, alias="地方参数")
    shared_limits: dict[str, AmountRule] = Field(default_factory=dict, alias="共用限额")
    contributions: dict[Scheme, AmountRule] = Field(default_factory=dict, alias="个人缴费")
    basic: BasicSection | None = Field(None, alias="基本医保")
    serious: SeriousSection | None = Field(None, alias="大病保险")
    assistance: list[AssistancePool] = Field(alias="医疗救助", min_length=1)
    secondary: SecondarySection | None = Field(None, alias="二次救助")
    application: ApplicationSection | None = Field(None, alias="依申请救助")
    re_assistance: ReAssistanceSection | None = Field(None, alias="再救助")
    warnings: list[WarningRule] = Field(default_factory=list, alias="监测预警")
    premium: list[PremiumRule] = Field(default_factory=list, alias="资助参保")

    @model_validator(mode="after")
    def _period(self) -> "Policy":
        if self.ends is not None and self.ends < self.effective:
            raise ValueError(f"“适用期至” {self.ends} 早于“施行日期” {self.effective}，请核对")
        if self.after_end != "拒绝" and self.ends is None:
            raise refuse_key("期满后", "写了“期满后”却没有“适用期至”：请写“适用期至”，或删去“期满后”")
        return self
