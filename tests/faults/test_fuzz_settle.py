"""Fuzzing `settle`: the golden cases of tests/cases with fields deleted, added, retyped and revalued, through
settle_json and the command line. Every outcome is a result, or CaseError / PolicyError whose one-line Chinese
message (error_line) starts with the field it is about; the command line exits 0 with JSON or 2 with that one line,
never a traceback."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from app.domain.case import CaseError
from app.domain.names import (
    CANONICAL_CATEGORIES,
    HOSPITAL_LEVEL_ALIASES,
    INSURANCE_SCHEMES,
    VISIT_KINDS,
)
from app.policy.loader import PolicyError
from app.policy.settle import error_line, settle_json

from .conftest import FUZZ
from .killing import cli

pytestmark = pytest.mark.faults
CASES = Path(__file__).resolve().parents[1] / "cases"
VALID = [spec["case"] for path in sorted(CASES.glob("*/*.yaml"))
         for spec in (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if "error" not in spec]
CJK = re.compile(r"[\u4e00-\u9fff]")
# "visits[0].total_cost（第1次就诊的医疗费用总额）：…": the field's key (an odd key in JSON quotes, as key_text shows
# it) and its label, then the reason.
NAMED = re.compile(r'^(?:[^：\s"]|"(?:[^"\\]|\\.)*")+：')

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=12),
    st.sampled_from(["", " ", "0", "-1", "1e400", "1e-400", "0.001", "１２３", "12,000.00", "2022-02-30", "2022-13-01",
                     "２０２２-０１-０１", "20220101", "住院", "门诊慢特病", "特困人员", "低保对象", "省级", "县级", "true",
                     "wuhu-2022", "hunan-2022", "nonexistent-2020", "../etc/passwd", "70%", "120%", "-5%", "x" * 300]),
    st.just(10**400 // 10**380), st.just(float("inf")), st.just(-0.0))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


money = st.one_of(st.decimals(0, 2_000_000, places=2).map(str), st.integers(0, 500_000),
                 st.sampled_from(["0", "0.00", "0.005", "-0.01", "999999999999", "1e5"]))
LIKE = {  # a leaf's key → values of its own kind, so that mutated cases get past parsing into the engine
    "date": st.dates(date(2014, 1, 1), date(2030, 12, 31)).map(date.isoformat),
    "kind": st.sampled_from([*VISIT_KINDS, "急诊"]),
    "hospital_level": st.sampled_from([*HOSPITAL_LEVEL_ALIASES, "村卫生室"]),
    "categories": st.lists(st.sampled_from([*CANONICAL_CATEGORIES, "五保户", ""]), max_size=3),
    "insurance": st.sampled_from([*INSURANCE_SCHEMES, "商业保险"]),
    "policy": st.sampled_from(["wuhu-2022", "hunan-2022", "qiannan-2021", "zhanjiang-2019", "liupanshui-2017"]),
}
RATE = st.sampled_from(["0%", "50%", "100%", "100.5%", "75", "0.75", "不设", "", "5个百分点"])


def like(key, old) -> st.SearchStrategy:
    if key in LIKE:
        return LIKE[key]
    if isinstance(old, bool):
        return st.booleans()
    if isinstance(old, str) and old.endswith("%"):
        return RATE
    return st.one_of(money, RATE) if isinstance(old, str | int | float) else values


def paths(node, at=()):
    """Every place in a JSON tree: (path to the container, key or index)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield at, k
            yield from paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield at, i
            yield from paths(v, (*at, i))


@st.composite
def mutated_cases(draw):
    case = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        places = list(paths(case))
        if not places:
            break
        where, key = draw(st.sampled_from(places))
        parent = case
        for step in where:
            parent = parent[step]
        action = draw(st.sampled_from(["revalue", "revalue", "revalue", "replace", "delete", "add", "retype"]))
        if action == "revalue":
            parent[key] = draw(like(key, parent[key]))
        elif action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["id", "date", "kind", "referred", "extra", "categories", "local"]))] = \
                draw(values)
        elif action == "add":
            parent.append(copy.deepcopy(draw(st.sampled_from(parent))) if parent else draw(values))
        else:  # the same value in another JSON type: "12.50" ↔ 12.5, "x" ↔ ["x"], {…} ↔ [{…}]
            old = parent[key]
            parent[key] = (float(old) if isinstance(old, str) and re.fullmatch(r"-?\d+(\.\d+)?", old) else
                           str(old) if isinstance(old, int | float) else [old])
    return case


def named(message: str) -> bool:
    return bool(NAMED.match(message) and CJK.search(message) and "\n" not in message.strip())


@FUZZ
@given(mutated_cases())
def test_settle_json_gives_a_result_or_a_named_chinese_error(case):
    try:
        settle_json(case)
    except (CaseError, PolicyError) as exc:
        assert named(error_line(exc)), f"unclear: {error_line(exc)}"


@FUZZ
@given(mutated_cases())
def test_the_settle_command_exits_0_with_json_or_2_with_one_named_line(tmp_path_factory, case):
    path = tmp_path_factory.mktemp("settle") / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")  # NaN and Infinity as json writes them
    code, out, err = cli("settle", str(path))
    if code == 0:
        result = json.loads(out)
        assert all(not (isinstance(v, float) and math.isnan(v)) for v in result["totals"].values())
    else:
        assert code == 2 and named(err), f"exit {code}: {err}"


@pytest.mark.parametrize("place,value,field", [
    (("visits", 0, "hospital_level"), [], "visits[0].hospital_level"),  # was TypeError: unhashable type: 'list'
    (("visits", 0, "kind"), ["住院"], "visits[0].kind"),
    (("person", "insurance"), {"险种": "职工医保"}, "person.insurance"),
    (("person", "\r"), 1, 'person."\\r"'),  # was a message broken over two lines at the field
    (("local", " "), "1", 'local." "'),
])
def test_what_fuzzing_found(place, value, field):
    case = copy.deepcopy(VALID[0])
    case["visits"][0].setdefault("hospital_level", "县级")
    node = case
    for step in place[:-1]:
        node = node[step] if isinstance(node, list) else node.setdefault(step, {})
    node[place[-1]] = value
    with pytest.raises(CaseError) as info:
        settle_json(case)
    assert info.value.field == field
    assert error_line(info.value).startswith(f"{field}（") and named(error_line(info.value))
    assert field not in str(info.value), "what a person reads names the label, not the key"
