"""Load and validate policy files, the county's own before the bundled; a problem is a PolicyError naming file and key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.domain.errors import FieldError
from app.policy.schema import Policy
from app.policy.values import AmountRule, PointsRule, RateRule, RatioRule, Rule
from app.policy.yamlio import load_yaml
from app.resources import resource_path
from app.store.paths import county_policies_dir

_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNIT_FOR_KIND = {AmountRule: "元", RatioRule: "比例", RateRule: "比例", PointsRule: "百分点"}


BUNDLED = "内置"
COUNTY = "本县修改"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the key."""


class UnknownPolicy(PolicyError, FieldError):
    """No policy has the id asked for: a refused input naming the field `policy`, not a broken file."""


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with where it came from and a version fingerprint of its text."""

    policy: Policy
    path: Path
    version: str


def policies_dir() -> Path:
    """The bundled policies folder: beside the app in a checkout, or in a frozen build's bundle (replaced on upgrade)."""
    return resource_path("policies")


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        match = _DATE_REPR.fullmatch(str(item))
        if match:  # pydantic names a date key by its repr
            item = date(*map(int, match.groups())).isoformat()
        if isinstance(item, int):
            parts.append(f"[{item + 1}]" if parts else f"第{item + 1}项")
        else:
            text = str(item)
            if text in ("root",) or text.startswith("function-") or "[" in text:
                continue
            parts.append(("." if parts else "") + text)
    return "".join(parts) or "（文件顶层）"


def _explain(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return f"未知的键“{key}”：请检查拼写（允许写的键见 policies/README.md）"
    if kind == "missing":
        return f"缺少“{key}”：此项必填，不能省略（文件不会替你取默认值）"
    if kind == "literal_error":
        return f"“{error.get('input')}”不是允许的取值，应为：{error['ctx']['expected']}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"“{error.get('input')}”不是日期，请写成 2022-01-01 的形式"
    if kind == "string_too_short":
        return "不能为空"
    message = str(error.get("msg", ""))
    return message.removeprefix("Value error, ")


def _rules(node: Any, path: str) -> Iterator[tuple[str, Rule]]:
    if isinstance(node, Rule):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            label = field.alias or name
            yield from _rules(getattr(node, name), f"{path}.{label}" if path else label)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _rules(item, f"{path}[{i + 1}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _rules(item, f"{path}.{key}")


def _category_lists(node: Any, path: str) -> Iterator[tuple[str, list[str]]]:
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            value = getattr(node, name)
            label = field.alias or name
            if name == "categories" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield f"{path}.{label}" if path else label, value
            else:
                yield from _category_lists(value, f"{path}.{label}" if path else label)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _category_lists(item, f"{path}[{i + 1}]")


def _cross_check(policy: Policy, fail) -> None:
    declared = {c.name for c in policy.categories}
    names: set[str] = set()
    for decl in policy.categories:
        for name in (decl.name, *decl.aliases):
            if name in names:
                fail("类别", f"“{name}”重复声明（名称和别名在全文件内只能出现一次）")
            names.add(name)
    for path, cats in _category_lists(policy, ""):
        if path == "类别":
            continue
        for cat in cats:
            if cat not in declared:
                fail(path, f"类别“{cat}”未在文件顶部“类别”中声明")
    for pool_i, pool in enumerate(policy.assistance, start=1):
        seen: set[str] = set()
        for cat in (c for t in pool.treatments for c in t.categories):
            if cat in seen:
                fail(f"医疗救助[{pool_i}].待遇", f"类别“{cat}”在同一救助中出现两次（一人一类一个待遇）")
            seen.add(cat)
    used: set[str] = set()
    for path, rule in _rules(policy, ""):
        for day, entry in rule.entries():
            for key, expect in ((entry.local, _UNIT_FOR_KIND[type(rule)]), (entry.base, "元")):
                if key is None:
                    continue
                used.add(key)
                param = policy.locals.get(key)
                if param is None:
                    fail(f"{path}.{day}", f"地方参数“{key}”未在“地方参数”中声明")
                elif param.unit != expect:
                    fail(f"{path}.{day}", f"地方参数“{key}”的单位是{param.unit}，此处需要{expect}")
    for key in policy.locals:
        if key not in used:
            fail(f"地方参数.{key}", "声明了但没有任何规则使用它；请删除或在规则中引用")


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy text; raise PolicyError naming `source` and the first key at fault."""

    def fail(where: str, why: str) -> None:
        raise PolicyError(f"{source}：{where}：{why}")

    try:
        raw = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "某处"
        raise PolicyError(f"{source}：{where}：YAML 格式错误：{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}：YAML 格式错误：{exc}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}：文件内容应为键值表（以“编号:”开头）")
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        # A misspelt key also makes its correct spelling "missing"; name the misspelling first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        raise PolicyError(f"{source}：{_where(first['loc'])}：{_explain(first)}") from None
    _cross_check(policy, fail)
    return policy


def check_text(data: bytes, path: Path) -> LoadedPolicy:
    """Validate a policy file's bytes as if read from `path` (its stem must be the 编号); raise PolicyError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{path}：文件不是 UTF-8 编码，请用 UTF-8 保存") from None
    policy = parse_policy(text, str(path))
    if policy.id != path.stem:
        raise PolicyError(f"{path}：编号：文件内编号“{policy.id}”与文件名“{path.stem}”不一致")
    if not _ID.fullmatch(policy.id):
        raise PolicyError(f"{path}：编号：“{policy.id}”只能由小写字母、数字和连字符组成，如 wuhu-2022")
    return LoadedPolicy(policy, path, hashlib.sha256(data).hexdigest()[:12])


# The largest bundled policy is about 13 KB; a file a hundred times that is not a policy, and YAML would hold it whole.
MAX_POLICY_BYTES = 4 * 1024 * 1024


def read_bytes(path: Path) -> bytes:
    """A policy file's bytes, refused beyond MAX_POLICY_BYTES; an unreadable file is a PolicyError naming it."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{path}：无法读取：{exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{path}：文件超过 {MAX_POLICY_BYTES // (1024 * 1024)} MB 的上限，不是政策文件，请检查")
    return data


def load_file(path: Path) -> LoadedPolicy:
    """Load one policy file and check that its 编号 matches the file name."""
    return check_text(read_bytes(path), path)


@dataclass(frozen=True)
class PolicySource:
    """Which file a policy id is read from, and whether it is bundled (内置) or the county's own (本县修改)."""

    id: str
    path: Path
    origin: str

    def describe(self) -> str:
        """For people: 内置（path） or 本县修改（path）."""
        return f"{self.origin}（{self.path}）"


def policy_sources(folder: Path | None = None) -> dict[str, PolicySource]:
    """Every policy id and its file: the county policy folder first, then the bundled one; sorted by id.

    With `folder`, only that folder, standing in for the bundled one (tests).
    """
    layers = [(folder, BUNDLED)] if folder else [(county_policies_dir(), COUNTY), (policies_dir(), BUNDLED)]
    found: dict[str, PolicySource] = {}
    for where, origin in layers:
        for path in sorted(where.glob("*.yaml")):
            found.setdefault(path.stem, PolicySource(path.stem, path, origin))
    return dict(sorted(found.items()))


def policy_ids(folder: Path | None = None) -> list[str]:
    """Ids of the policies in use: the bundled ones and those the county added or overrode."""
    return list(policy_sources(folder))


def policy_source(policy_id: str, folder: Path | None = None) -> PolicySource:
    """The file a policy id is read from; an unknown id is a PolicyError listing the known ones."""
    sources = policy_sources(folder)
    if not _ID.fullmatch(policy_id) or policy_id not in sources:
        known = "、".join(sources) or "（无）"
        raise UnknownPolicy("policy", f"没有编号为“{policy_id}”的政策，可用的有：{known}")
    return sources[policy_id]


@lru_cache(maxsize=32)
def _checked(path: Path, data: bytes) -> LoadedPolicy:
    # Keyed by the content, so a file installed while the app runs is read afresh by the next session.
    return check_text(data, path)


def load_source(source: PolicySource) -> LoadedPolicy:
    """Load the file of a source; a broken county file is reported as such, never replaced by the bundled one."""
    try:
        return _checked(source.path, read_bytes(source.path))
    except PolicyError as exc:
        if source.origin != COUNTY:
            raise
        raise PolicyError(f"{exc}。这是本县修改的政策文件，程序不会改用内置的同编号政策：请改正后用 jiuzhu policy check "
                          "检查、jiuzhu policy install 重新安装，或删除此文件以恢复使用内置政策") from None


def load_policy(policy_id: str, folder: Path | None = None) -> LoadedPolicy:
    """Load a policy by id, the county's own file if it has one; an unknown id is a PolicyError listing the known ones."""
    return load_source(policy_source(policy_id, folder))
