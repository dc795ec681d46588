"""`policy new` writes a skeleton an officer fills in; `policy test` runs the officer's hand-worked cases."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.cli import main
from app.policy.cases import CasesError, load_cases
from app.policy.loader import PolicyError, load_file, policies_dir
from app.policy.skeleton import skeleton
from app.store import clock

EXAMPLE = policies_dir() / "example"
D = "2024-01-01"


def fill(text: str) -> str:
    """What an officer does to the skeleton: every 待填 replaced by a value of the kind its key takes."""
    for key, value in (("比例", "50%"), ("起付线降低", "50%"), ("比例提高", "5个百分点")):
        text = text.replace(f"{key}: {{{D}: {{值: 待填", f"{key}: {{{D}: {{值: {value}")
    text = text.replace("{值: 待填, 基数:", "{值: 50%, 基数:").replace("值: 待填", "值: 1000")
    text = text.replace("发文日期: 待填", "发文日期: 2023-12-01").replace("适用期至: 待填", "适用期至: 2030-12-31")
    return text.replace("待填", "某市医保发〔2023〕1号 第一条")


def test_new_writes_a_skeleton_with_every_section(tmp_path, capsys):
    assert main(["policy", "new", "mou-2024", "--date", D, "--out", str(tmp_path)]) == 0
    path = tmp_path / "mou-2024.yaml"
    text = path.read_text(encoding="utf-8")
    assert text == skeleton("mou-2024", date(2024, 1, 1))
    for section in ("类别:", "地方参数:", "共用限额:", "个人缴费:", "基本医保:", "大病保险:", "医疗救助:", "超限额救助:",
                    "救助基数:", "依申请:", "二次救助:", "依申请救助:", "再救助:", "监测预警:", "资助参保:"):
        assert section in text, section
    assert "jiuzhu policy check" in capsys.readouterr().out
    # Unfilled, it is refused at the first 待填, naming line and key.
    with pytest.raises(PolicyError) as info:
        load_file(path)
    assert (info.value.where, info.value.line) == ("名称", text.splitlines().index("名称: 待填                  # 文件标题，照抄") + 1)
    assert "还没有填写" in info.value.why
    # Filled in, every section checks.
    path.write_text(fill(text), encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 0


def test_new_never_overwrites_and_refuses_a_bad_id(tmp_path, capsys):
    path = tmp_path / "mou-2024.yaml"
    path.write_text("县里已经写了一半", encoding="utf-8")
    assert main(["policy", "new", "mou-2024", "--out", str(tmp_path)]) == 2
    assert path.read_text(encoding="utf-8") == "县里已经写了一半"
    assert main(["policy", "new", "Mou_2024", "--out", str(tmp_path)]) == 2
    assert main(["policy", "new", "mou-2025", "--date", "2024-13-01", "--out", str(tmp_path)]) == 2
    assert "不会覆盖" in capsys.readouterr().err


def test_new_dates_the_rules_from_the_county_clock_by_default(tmp_path):
    # Half past midnight on 1 January in the county is still 2024 by UTC: the county's year decides.
    with clock.freeze(datetime(2025, 1, 1, 0, 30)):
        assert main(["policy", "new", "mou-2025", "--out", str(tmp_path)]) == 0
    assert "施行日期: 2025-01-01" in (tmp_path / "mou-2025.yaml").read_text(encoding="utf-8")


def test_the_worked_example_checks_and_agrees_with_its_twelve_cases(capsys):
    policy, cases = EXAMPLE / "shili-2024.yaml", EXAMPLE / "shili-2024-cases.yaml"
    assert main(["policy", "check", str(policy)]) == 0
    assert len(load_cases(cases)) == 12
    assert main(["policy", "test", str(policy), str(cases)]) == 0
    out = capsys.readouterr().out
    assert out.count("一致　") == 12 and "不一致" not in out
    assert out.endswith("12 个案例中 12 个一致\n")


def test_a_case_that_disagrees_is_named_with_the_difference(tmp_path, capsys):
    cases = (EXAMPLE / "shili-2024-cases.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "cases.yaml"
    wrong.write_text(cases.replace('assistance_paid: "9800.00"', 'assistance_paid: "9900.00"', 1)
                     .replace("error: 晚于本政策适用期", "error: 早于本政策施行日期", 1), encoding="utf-8")
    assert main(["policy", "test", str(EXAMPLE / "shili-2024.yaml"), str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "不一致　低保对象 住院一次，救助 70%，按 70% 资助参保\n　　visits.v1.assistance_paid 应为 9900.00，算得 9800.00" in out
    assert "应报错“早于本政策施行日期”，实际报错：visits[0].date" in out
    assert out.endswith("12 个案例中 10 个一致，2 个不一致\n")


@pytest.mark.parametrize("text,words", [
    ("- name: x\n  case: {}\n", "要写“expect”"),
    ("- name: x\n  case: {visits: []}\n  expect: {totlas: {}}\n", "expect 可写的键"),
    ("- name: x\n  cse: {}\n", "未知的键“cse”"),
    ("- name: x\n  case: [\n", "YAML 格式错误"),
    ("", "应为案例列表"),
    ("a: &a [x, x, x, x, x, x, x, x]\n" + "".join(f"a{i}: &a{i} [{', '.join(['*a' + ('' if i == 1 else str(i - 1))] * 8)}]\n"
                                                   for i in range(1, 9)), "不像案例文件"),
])
def test_a_cases_file_that_is_not_cases_is_refused_whole(tmp_path, text, words, capsys):
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CasesError, match=words):
        load_cases(path)
    assert main(["policy", "test", str(EXAMPLE / "shili-2024.yaml"), str(path)]) == 2
    assert words in capsys.readouterr().err


def test_policy_test_refuses_a_broken_policy_before_running_cases(tmp_path, capsys):
    broken = tmp_path / "shili-2024.yaml"
    broken.write_text((EXAMPLE / "shili-2024.yaml").read_text(encoding="utf-8").replace("最大值: 0.70", "最大值: 70"),
                      encoding="utf-8")
    assert main(["policy", "test", str(broken), str(EXAMPLE / "shili-2024-cases.yaml")]) == 2
    assert "地方参数.tilt_rate" in capsys.readouterr().err


def test_the_example_is_not_a_bundled_policy():
    from app.policy.loader import policy_ids
    assert "shili-2024" not in policy_ids()
    assert Path(EXAMPLE / "shili-2024.yaml").exists()
