"""The settle command: its own example exact, and every kind of malformed case refused with exit 2 naming the field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

EXAMPLE = {
    "policy": "wuhu-2022",
    "local": {"per_capita_disposable_income": "30000"},
    "person": {"categories": ["低保对象"], "insurance": "城乡居民医保"},
    "household": {"annual_income": "18000", "low_income_standard": "9600", "passes_asset_check": True},
    "application": False,
    "visits": [{"id": "v1", "date": "2022-03-05", "kind": "住院", "total_cost": "60000.00",
                "policy_covered": "50000.00", "basic_paid": "30000.00", "serious_illness_paid": "8000.00",
                "referred": True, "in_province": True, "hospital_level": "县级"}],
}


def run(case: object, tmp_path: Path, capsys) -> tuple[int, str, str]:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False) if not isinstance(case, str) else case, encoding="utf-8")
    code = main(["settle", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_contract_example_prints_its_amounts(tmp_path, capsys):
    code, out, err = run(EXAMPLE, tmp_path, capsys)
    assert code == 0, err
    result = json.loads(out)
    v = result["visits"][0]
    assert (v["assistance_paid"], v["tilt_assistance_paid"], v["personal_pay"]) == ("9000.00", "0.00", "13000.00")
    assert result["totals"] == {
        "basic_paid": "30000.00", "serious_illness_paid": "8000.00", "assistance_paid": "9000.00",
        "tilt_assistance_paid": "0.00", "application_assistance_paid": "0.00",
        "re_assistance_paid": "0.00", "personal_pay": "13000.00"}
    step = next(s for s in v["steps"] if s["tier"] == "医疗救助")
    assert step["reference"] == "芜医保〔2021〕76号 二(二)5"
    assert "12000.00 × 75% = 9000.00" in step["explain"]


def test_stdin_and_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "app", "settle", "-"], input=json.dumps(EXAMPLE, ensure_ascii=False),
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["assistance_paid"] == "9000.00"


def _with(path: str, value: object) -> dict:
    case = copy.deepcopy(EXAMPLE)
    node = case
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return case


MALFORMED = [
    ("unknown policy", _with("policy", "nowhere-2030"), "policy"),
    ("policy as a path", _with("policy", "../policies/wuhu-2022"), "policy"),
    ("huge amount", _with("visits.0.total_cost", "1e30"), "visits[0].total_cost"),
    ("huge local", _with("local.per_capita_disposable_income", "1" * 40), "local.per_capita_disposable_income"),
    ("missing policy", _with("policy", KeyError), "policy"),
    ("unknown category", _with("person.categories", ["火星人"]), "person.categories"),
    ("unknown insurance", _with("person.insurance", "商业保险"), "person.insurance"),
    ("unknown top-level field", {**EXAMPLE, "visitz": []}, "visitz"),
    ("unknown visit field", _with("visits.0.totl_cost", "1"), "visits[0].totl_cost"),
    ("missing visits", _with("visits", KeyError), "visits"),
    ("empty visits", _with("visits", []), "visits"),
    ("missing total_cost", _with("visits.0.total_cost", KeyError), "visits[0].total_cost"),
    ("missing date", _with("visits.0.date", KeyError), "visits[0].date"),
    ("bad date", _with("visits.0.date", "2022-02-30"), "visits[0].date"),
    ("date not a string", _with("visits.0.date", 20220305), "visits[0].date"),
    ("bad kind", _with("visits.0.kind", "急诊"), "visits[0].kind"),
    ("three decimals", _with("visits.0.total_cost", "60000.001"), "visits[0].total_cost"),
    ("negative amount", _with("visits.0.basic_paid", "-1"), "visits[0].basic_paid"),
    ("not a number", _with("visits.0.policy_covered", "五万"), "visits[0].policy_covered"),
    ("boolean amount", _with("visits.0.total_cost", True), "visits[0].total_cost"),
    ("covered above total", _with("visits.0.policy_covered", "70000.00"), "visits[0].policy_covered"),
    ("basic above covered", _with("visits.0.basic_paid", "50000.01"), "visits[0].basic_paid"),
    ("serious plus basic above covered", _with("visits.0.serious_illness_paid", "20000.01"),
     "visits[0].serious_illness_paid"),
    ("referred not boolean", _with("visits.0.referred", "是"), "visits[0].referred"),
    ("bad hospital level", _with("visits.0.hospital_level", "特级"), "visits[0].hospital_level"),
    ("visit before policy", _with("visits.0.date", "2021-12-31"), "visits[0].date"),
    ("unknown local", _with("local.tilt_rat", "50%"), "local.tilt_rat"),
    ("local not a number", _with("local.per_capita_disposable_income", "很多"), "local.per_capita_disposable_income"),
    ("application not boolean", _with("application", "yes"), "application"),
    ("household wrong type", _with("household", []), "household"),
    ("person wrong type", _with("person", "低保对象"), "person"),
]


@pytest.mark.parametrize("name,case,field", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_case_exits_2_naming_field(name, case, field, tmp_path, capsys):
    code, out, err = run(case, tmp_path, capsys)
    assert code == 2
    assert out == ""
    assert field in err
    assert err.count("\n") == 1, "one line on standard error"


def test_not_json_and_missing_file(tmp_path, capsys):
    code, _, err = run("{not json", tmp_path, capsys)
    assert code == 2 and "JSON" in err
    assert main(["settle", str(tmp_path / "absent.json")]) == 2
    assert "找不到文件" in capsys.readouterr().err
    code, _, err = run("", tmp_path, capsys)
    assert code == 2 and "文件是空的" in err
    code, out, err = run("\ufeff" + json.dumps(EXAMPLE, ensure_ascii=False), tmp_path, capsys)
    assert code == 0, err
    code, _, err = run('{"policy": "wuhu-2022", "policy": "hunan-2022", "visits": []}', tmp_path, capsys)
    assert code == 2 and "policy" in err and "两次" in err


def test_visits_in_two_years_or_out_of_order(tmp_path, capsys):
    second = dict(EXAMPLE["visits"][0], id="v2", date="2023-01-02")
    code, _, err = run({**EXAMPLE, "visits": [EXAMPLE["visits"][0], second]}, tmp_path, capsys)
    assert code == 2 and "visits" in err and "同一自然年度" in err
    earlier = dict(EXAMPLE["visits"][0], id="v2", date="2022-01-02")
    code, _, err = run({**EXAMPLE, "visits": [EXAMPLE["visits"][0], earlier]}, tmp_path, capsys)
    assert code == 2 and "visits[1].date" in err
    code, _, err = run({**EXAMPLE, "visits": [EXAMPLE["visits"][0], EXAMPLE["visits"][0]]}, tmp_path, capsys)
    assert code == 2 and "重复" in err


def test_missing_local_named_when_the_path_needs_it(tmp_path, capsys):
    case = _with("visits.0.basic_paid", KeyError)
    del case["visits"][0]["serious_illness_paid"]
    code, _, err = run(case, tmp_path, capsys)
    assert code == 2
    assert "local.basic_deductible_county" in err
    assert "基本医保住院起付线（县级医疗机构）" in err


def test_json_numbers_are_accepted(tmp_path, capsys):
    case = _with("visits.0.total_cost", 60000)
    case["visits"][0]["policy_covered"] = 50000.0
    code, out, err = run(case, tmp_path, capsys)
    assert code == 0, err
    assert json.loads(out)["visits"][0]["total_cost"] == "60000.00"
