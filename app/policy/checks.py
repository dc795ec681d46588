"""Checks across a whole policy that no single key can make: names declared, units matched, dates and bounds sane."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from app.domain.money import pct
from app.policy.schema import LocalParameter, Policy
from app.policy.values import PLACEHOLDER, AmountRule, PointsRule, RateRule, RatioRule, Rule, SwitchRule

Loc = tuple[Any, ...]  # keys and 0-based list indexes, as pydantic reports a location
SHARED = "共用限额"
REF = "引用"
_UNIT_FOR_KIND = {AmountRule: "元", RatioRule: "比例", RateRule: "比例", PointsRule: "百分点", SwitchRule: "是否"}


class Refusal(Exception):
    """One thing wrong with a policy: where (a location in the file) and why, with how to fix it."""

    def __init__(self, loc: Loc, why: str):
        super().__init__(why)
        self.loc = loc
        self.why = why


def rules(node: Any, loc: Loc = ()) -> Iterator[tuple[Loc, Rule]]:
    """Every dated rule in a policy with its location."""
    if isinstance(node, Rule):
        yield loc, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from rules(getattr(node, name), (*loc, field.alias or name))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from rules(item, (*loc, i))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from rules(item, (*loc, key))


def _category_lists(node: Any, loc: Loc) -> Iterator[tuple[Loc, list[str]]]:
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            value = getattr(node, name)
            here = (*loc, field.alias or name)
            if name == "categories" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield here, value
            else:
                yield from _category_lists(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _category_lists(item, (*loc, i))


def expand_shared(raw: dict) -> dict:
    """Put each declared 共用限额 where a rule says {引用: 名称}, so one value declared once serves every tier naming it.

    A reference to an undeclared name, or a declared limit nobody uses, is a Refusal.
    """
    shared = raw.get(SHARED, {})
    if not isinstance(shared, dict):
        return raw  # the schema names the wrong shape
    used: set[str] = set()

    def walk(node: Any, loc: Loc) -> Any:
        if isinstance(node, dict):
            if set(node) == {REF}:
                name = node[REF]
                if not isinstance(name, str):
                    raise Refusal((*loc, REF), "“引用”后面写共用限额的名称，如 {引用: 救助年度限额}")
                if name not in shared:
                    known = "、".join(map(str, shared)) or "（无）"
                    raise Refusal((*loc, REF), f"共用限额中没有“{name}”，已声明的有：{known}；请在“共用限额”中声明或改正名称")
                used.add(name)
                return shared[name]
            return {k: walk(v, (*loc, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(node)]
        return node

    out = {k: (v if k == SHARED else walk(v, (k,))) for k, v in raw.items()}
    for name in shared:
        if name not in used:
            raise Refusal((SHARED, name), "声明了但没有任何规则引用它（写 {引用: 名称}）；请删除或在规则中引用")
    return out


MAX_NODES = 20_000  # the five files hold under 800 keys and values each; more is not a policy but a flood


def bounded(raw: Any) -> None:
    """Refuse data with more keys and values than any policy has, counting what 引用 (*名字) expands to, before
    anything walks it: nested aliases can stand for billions of nodes in a few lines."""
    budget = MAX_NODES
    todo = [raw]
    while todo:
        node = todo.pop()
        budget -= 1
        if budget < 0:
            raise Refusal((), f"文件展开后超过 {MAX_NODES} 个键和值（多半是“*名字”引用层层套用），不像政策文件，请检查")
        if isinstance(node, dict):
            todo.extend(node.values())
            todo.extend(node.keys())
        elif isinstance(node, list):
            todo.extend(node)


def unfilled(node: Any, loc: Loc = ()) -> None:
    """Refuse the first placeholder `policy new` wrote that the officer has not yet replaced."""
    if isinstance(node, str) and node.strip() == PLACEHOLDER:
        raise Refusal(loc, f"还没有填写（“{PLACEHOLDER}”）：请按文件写上；文件没有规定这一项的，删去这一项（可选的整节也可删去）")
    if isinstance(node, dict):
        for key, item in node.items():
            if isinstance(key, str) and key.strip() == PLACEHOLDER:
                raise Refusal((*loc, key), f"还没有填写（“{PLACEHOLDER}”）：请把这个键换成文件规定的内容")
            unfilled(item, (*loc, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            unfilled(item, (*loc, i))


def _bounds(rule: Rule, locals_: dict[str, LocalParameter]) -> tuple[Decimal | None, Decimal | None, str]:
    """The tightest bounds the rule's own local parameters declare (the document's “不低于/不高于”), and whose."""
    low = high = None
    whose = []
    for _, entry in rule.entries():
        param = locals_.get(entry.local) if entry.local else None
        if param is None:
            continue
        if param.minimum is not None and (low is None or param.minimum > low):
            low = param.minimum
            whose.append(param.reference)
        if param.maximum is not None and (high is None or param.maximum < high):
            high = param.maximum
            whose.append(param.reference)
    return low, high, "；".join(dict.fromkeys(whose))


def _dates_and_bounds(policy: Policy, loc: Loc, rule: Rule) -> None:
    low, high, whose = _bounds(rule, policy.locals)
    for (day, entry), parsed in zip(rule.entries(), rule._parsed):
        here = (*loc, day)
        if day < policy.effective:
            raise Refusal(here, f"生效日期 {day} 早于本政策施行日期 {policy.effective}：施行日期之前的就诊不按本政策结算，"
                                f"这一条永远用不上。请把日期改为 {policy.effective} 或之后")
        if policy.ends is not None and day > policy.ends:
            raise Refusal(here, f"生效日期 {day} 晚于本政策“适用期至” {policy.ends}：适用期之后的就诊不按本政策结算。"
                                "请核对日期；政策延续的，请先把“适用期至”改为延续后的日期")
        if entry.base is not None or not isinstance(parsed, Decimal):
            continue
        shown = str if rule.kind == "amount" else pct
        if low is not None and parsed < low:
            raise Refusal(here, f"取值 {shown(parsed)} 低于文件规定的下限 {shown(low)}（{whose}，见同一规则的地方参数）；请核对")
        if high is not None and parsed > high:
            raise Refusal(here, f"取值 {shown(parsed)} 高于文件规定的上限 {shown(high)}（{whose}，见同一规则的地方参数）；请核对")


def cross_check(policy: Policy) -> None:
    """Raise a Refusal for the first thing wrong across the policy."""
    declared = {c.name for c in policy.categories}
    names: set[str] = set()
    for i, decl in enumerate(policy.categories):
        for name in (decl.name, *decl.aliases):
            if name in names:
                raise Refusal(("类别", i), f"“{name}”重复声明（名称和别名在全文件内只能出现一次）：请删去重复的一个")
            names.add(name)
    for loc, cats in _category_lists(policy, ()):
        if loc == ("类别",):
            continue
        for cat in cats:
            if cat not in declared:
                raise Refusal(loc, f"类别“{cat}”未在文件顶部“类别”中声明：请在顶部“类别”中加上它，或改用已声明的名称（这里不能写别名）")
    for pool_i, pool in enumerate(policy.assistance):
        seen: set[str] = set()
        for t_i, t in enumerate(pool.treatments):
            for cat in t.categories:
                if cat in seen:
                    raise Refusal(("医疗救助", pool_i, "待遇", t_i, "类别"),
                                  f"类别“{cat}”在同一救助中出现两次（一人一类一个待遇）：请只保留在一档里")
                seen.add(cat)
    used: set[str] = set()
    for loc, rule in rules(policy):
        for day, entry in rule.entries():
            # A local beside 基数 is the share of it (比例); otherwise it is the rule's own kind of value.
            own = "比例" if entry.base is not None else _UNIT_FOR_KIND[type(rule)]
            for key, expect in ((entry.local, own), (entry.base, "元")):
                if key is None:
                    continue
                used.add(key)
                param = policy.locals.get(key)
                if param is None:
                    raise Refusal((*loc, day), f"地方参数“{key}”未在“地方参数”中声明：请在“地方参数”中声明它（名称、单位、依据），或改正拼写")
                if param.unit != expect:
                    raise Refusal((*loc, day), f"地方参数“{key}”的单位是{param.unit}，此处需要{expect}：请改用单位为{expect}的地方参数，或改正它的“单位”")
        _dates_and_bounds(policy, loc, rule)
    for key in policy.locals:
        if key not in used:
            raise Refusal(("地方参数", key), "声明了但没有任何规则使用它；请删除或在规则中引用")


def where(loc: Loc) -> str:
    """A location as the officer reads it: 医疗救助[1].待遇[2].比例.2024-01-01 (lists counted from 1)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item + 1}]" if parts else f"第{item + 1}项")
        elif isinstance(item, date):
            parts.append(("." if parts else "") + item.isoformat())
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "（文件顶层）"
