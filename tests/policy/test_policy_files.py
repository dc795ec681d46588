"""Policy files: all five load; every kind of mistake a county officer can make is a loud error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.policy.loader import PolicyError, load_file, policies_dir, policy_ids

WUHU = (policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8")
LOW_RATE = "比例: {2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}}"


def test_all_five_policies_load():
    assert policy_ids() == ["hunan-2022", "liupanshui-2017", "qiannan-2021", "wuhu-2022", "zhanjiang-2019"]
    for pid in policy_ids():
        loaded = load_file(policies_dir() / f"{pid}.yaml")
        assert loaded.policy.id == pid


def test_every_value_has_a_reference():
    from app.policy.checks import rules as _rules
    for pid in policy_ids():
        policy = load_file(policies_dir() / f"{pid}.yaml").policy
        for path, rule in _rules(policy, ""):
            for day, entry in rule.entries():
                assert "〔" in entry.reference or "(" in entry.reference, f"{pid} {path} {day}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = [
    ("unknown key", WUHU.replace(LOW_RATE, LOW_RATE.replace("比例:", "比率:"), 1), "未知的键“比率”"),
    ("no reference", WUHU.replace(LOW_RATE, "比例: {2022-01-01: {值: 75%}}", 1), "缺少“依据”"),
    ("no value", WUHU.replace(LOW_RATE, "比例: {2022-01-01: {依据: 芜医保〔2021〕76号 二(二)5}}", 1), "“值”或“地方参数”"),
    ("missing rule", WUHU.replace("        " + LOW_RATE + "\n", "", 1), "缺少“比例”"),
    ("bare number rate", WUHU.replace(LOW_RATE, LOW_RATE.replace("75%", "0.75"), 1), "请写成百分数"),
    ("rate above 100%", WUHU.replace(LOW_RATE, LOW_RATE.replace("75%", "175%"), 1), "超过 100%"),
    ("duplicate date", WUHU.replace(LOW_RATE, "比例: {2022-01-01: {值: 75%, 依据: x〔1〕}, 2022-01-01: {值: 80%, 依据: x〔1〕}}", 1),
     "重复"),
    ("undeclared local", WUHU.replace(LOW_RATE, "比例: {2022-01-01: {地方参数: dibao_rate, 依据: 芜医保〔2021〕76号}}", 1),
     "地方参数“dibao_rate”未在“地方参数”中声明"),
    ("unit mismatch", WUHU.replace(LOW_RATE, "比例: {2022-01-01: {地方参数: basic_annual_cap, 依据: 芜医保〔2021〕76号}}", 1),
     "单位是元，此处需要比例"),
    ("undeclared category", WUHU.replace("      - 类别: [低保对象]\n", "      - 类别: [低保户]\n", 1), "类别“低保户”未在文件顶部"),
    ("not yaml", "编号: [unclosed", "YAML 格式错误"),
    ("bad date", WUHU.replace(LOW_RATE, LOW_RATE.replace("2022-01-01", "2022-13-01"), 1), "不是有效日期"),
]


@pytest.mark.parametrize("name,text,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_a_loud_error(name, text, message, tmp_path):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_file(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_policy_check_exits_2_naming_the_problem(tmp_path, capsys):
    path = write(tmp_path, BROKEN[0][1])
    assert main(["policy", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "比率" in err and str(path) in err
    assert main(["policy", "check", str(policies_dir() / "wuhu-2022.yaml")]) == 0


def test_file_name_must_match_id(tmp_path):
    path = tmp_path / "wuhu-2099.yaml"
    path.write_text(WUHU, encoding="utf-8")
    with pytest.raises(PolicyError, match="编号"):
        load_file(path)


def test_a_dated_change_applies_from_its_date(tmp_path):
    from app.domain.case import parse_case
    from app.policy.engine import Engine

    changed = WUHU.replace(LOW_RATE, "比例: {2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}, "
                                     "2024-01-01: {值: 80%, 依据: 县医保局〔2023〕1号}}", 1)
    loaded = load_file(write(tmp_path, changed))

    def assistance(day: str) -> str:
        case = parse_case({"policy": "wuhu-2022", "person": {"categories": ["低保对象"]}, "visits": [
            {"date": day, "kind": "住院", "total_cost": "10000", "policy_covered": "10000",
             "basic_paid": "6000", "serious_illness_paid": "0"}]})
        result = Engine(loaded).settle(case)
        return str(result.visits[0].assistance_paid)

    assert assistance("2023-12-31") == "3000.00"
    assert assistance("2024-01-01") == "3200.00"


def test_policy_show_lists_locals_and_references(capsys):
    assert main(["policy", "show", "qiannan-2021"]) == 0
    out = capsys.readouterr().out
    assert "tilt_rate" in out and "不高于 70%" in out
    assert "黔南医保发〔2021〕26号 三(四)" in out
    assert main(["policy", "show", "nowhere"]) == 2
