"""Hand-worked cases (input → expected, OpenFisca-style YAML) run against one policy: which agree, and how not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from app.domain.case import CaseError, parse_case
from app.policy.checks import Refusal, bounded
from app.policy.engine import Engine
from app.policy.loader import LoadedPolicy, PolicyError
from app.policy.settle import error_line
from app.policy.yamlio import DuplicateKeyError, load_yaml

MAX_BYTES = 2_000_000  # a county's own cases run to a few hundred; anything larger is not a cases file
MAX_CASES = 2_000
_SPEC_KEYS = {"name", "arithmetic", "case", "expect", "error"}
_EXPECT_KEYS = {"applied_category", "visits", "totals", "annual", "warnings", "premium_subsidy"}
PAID = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")


class CasesError(ValueError):
    """A cases file that cannot be read as cases: the file, the case and what to fix."""


@dataclass(frozen=True)
class Outcome:
    """One case run: its name and each way the result differs from what the officer worked out (none: agrees)."""

    name: str
    differences: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return not self.differences


def _text(value: Any) -> str:
    # An officer may write 6500, 6500.00 or "6500"; the result carries strings with two decimals.
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        try:
            return f"{Decimal(str(value)):.2f}"
        except InvalidOperation:
            pass
    return str(value)


def _plain(node: Any) -> Any:
    """A case as settle-json has it: YAML's dates and decimals back to the strings JSON would carry."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, date):
        return node.isoformat()
    if isinstance(node, Decimal):
        return str(node)
    return node


def load_cases(path: Path) -> list[dict]:
    """The cases of a file, each {name, case, expect | error}; anything else is a CasesError naming the case."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CasesError(f"{path}：无法读取：{exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise CasesError(f"{path}：文件超过 {MAX_BYTES // 1_000_000} MB，不像案例文件")
    try:
        docs = load_yaml(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CasesError(f"{path}：文件不是 UTF-8 编码，请用 UTF-8 保存") from None
    except DuplicateKeyError as exc:
        raise CasesError(f"{path}：第 {exc.line} 行：{exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CasesError(f"{path}：第 {mark.line + 1 if mark else '?'} 行：YAML 格式错误，请检查缩进、冒号和括号") from None
    try:
        bounded(docs)
    except Refusal as exc:
        raise CasesError(f"{path}：{exc.why.replace('政策文件', '案例文件')}") from None
    specs = docs if isinstance(docs, list) else [docs] if docs is not None else []
    if not specs or len(specs) > MAX_CASES:
        raise CasesError(f"{path}：应为案例列表（1 至 {MAX_CASES} 个），每个以“- name:”开头")
    for i, spec in enumerate(specs, start=1):
        where = f"{path}：第 {i} 个案例"
        if not isinstance(spec, dict):
            raise CasesError(f"{where}：应为一组键值（name、case、expect 或 error）")
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise CasesError(f"{where}：未知的键“{'、'.join(map(str, unknown))}”，可写的键：name、arithmetic、case、expect、error")
        if not isinstance(spec.get("case"), dict):
            raise CasesError(f"{where}：缺少“case”（与 jiuzhu settle 的案例写法相同，可不写 policy）")
        if ("expect" in spec) == ("error" in spec):
            raise CasesError(f"{where}：要写“expect”（应得的结果）或“error”（应有的报错）之一")
        if "expect" in spec and (not isinstance(spec["expect"], dict) or set(spec["expect"]) - _EXPECT_KEYS):
            raise CasesError(f"{where}：expect 可写的键：{'、'.join(sorted(_EXPECT_KEYS))}")
    return specs


def _compare(out: dict, expect: dict) -> list[str]:
    diffs: list[str] = []

    def check(label: str, got: Any, want: Any) -> None:
        if _text(got) != _text(want):
            diffs.append(f"{label} 应为 {_text(want)}，算得 {_text(got)}")

    if "applied_category" in expect:
        check("applied_category", out["applied_category"], expect["applied_category"])
    by_id = {v["id"]: v for v in out["visits"]}
    for vid, fields in (expect.get("visits") or {}).items():
        if str(vid) not in by_id:
            diffs.append(f"visits.{vid}：案例中没有这次就诊")
            continue
        for key, value in fields.items():
            check(f"visits.{vid}.{key}", by_id[str(vid)].get(key), value)
    for group in ("totals", "annual"):
        for key, value in (expect.get(group) or {}).items():
            check(f"{group}.{key}", out[group].get(key), value)
    for key, value in (expect.get("premium_subsidy") or {}).items():
        check(f"premium_subsidy.{key}", (out.get("premium_subsidy") or {}).get(key), value)
    if "warnings" in expect:
        got = sorted(w["code"] for w in out["warnings"])
        if got != sorted(expect["warnings"] or []):
            diffs.append(f"warnings 应为 {sorted(expect['warnings'] or [])}，得到 {got}")
    for v in out["visits"]:
        for key in PAID:
            if v[key] != "0.00" and not any(s["amount"] != "0.00" for s in v["steps"]):
                diffs.append(f"visits.{v['id']}.{key} 不为 0 却没有说明步骤")
    return diffs


def run_case(loaded: LoadedPolicy, spec: dict, index: int) -> Outcome:
    """Settle one case under `loaded` and compare with what the officer expects (a result, or a refusal)."""
    name = str(spec.get("name") or f"第 {index} 个案例")
    data = _plain(spec["case"])
    data.setdefault("policy", loaded.policy.id)
    try:
        case = parse_case(data)
        out = Engine(loaded, case.local).settle(case).to_json()
    except (CaseError, PolicyError) as exc:
        line = error_line(exc)
        if "error" in spec and str(spec["error"]) in line:
            return Outcome(name, ())
        want = f"应报错“{spec['error']}”" if "error" in spec else "应得出结果"
        return Outcome(name, (f"{want}，实际报错：{line}",))
    if "error" in spec:
        return Outcome(name, (f"应报错“{spec['error']}”，实际算出了结果",))
    return Outcome(name, tuple(_compare(out, spec["expect"])))


def run_cases(loaded: LoadedPolicy, path: Path) -> list[Outcome]:
    """Every case of a file run under one policy, in the file's order."""
    return [run_case(loaded, spec, i) for i, spec in enumerate(load_cases(path), start=1)]
