"""Plain Chinese for what YAML and pydantic report about a policy file, with where a misplaced key belongs."""

from __future__ import annotations

import difflib
import typing
from datetime import date
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, RootModel

from app.policy.schema import Policy

_INPUT_MAX = 40  # an input echoed back in a message is cut here; a whole section would drown the point


def _shown(value: Any) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text if len(text) <= _INPUT_MAX else text[:_INPUT_MAX] + "…"


# ---- YAML --------------------------------------------------------------------------------------------------------

def tab_line(text: str) -> int | None:
    """The first line with a tab in its indentation: YAML forbids it, and its own message names no cause a person sees."""
    for number, line in enumerate(text.splitlines(), start=1):
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]:
            return number
    return None


def _content(line: str) -> str:
    return line.split(" #", 1)[0].strip()


def yaml_reading(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """(line, plain reading) of a YAML parser error: a tab, a wrong indent, a missing colon, an unclosed bracket."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = str(exc.problem or "")
    lines = text.splitlines()
    if "'\\t'" in problem or "\\t" in problem:
        return line, "有 Tab 字符：YAML 只能用空格，请把 Tab 换成空格（每级缩进两个空格）"
    prev_no = next((n for n in range((line or 1) - 1, 0, -1) if _content(lines[n - 1])), None)
    prev = _content(lines[prev_no - 1]) if prev_no else ""
    colonless = prev_no is not None and ":" not in prev and not prev.startswith("-")
    if problem.startswith("mapping values are not allowed") or "could not find expected ':'" in problem:
        if colonless:
            return prev_no, f"“{prev}”缺少冒号：键后要写英文冒号和一个空格，例如“比例: 75%”"
        if problem.startswith("could not find"):
            return line, "缺少冒号：键后要写英文冒号和一个空格，例如“比例: 75%”"
        here = lines[line - 1] if line and line <= len(lines) else ""
        if prev_no and len(here) - len(here.lstrip()) > len(lines[prev_no - 1]) - len(lines[prev_no - 1].lstrip()):
            return line, "缩进比上一行多：同一层的键要左边对齐（上一行的值写在冒号后面时，下一行不能再缩进）"
        return line, "一行里出现了两个“键: 值”：值里本身带冒号时，请用引号把值括起来，如 依据: \"某某文件: 第三条\""
    opened = exc.context_mark.line + 1 if exc.context_mark else line
    if "expected ',' or ']'" in problem:
        return opened, "方括号 [ ] 没有配对（从这一行开始的“[”没有对应的“]”），或列表项之间少了逗号"
    if "expected ',' or '}'" in problem:
        return opened, "花括号 { } 没有配对（从这一行开始的“{”没有对应的“}”），或键值之间少了逗号"
    if "quoted scalar" in str(exc.context or ""):
        return line, "引号没有配对：开头写了引号，结尾也要写同样的引号"
    if problem.startswith("expected <block end>"):
        return line, ("缩进不对：这一行与同一层的其他键没有左边对齐（每级缩进两个空格），"
                      "或在列表（“- ”开头的项）后面直接写了键")
    if "found undefined alias" in problem:
        return line, "引用了没有定义的“*名字”：请先用“&名字”定义"
    if "不是有效日期" in problem:
        return line, problem
    return line, "写法不合 YAML 规矩：请对照 policies/README.md 第一节检查这一行和上一行的缩进、冒号和括号"


# ---- the schema as a tree of keys ----------------------------------------------------------------------------------

def _models_in(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """The models a field may hold, each with the suffix its path takes: "[…]" in a list, ".<名字>" in a dict."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    if origin is list:
        return [(m, "[…]" + s) for a in args for m, s in _models_in(a)]
    if origin is dict:
        return [(m, ".<名字>" + s) for m, s in _models_in(args[1])]
    return [(m, s) for a in args for m, s in _models_in(a)]


def _is_rule(model: type[BaseModel]) -> bool:
    return issubclass(model, RootModel)


@lru_cache(maxsize=1)
def _homes() -> dict[str, list[str]]:
    """Every key of the format and the places it may be written, e.g. 年度限额 → [医疗救助[…].待遇[…], …]."""
    homes: dict[str, list[str]] = {}
    todo: list[tuple[type[BaseModel], str]] = [(Policy, "")]
    seen: set[tuple[type, str]] = set()
    while todo:
        model, path = todo.pop(0)
        if (model, path) in seen:
            continue
        seen.add((model, path))
        for name, field in model.model_fields.items():
            key = field.alias or name
            homes.setdefault(key, []).append(path or "文件顶层")
            for inner, suffix in _models_in(field.annotation):
                if not _is_rule(inner):
                    todo.append((inner, f"{path}.{key}{suffix}" if path else f"{key}{suffix}"))
    return homes


def model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys are written at `loc` (a pydantic location), or None where it is not a model."""
    model: type[BaseModel] | None = Policy
    for key in loc:
        if model is None:
            return None
        if _is_rule(model):
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == key), None)
        if field is None:
            if isinstance(key, int) or key in _names_of_models():
                continue  # a list index, or the union member pydantic names in a location
            return None
        found = _models_in(field.annotation)
        model = found[0][0] if found else None
    return model


@lru_cache(maxsize=1)
def _names_of_models() -> frozenset[str]:
    names: set[str] = set()
    todo: list[type[BaseModel]] = [Policy]
    while todo:
        model = todo.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for field in model.model_fields.values():
            todo.extend(m for m, _ in _models_in(field.annotation))
    return frozenset(names)


def is_model_name(item: object) -> bool:
    """Whether a location element is a union member's class name pydantic inserted, not a key of the file."""
    return isinstance(item, str) and item in _names_of_models()


def unknown_key(key: str, loc: tuple[Any, ...]) -> str:
    """Why a key is not allowed where it is written, where it does belong, and what may be written here."""
    model = model_at(loc[:-1])
    allowed = [f.alias or n for n, f in model.model_fields.items()] if model is not None else []
    homes = _homes().get(key, [])
    here = "".join(("[…]" if isinstance(k, int) else ("." if i else "") + str(k)) for i, k in enumerate(loc[:-1]))
    below = [h for h in homes if here and h.startswith(here + ".")]
    text = f"未知的键“{key}”：这一层不能写“{key}”"
    if below:
        text += f"，它应写在下一层的每一项里：{'、'.join(below)}"
    elif homes:
        text += f"，它应写在：{'、'.join(homes)}"
    else:
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.3)
        text += f"，是不是“{close[0]}”？请检查拼写" if close else "，请检查拼写"
    if allowed:
        text += f"（这一层可以写的键：{'、'.join(allowed)}；见 policies/README.md）"
    return text


# ---- pydantic ------------------------------------------------------------------------------------------------------

def _choices(expected: str) -> str:
    return expected.replace("' or '", "、").replace("', '", "、").strip("'")


def reason(error: dict[str, Any]) -> str:
    """A pydantic error in plain Chinese; the location is named by the caller."""
    kind = error["type"]
    loc = error["loc"]
    key = str(loc[-1]) if loc else ""
    given = error.get("input")
    if kind == "extra_forbidden":
        return unknown_key(key, tuple(loc))
    if kind == "missing":
        return f"缺少“{key}”：此项必填，不能省略（文件不会替你取默认值）"
    if kind == "literal_error":
        return f"“{_shown(given)}”不是允许的取值，应为：{_choices(error['ctx']['expected'])}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
        return f"“{_shown(given)}”不是日期，请写成 2022-01-01 的形式"
    if kind == "list_type":
        return f"应写成列表（写的是“{_shown(given)}”），例如 [特困人员, 低保对象]；只有一项也要写方括号"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return (f"应写成一组“键: 值”（写的是“{_shown(given)}”）：在下一行缩进两个空格逐项写，"
                "或写在一行里如 {值: 75%, 依据: 文号 条款}")
    if kind == "string_type":
        return f"应为文字（写的是“{_shown(given)}”）"
    if kind in ("bool_type", "bool_parsing"):
        return f"应写 true（是）或 false（否），写的是“{_shown(given)}”"
    if kind in ("decimal_type", "decimal_parsing", "int_type", "int_parsing", "float_type", "float_parsing",
                "finite_number"):
        return f"应为数字，写的是“{_shown(given)}”"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "too_short":
        return "至少要写一项"
    if kind in ("value_error", "assertion_error"):
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "policy_value":
        return str(error["ctx"]["reason"])
    return f"取值不符合要求（写的是“{_shown(given)}”），请对照 policies/README.md 中这个键的写法"
