"""FieldError: key, label and message kept apart; every key an app raise site names has a Chinese label; nothing
parses an error's text back into its parts."""

from __future__ import annotations

import ast
import itertools
import pickle
import re
from pathlib import Path

import pytest

from app.domain.case import CaseError
from app.domain.errors import FieldError
from app.domain.idnumber import IdNumberError
from app.domain.labels import FALLBACK, LABELS, label_for, lookup
from app.domain.money import MoneyError
from app.policy.loader import PolicyError, UnknownPolicy

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

# Calls that raise or build a field error, or take a key they will name in one: name → (key position, label
# position or None). A label given at the call is the raiser's own word; otherwise the key must be in the table.
KEY_TAKERS = {
    "FieldError": (0, 2), "FieldError": (0, 2), "CaseError": (0, 2), "MoneyError": (0, 2), "IdNumberError": (0, 2),
    "UnknownPolicy": (0, 2), "under": (0, 1), "money": (1, 2), "parse_money": (1, None), "parse_id_number": (1, None),
    "region_code": (1, None), "text": (1, 2), "day": (1, 2), "_money": (1, None), "_bool": (1, None),
    "_date": (1, None), "require_region": (1, None), "_check_password": (0, None), "_household": (1, 2),
    "Decision": (2, None),  # the permission model's refusal (allowed, reason, field), raised as a field error
}
# Values a placeholder in a key takes at its raise sites (visits[{i}].date, {field}.id_number), and in one file only
# where the name means something else elsewhere (case.py's {at}.{key} over the required visit fields).
SAMPLES = {"i": ["0", "11"], "field": ["head", "member"], "at": ["visits[0]"], "prefix": ["head", "member"]}
FILE_SAMPLES = {"app/domain/case.py": {"key": ["date", "kind", "total_cost", "policy_covered"]}}
KEYISH = re.compile(r"^[a-z][a-z_]*(\[\d+\])?(\.[a-z][a-z_]*(\[\d+\])?)*$")


def _keys(node: ast.expr, samples: dict[str, list[str]]) -> list[str] | None:
    """The keys an expression can stand for; [] if it is not written here (a variable), None if a placeholder in
    it has no samples (then the raise site must give its label)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if not isinstance(node, ast.JoinedStr):
        return []
    choices: list[list[str]] = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            choices.append([part.value])
        elif isinstance(part.value, ast.Name) and part.value.id in samples:
            choices.append(samples[part.value.id])
        else:
            return None
    return ["".join(c) for c in itertools.product(*choices)]


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def raise_site_keys() -> list[tuple[str, int, str | None]]:
    """(file, line, key) for every key written at a place that names it in a field error; key None when it is built
    from something the table cannot know and no label is given."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        samples = {**SAMPLES, **FILE_SAMPLES.get(where, {})}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in KEY_TAKERS:
                key_at, label_at = KEY_TAKERS[_name(node.func)]
                labelled = any(k.arg == "label" for k in node.keywords) or (
                    label_at is not None and len(node.args) > label_at)
                if labelled or len(node.args) <= key_at:
                    continue
                keys = _keys(node.args[key_at], samples)
                found += [(where, node.lineno, None)] if keys is None else [(where, node.lineno, k) for k in keys]
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("where", "at")
                                                      for t in node.targets):
                keys = _keys(node.value, samples) or []  # a key kept in a variable before it is raised under
                found += [(where, node.lineno, k) for k in keys if KEYISH.match(k)]
            elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2
                  and isinstance(node.value.elts[0], ast.Constant) and isinstance(node.value.elts[0].value, str)
                  and KEYISH.match(node.value.elts[0].value) and isinstance(node.value.elts[1], ast.JoinedStr | ast.Constant)):
                found.append((where, node.lineno, node.value.elts[0].value))  # a refusal as (field, reason)
    return found


def test_the_scan_sees_the_raise_sites():
    keys = {k for _, _, k in raise_site_keys()}
    # One of each kind the scan must reach: a literal, a placeholder key, a validator's argument, a (field, reason).
    assert {"role", "visits[0].date", "head.id_number", "total_cost", "user", "household.passes_asset_check"} <= keys


def test_every_key_an_app_raise_site_names_has_a_chinese_label():
    missing = [f"{where}:{line}: {key if key is not None else '(a key built from a variable: give its label)'}"
               for where, line, key in raise_site_keys() if key is None or lookup(key) is None]
    assert not missing, "add these keys to app/domain/labels.py LABELS, or give the label where raised:\n" + \
        "\n".join(missing)


def test_every_label_is_chinese():
    for key, label in LABELS.items():
        assert re.search(r"[\u4e00-\u9fff]", label) and not re.search(r"[A-Za-z]", label), (key, label)


@pytest.mark.parametrize("field,label", [
    ("total_cost", "医疗费用总额"),
    ("household.passes_asset_check", "财产核查结果"),
    ("visits[0].total_cost", "第1次就诊的医疗费用总额"),
    ("visits[2]", "第3次就诊"),
    ("head.id_number", "户主的证件号码"),
    ("member.relation_to_head", "与户主关系"),
    ("local.per_capita_disposable_income", "上年度居民人均可支配收入"),
])
def test_labels_of_plain_dotted_and_indexed_keys(field, label):
    assert label_for(field) == label


def test_an_unlabelled_key_never_shows_itself():
    assert lookup("frobnicate") is None and label_for("frobnicate") == FALLBACK
    assert label_for("visits[0].frobnicate") == FALLBACK and label_for("local.tilt_rat") == FALLBACK


def test_parts_are_kept_apart_and_the_text_names_the_label():
    err = FieldError("total_cost", "“abc”不是金额，请填写如 1234.56 的数字")
    assert (err.field, err.label, err.message) == ("total_cost", "医疗费用总额", "“abc”不是金额，请填写如 1234.56 的数字")
    assert str(err) == "医疗费用总额：“abc”不是金额，请填写如 1234.56 的数字"
    assert err.reason == err.message  # the name the GUI has used for the message alone
    assert str(FieldError("amount", "须写明理由", "批准金额")).startswith("批准金额：")


def test_the_old_name_and_constructor_keep_working():
    assert FieldError is FieldError
    err = FieldError("invoice_number", "重复报销")
    assert (err.field, err.label, str(err)) == ("invoice_number", "发票号", "发票号：重复报销")
    with pytest.raises(ValueError):
        raise err


@pytest.mark.parametrize("kind", [CaseError, MoneyError, IdNumberError, UnknownPolicy])
def test_every_field_error_kind_has_the_same_parts(kind):
    err = kind("visits[0].date", "日期请写成 \"2022-03-05\" 的形式")
    assert isinstance(err, FieldError) and err.label == "第1次就诊的日期" and "visits" not in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is kind and (again.field, again.label, again.message) == (err.field, err.label, err.message)


def test_an_unknown_policy_is_both_a_policy_error_and_a_field_error():
    assert issubclass(UnknownPolicy, PolicyError) and issubclass(UnknownPolicy, FieldError)


def test_re_raising_under_another_field_keeps_the_message():
    inner = MoneyError("amount", "金额最多两位小数（到分）")
    outer = inner.under("amount", "批准金额")
    assert (outer.field, outer.label, outer.message) == ("amount", "批准金额", inner.message)


def test_no_code_parses_an_error_text_apart():
    needle = 'partition("' + "：" + '")'
    offenders = [str(p.relative_to(ROOT)) for folder in ("app", "tests") for p in (ROOT / folder).rglob("*.py")
                 if needle in p.read_text(encoding="utf-8")]
    assert offenders == []
