"""Load and validate policy files, the county's own before the bundled; a problem is a PolicyError naming file and key."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.domain.errors import FieldError
from app.policy import checks, messages
from app.policy.schema import Policy
from app.policy.yamlio import DuplicateKeyError, line_of, load_yaml
from app.resources import resource_path
from app.store.paths import county_policies_dir

_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_BYTES = 1_000_000  # each bundled file is about 10 KB


BUNDLED = "内置"
COUNTY = "本县修改"


class PolicyError(ValueError):
    """A policy file that cannot be used: the file, the line (when known), the key and what to fix, apart."""

    def __init__(self, source: str, why: str, where: str | None = None, line: int | None = None):
        self.source = source
        self.why = why
        self.where = where
        self.line = line
        parts = [source] + ([f"第 {line} 行"] if line else []) + ([where] if where else []) + [why]
        super().__init__("：".join(parts))


class UnknownPolicy(PolicyError, FieldError):
    """No policy has the id asked for: a refused input naming the field `policy`, not a broken file."""

    def __init__(self, field: str, message: str, label: str | None = None):
        FieldError.__init__(self, field, message, label)
        self.source, self.why, self.where, self.line = field, message, None, None


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with where it came from and a version fingerprint of its text."""

    policy: Policy
    path: Path
    version: str


def policies_dir() -> Path:
    """The bundled policies folder: beside the app in a checkout, or in a frozen build's bundle (replaced on upgrade)."""
    return resource_path("policies")


def _key(item: Any) -> Any:
    match = _DATE_REPR.fullmatch(str(item))
    return date(*map(int, match.groups())) if match else item  # pydantic names a date key by its repr


def _loc(error: dict[str, Any]) -> tuple[Any, ...]:
    """A pydantic location as keys of the file: date keys back to dates, union members and validators dropped."""
    loc = tuple(_key(item) for item in error["loc"]
                if not (isinstance(item, str) and (item.startswith("function-") or item == "[key]"
                                                   or messages.is_model_name(item))))
    ctx = error.get("ctx") or {}
    if ctx.get("key"):
        loc += (ctx["key"],)
    return loc + (date.fromisoformat(ctx["day"]),) if ctx.get("day") else loc


def _first(errors: list[dict[str, Any]]) -> dict[str, Any]:
    # A misspelt key also makes its correct spelling "missing": name the misspelling first. Of a union's members
    # (起付线: a dated rule, or 按医院级别), the dated rule is what an officer usually meant.
    return min(errors, key=lambda e: (e["type"] != "extra_forbidden", "ByLevel" in map(str, e["loc"])))


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy text; raise PolicyError naming `source`, the line and the first key at fault."""

    tab = messages.tab_line(text)
    if tab is not None:
        raise PolicyError(source, "YAML 格式错误：行首有 Tab 字符：YAML 只能用空格缩进，请把 Tab 换成空格（每级两个空格）",
                          line=tab)
    try:
        raw = load_yaml(text)
    except DuplicateKeyError as exc:
        raise PolicyError(source, f"YAML 格式错误：{exc}", line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        line, plain = messages.yaml_reading(exc, text)
        raise PolicyError(source, f"YAML 格式错误：{plain}", line=line) from None
    except yaml.YAMLError:
        raise PolicyError(source, "YAML 格式错误：文件无法按 YAML 读出，请对照 policies/README.md 第一节检查") from None
    return policy_from_data(raw, source, text)


def policy_from_data(raw: object, source: str, text: str = "") -> Policy:
    """Validate policy data as read from YAML `text` (which places each refusal on its line; may be empty)."""
    if not isinstance(raw, dict):
        raise PolicyError(source, "文件内容应为键值表（以“编号:”开头）")
    try:
        checks.bounded(raw)
        checks.unfilled(raw)
        policy = Policy.model_validate(checks.expand_shared(raw))
        checks.cross_check(policy)
    except checks.Refusal as exc:
        raise PolicyError(source, exc.why, checks.where(exc.loc), line_of(text, exc.loc)) from None
    except ValidationError as exc:
        first = _first(exc.errors())
        loc = _loc(first)
        raise PolicyError(source, messages.reason(first), checks.where(loc), line_of(text, loc)) from None
    return policy


def valid_id(policy_id: str) -> bool:
    """Whether a policy id can be a file name everywhere: lower-case letters, digits and hyphens."""
    return bool(_ID.fullmatch(policy_id))


def check_text(data: bytes, path: Path) -> LoadedPolicy:
    """Validate a policy file's bytes as if read from `path` (its stem must be the 编号); raise PolicyError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(str(path), "文件不是 UTF-8 编码，请用 UTF-8 保存") from None
    if len(data) > MAX_BYTES:
        raise PolicyError(str(path), f"文件超过 {MAX_BYTES // 1_000_000} MB，不像政策文件（内置的每份约 10 KB），请检查")
    policy = parse_policy(text, str(path))
    line = line_of(text, ("编号",))
    if policy.id != path.stem:
        raise PolicyError(str(path), f"文件内编号“{policy.id}”与文件名“{path.stem}”不一致", "编号", line)
    if not _ID.fullmatch(policy.id):
        raise PolicyError(str(path), f"“{policy.id}”只能由小写字母、数字和连字符组成，如 wuhu-2022", "编号", line)
    return LoadedPolicy(policy, path, hashlib.sha256(data).hexdigest()[:12])


def read_bytes(path: Path) -> bytes:
    """A policy file's bytes, never more than MAX_BYTES + 1 of them (check_text refuses a file that long, and a
    file of gigabytes is not read whole to find that out); an unreadable file is a PolicyError naming it."""
    try:
        with path.open("rb") as f:
            return f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PolicyError(str(path), f"无法读取：{exc.strerror or exc}") from None


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
        raise PolicyError(exc.source, f"{exc.why}。这是本县修改的政策文件，程序不会改用内置的同编号政策：请改正后用 "
                          "jiuzhu policy check 检查、jiuzhu policy install 重新安装，或删除此文件以恢复使用内置政策",
                          exc.where, exc.line) from None


def load_policy(policy_id: str, folder: Path | None = None) -> LoadedPolicy:
    """Load a policy by id, the county's own file if it has one; an unknown id is a PolicyError listing the known ones."""
    return load_source(policy_source(policy_id, folder))
