"""A county's local values checked against the policy's declarations, and dated rule values resolved with them."""

from __future__ import annotations

import bisect
from datetime import date
from decimal import Decimal, InvalidOperation
from collections.abc import Callable, Hashable
from typing import Any

from app.domain.case import CaseError, key_text, parse_day
from app.domain.money import MAX_AMOUNT, pct, round_fen
from app.policy.schema import LocalParameter, Policy
from app.policy.values import NONE_WORDS, Rule, parse_switch

UNIVERSAL_LOCAL = "per_capita_disposable_income"
UNIVERSAL_LABEL = "上年度居民人均可支配收入"


def parse_local(key: str, value: Any, param: LocalParameter | None) -> Decimal | None:
    """One local value: 元 with at most two decimals, a ratio as "70%" or 0.7, or 不设 where allowed."""
    label = param.label if param else UNIVERSAL_LABEL
    unit = param.unit if param else "元"
    where = f"local.{key}"
    if unit == "是否":
        # A county's yes/no choice (“可以”): 1 or 0, so that it travels with the other local values.
        try:
            return Decimal(parse_switch(value))
        except ValueError:
            raise CaseError(where, f"“{value}”请填写 是 或 否", label) from None
    if isinstance(value, str) and value.strip() in NONE_WORDS:
        if param is not None and param.allow_none:
            return None
        raise CaseError(where, f"不能写“不设”，请填写{unit}数值", label)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        example = "\"75%\"" if unit == "比例" else "\"30000\""
        raise CaseError(where, f"应为数值字符串，例如 {example}", label)
    text = repr(value) if isinstance(value, float) else str(value).strip()
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise CaseError(where, f"“{value}”不是数值", label) from None
    if not number.is_finite() or number < 0:
        raise CaseError(where, f"不能为负数或非数值（填写的是 {value}）", label)
    if number >= MAX_AMOUNT:
        raise CaseError(where, f"{value} 过大，请核对", label)
    if key == UNIVERSAL_LOCAL and number == 0:
        # settle-json.md: an income of 0 is a missing figure, not a county where every deductible based on it is 0.
        raise CaseError(where, "不能为 0：请填写统计部门公布的上年度居民人均可支配收入（元）", label)
    if unit == "元":
        if percent:
            raise CaseError(where, "单位是元，请填写金额而不是百分数", label)
        if number.as_tuple().exponent < -2:
            raise CaseError(where, "最多两位小数（到分）", label)
    else:
        if percent:
            number = number / 100
        if number > 1:
            raise CaseError(where, f"是比例，请写成 \"70%\" 或 0.7（不能超过 100%）", label)
    if param is not None:
        # Bounds read as the caseworker wrote the value: 50%, not 0.50; 300 元.
        shown = pct if unit == "比例" else (lambda v: f"{v} 元")
        if param.minimum is not None and number < param.minimum:
            raise CaseError(where, f"不能低于 {shown(param.minimum)}（填写的是 {shown(number)}；{param.reference}）", label)
        if param.maximum is not None and number > param.maximum:
            raise CaseError(where, f"不能高于 {shown(param.maximum)}（填写的是 {shown(number)}；{param.reference}）", label)
    return number


def _day(text: Any, key: str) -> date:
    return parse_day(str(text), f"local.{key_text(key)}", "生效日期")


class Resolver:
    """Looks up the value of a rule on a date, resolving local parameters; a missing one is a CaseError naming it."""

    def __init__(self, policy: Policy, raw_local: dict[str, Any], dated: dict[str, list[dict]] | None = None):
        self.policy = policy
        self.local: dict[str, Decimal | None] = {}
        for key, value in raw_local.items():
            self.local[key] = parse_local(key, value, self._param(key))
        # A county's changes from a date (e.g. the 倾斜救助 rate from 2025-01-01), like the policy's own dated
        # values: before the first date the undated value holds.
        self.dated: dict[str, list[tuple[date, Decimal | None]]] = {}
        for key, entries in (dated or {}).items():
            param = self._param(key)
            self.dated[key] = sorted((_day(e.get("from"), key), parse_local(key, e.get("value"), param)) for e in entries)
        self._cache: dict[int, tuple[date, date, tuple[Any, Any]]] = {}
        self._held: dict[Hashable, tuple[date, date, Any]] = {}
        self._window: list[date] | None = None  # while held() builds: the days every value it read holds

    def _param(self, key: str):
        param = self.policy.locals.get(key)
        if param is None and key != UNIVERSAL_LOCAL:
            known = "、".join(self.policy.locals) or "（本政策没有地方参数）"
            raise CaseError(f"local.{key_text(key)}", f"本政策没有“{key_text(key)}”这个地方参数，可用的有：{known}",
                            "未知的地方参数")
        return param

    def local_value(self, key: str, needed_for: str, day: date | None = None) -> Decimal | None:
        """A local value the computation needs (the one in force on `day`); refuse, naming it, when the county has
        not supplied it."""
        for start, value in reversed(self.dated.get(key, ())):
            if day is not None and start <= day:
                return value
        if key in self.local:
            return self.local[key]
        param = self.policy.locals.get(key)
        label = param.label if param else UNIVERSAL_LABEL
        unit = param.unit if param else "元"
        hint = f"文件的提法是 {param.suggestion}（建议值），" if param is not None and param.suggestion else ""
        raise CaseError(f"local.{key}", f"{needed_for}需要地方参数“{label}”（{unit}），本政策文件把它留给县里确定；"
                        f"{hint}请填写这个地方参数（jiuzhu policy show {self.policy.id} 可查看说明）", label)

    def value(self, rule: Rule, day: date, needed_for: str) -> tuple[Any, Any]:
        """The value of `rule` in force on `day` and its entry (for the reference).

        Each rule remembers the span of days its last value holds for (up to its next dated entry or the county's
        next dated change of the local value it reads), so a year's visits resolve it once, not once per visit."""
        span = self._cache.get(id(rule))
        if span is None or not span[0] <= day < span[1]:
            span = self._resolve(rule, day, needed_for)
        window = self._window
        if window is not None:
            if span[0] > window[0]:
                window[0] = span[0]
            if span[1] < window[1]:
                window[1] = span[1]
        return span[2]

    def held(self, key: Hashable, day: date, build: Callable[..., Any], *args: Any) -> Any:
        """What `build(*args)` makes of the values it reads on `day`, remembered under `key` for the days all those
        values hold, so that a tier reads its terms once per case (or per span of a policy's dates), not per visit.

        `key` must name everything besides the day that `build` depends on (kind, level, category, scheme …). A build
        that raises is not remembered: the next visit meets the same refusal, named for that visit."""
        return self.held_span(key, day, build, *args)[2]

    def held_span(self, key: Hashable, day: date, build: Callable[..., Any], *args: Any) -> tuple[date, date, Any]:
        """held's days and result together (first day, the day after the last, what `build` made), so that a case's
        plan can keep the terms beside their days and test the day itself instead of asking again per visit."""
        hit = self._held.get(key)
        if hit is None or not hit[0] <= day < hit[1]:
            outer, self._window = self._window, [date.min, date.max]
            try:
                result = build(*args)
                hit = self._held[key] = (*self._window, result)
            finally:
                self._window = outer
        window = self._window
        if window is not None:  # a build reading another's terms holds no longer than they do
            if hit[0] > window[0]:
                window[0] = hit[0]
            if hit[1] < window[1]:
                window[1] = hit[1]
        return hit

    def _resolve(self, rule: Rule, day: date, needed_for: str) -> tuple[date, date, tuple[Any, Any]]:
        found = rule.at(day)
        if found is None:
            first = rule.entries()[0][0]
            raise CaseError("visits.date", f"{day} 早于本政策规则最早生效日期 {first}（{needed_for}），请选用当时有效的政策")
        entry, parsed = found
        if entry.base is not None:
            # The base first: a case without it is told of the base, as before a share could be a local.
            base = self.local_value(entry.base, needed_for, day)
            share = self.local_value(entry.local, needed_for, day) if entry.local is not None else parsed
            result = (round_fen(share * base) if base is not None and share is not None else None, entry)
        elif entry.local is not None:
            result = (self.local_value(entry.local, needed_for, day), entry)
        else:
            result = (parsed, entry)
        span = self._cache[id(rule)] = (*self._span(rule, day, entry.local, entry.base), result)
        return span

    def _span(self, rule: Rule, day: date, *keys: str | None) -> tuple[date, date]:
        """The days around `day` on which `rule` (reading the local values `keys`, if any) keeps the same value."""
        dates = rule._dates
        i = bisect.bisect_right(dates, day) - 1
        lo, hi = dates[i], dates[i + 1] if i + 1 < len(dates) else date.max
        for key in keys:
            for start, _ in self.dated.get(key, ()) if key else ():
                if start <= day:
                    lo = max(lo, start)
                else:
                    hi = min(hi, start)
        return lo, hi
