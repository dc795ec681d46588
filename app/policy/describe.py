"""A policy in plain Chinese for `policy show`: rules, values by date, references, local parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.domain.money import pct
from app.policy.schema import Policy
from app.policy.values import Band, Rule


def _literal(value: Any, kind: str) -> str:
    if value is None:
        return "不设"
    if isinstance(value, tuple):
        return "；".join(f"{b.lower}–{'以上' if b.upper is None else b.upper}：{pct(b.rate)}" for b in value
                        if isinstance(b, Band))
    if kind in ("ratio", "rate"):
        return pct(value)
    if kind == "switch":
        return "是" if value else "否"
    if kind == "points":
        return f"{pct(value)[:-1]} 个百分点"
    return f"{value} 元"


def _rule_lines(rule: Rule, indent: str) -> list[str]:
    lines = []
    parsed = dict(zip(rule._dates, rule._parsed))
    for day, entry in rule.entries():
        if entry.local is not None and entry.base is not None:
            text = f"地方参数 {entry.local}（比例，由县里填写）× 地方参数 {entry.base}"
        elif entry.local is not None:
            text = f"地方参数 {entry.local}（由县里填写）"
        elif entry.base is not None:
            text = f"{pct(parsed[day])} × 地方参数 {entry.base}"
        else:
            text = _literal(parsed[day], rule.kind)
        lines.append(f"{indent}自 {day} 起：{text}　〔{entry.reference}〕")
        if entry.reading:
            lines.append(f"{indent}  解读：{entry.reading}")
    return lines


def _walk(node: Any, label: str, indent: str, out: list[str]) -> None:
    if isinstance(node, Rule):
        out.append(f"{indent}{label}：")
        out.extend(_rule_lines(node, indent + "  "))
    elif isinstance(node, BaseModel):
        out.append(f"{indent}{label}" if label else "")
        for name, field in type(node).model_fields.items():
            value = getattr(node, name)
            if value is None or value == [] or value == {}:
                continue
            key = field.alias or name
            if isinstance(value, (str, bool, int)) or (isinstance(value, list) and value and isinstance(value[0], str)):
                if isinstance(value, bool):
                    shown = "是" if value else "否"
                else:
                    shown = "、".join(value) if isinstance(value, list) else value
                out.append(f"{indent}  {key}：{shown}")
            else:
                _walk(value, key, indent + "  ", out)
    elif isinstance(node, list):
        for i, item in enumerate(node, start=1):
            _walk(item, f"{label}（{i}）", indent, out)
    elif isinstance(node, dict):
        out.append(f"{indent}{label}：")
        for key, item in node.items():
            _walk(item, str(key), indent + "  ", out)


def describe(policy: Policy) -> str:
    """Render every rule, its dated values and references, and the local parameters with their meaning."""
    out = [f"{policy.id}　{policy.title}", f"文号：{policy.document}　地区：{policy.region}　施行日期：{policy.effective}"]
    if policy.period:
        out.append(f"适用期：{policy.period}")
    if policy.ends and policy.after_end == "警告":
        out.append(f"适用期至：{policy.ends}（此后的就诊仍按本政策结算，但每次都提示政策已过适用期）")
    elif policy.ends:
        out.append(f"适用期至：{policy.ends}（此后的就诊不按本政策结算）")
    if policy.note:
        out.append(f"说明：{policy.note}")
    out.append("")
    out.append("类别（就高不就低时按此顺序）：" + "、".join(c.name + (f"（别名：{'、'.join(c.aliases)}）" if c.aliases else "")
                                          for c in policy.categories))
    out.append("")
    out.append("地方参数（文件留给县里确定，结算前须在 local 中填写；缺少时引擎拒绝计算）：")
    if not policy.locals:
        out.append("  （无）")
    for key, p in policy.locals.items():
        bounds = []
        shown = pct if p.unit == "比例" else str
        if p.minimum is not None:
            bounds.append(f"不低于 {shown(p.minimum)}")
        if p.maximum is not None:
            bounds.append(f"不高于 {shown(p.maximum)}")
        if p.allow_none:
            bounds.append("可填“不设”")
        if p.suggestion:
            bounds.append(f"文件建议值 {p.suggestion}")
        extra = f"（{'，'.join(bounds)}）" if bounds else ""
        out.append(f"  {key}：{p.label}，单位 {p.unit}{extra}　〔{p.reference}〕")
        if p.note:
            out.append(f"    {p.note}")
    skip = {"id", "title", "document", "region", "issued", "effective", "period", "ends", "after_end", "note", "categories",
            "locals"}
    for name, field in Policy.model_fields.items():
        if name in skip:
            continue
        value = getattr(policy, name)
        if value is None or value == []:
            continue
        out.append("")
        _walk(value, f"【{field.alias}】", "", out)
    return "\n".join(line for line in out if line is not None) + "\n"
