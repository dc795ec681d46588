"""Every rule that cannot mean anything is refused, naming file, line and key, in Chinese, with how to fix it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli import main
from app.policy.loader import PolicyError, load_file, policies_dir

WUHU = (policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8")
HUNAN = (policies_dir() / "hunan-2022.yaml").read_text(encoding="utf-8")
QIANNAN = (policies_dir() / "qiannan-2021.yaml").read_text(encoding="utf-8")
LOW_RATE = "比例: {2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}}"
HUNAN_RATE = "比例: {2022-01-01: {值: 70%, 依据: 湘医保通知(2022-06-20) 四(一)}}"
TILT_RATE = "比例: {2021-09-29: {地方参数: tilt_rate, 依据: 黔南医保发〔2021〕26号 三(四)}}"


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _line(text: str, marker: str) -> int:
    """The line (from 1) of the first line holding `marker`: where the refusal must point."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


# (name, policy id, text, the line's marker, the key path named, words of the reason and the fix)
NONSENSE = [
    ("基数 on a rate (the issue's own example)", "hunan-2022",
     _swap(HUNAN, HUNAN_RATE, "比例: {2022-01-01: {值: 65%, 基数: per_capita_disposable_income, 依据: 湘医保通知(2022-06-20) 四(一)}}"),
     "值: 65%, 基数", "医疗救助[1].待遇[2].比例.2022-01-01", ["“基数”只能用在金额上", "请删去“基数: per_capita_disposable_income”"]),
    ("基数 on a premium share", "wuhu-2022",
     _swap(WUHU, "比例: {2022-01-01: {值: 90%, 依据: 芜医保〔2021〕76号 二(一)1}}",
           "比例: {2022-01-01: {值: 90%, 基数: basic_annual_cap, 依据: 芜医保〔2021〕76号 二(一)1}}"),
     "值: 90%, 基数", "资助参保[2].比例.2022-01-01", ["“基数”只能用在金额上"]),
    ("基数 on points", "wuhu-2022",
     _swap(WUHU, "2022-01-01: {值: 5个百分点, 依据", "2022-01-01: {值: 5个百分点, 基数: basic_annual_cap, 依据"),
     "5个百分点, 基数", "大病保险.倾斜[1].比例提高.2022-01-01", ["“基数”只能用在金额上"]),
    ("rate above 100%", "wuhu-2022", _swap(WUHU, LOW_RATE, LOW_RATE.replace("75%", "175%")),
     "值: 175%", "医疗救助[1].待遇[2].比例.2022-01-01", ["超过 100%", "请核对文件"]),
    ("uplift above 100 points", "wuhu-2022", _swap(WUHU, "值: 5个百分点", "值: 150个百分点"),
     "150个百分点", "大病保险.倾斜[1].比例提高.2022-01-01", ["超过 100 个百分点"]),
    ("全额 with 比例", "wuhu-2022",
     _swap(WUHU, "    方式: 全额\n", "    方式: 全额\n    比例: {2022-01-01: {值: 95%, 依据: 芜医保〔2021〕76号 二(一)1}}\n"),
     "    比例: {2022-01-01: {值: 95%", "资助参保[1].比例", ["方式为“全额”时不能写“比例”", "删去“比例”"]),
    ("比例 with 金额", "wuhu-2022",
     _swap(WUHU, "    方式: 比例\n", "    方式: 比例\n    金额: {2022-01-01: {值: 100, 依据: 芜医保〔2021〕76号 二(一)1}}\n"),
     "    金额: {2022-01-01", "资助参保[2].金额", ["不能写“金额”"]),
    ("value before 施行日期", "wuhu-2022", _swap(WUHU, LOW_RATE, LOW_RATE.replace("2022-01-01", "2021-06-01")),
     "2021-06-01: {值: 75%", "医疗救助[1].待遇[2].比例.2021-06-01", ["早于本政策施行日期 2022-01-01", "请把日期改为"]),
    ("value after 适用期至", "wuhu-2022",
     _swap(_swap(WUHU, "施行日期: 2022-01-01\n", "施行日期: 2022-01-01\n适用期至: 2026-12-31\n"), LOW_RATE,
           "比例: {2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}, 2027-01-01: {值: 80%, 依据: 县医保局〔2026〕1号}}"),
     "2027-01-01: {值: 80%", "医疗救助[1].待遇[2].比例.2027-01-01", ["晚于本政策“适用期至” 2026-12-31"]),
    ("适用期至 before 施行日期", "wuhu-2022", _swap(WUHU, "施行日期: 2022-01-01\n", "施行日期: 2022-01-01\n适用期至: 2021-12-31\n"),
     "编号:", "（文件顶层）", ["早于“施行日期”"]),
    ("a literal above the bound its rule declares", "qiannan-2021",
     _swap(QIANNAN, TILT_RATE, "比例: {2021-09-29: {地方参数: tilt_rate, 依据: 黔南医保发〔2021〕26号 三(四)}, "
                               "2024-01-01: {值: 80%, 依据: 某县医保发〔2023〕1号}}"),
     "2024-01-01: {值: 80%", "医疗救助[1].超限额救助[1].比例.2024-01-01", ["取值 80% 高于文件规定的上限 70%", "黔南医保发〔2021〕26号 三(四)"]),
    ("a bound of a ratio written as a percentage number", "qiannan-2021",
     _swap(QIANNAN, "最大值: 0.70", "最大值: 70"), "tilt_rate:", "地方参数.tilt_rate", ["请写成小数，1 表示 100%"]),
    ("minimum above maximum", "qiannan-2021", _swap(QIANNAN, "最大值: 0.70", "最小值: 0.8, 最大值: 0.70"),
     "tilt_rate:", "地方参数.tilt_rate", ["“最小值” 0.8 大于“最大值” 0.70"]),
    ("最高比例 without 比例提高", "qiannan-2021",
     _swap(QIANNAN, TILT_RATE, TILT_RATE + "\n        最高比例: {2021-09-29: {值: 90%, 依据: 黔南医保发〔2021〕26号 三(四)}}"),
     "        最高比例:", "医疗救助[1].超限额救助[1].最高比例", ["“最高比例”只限制“比例提高”之后的比例"]),
    ("每次递减 under 连续计算", "wuhu-2022",
     _swap(WUHU, "    方式: 连续计算\n", "    方式: 连续计算\n    每次递减: {2022-01-01: {值: 25%, 依据: 芜医保〔2021〕76号 二(三)8}}\n"),
     "    每次递减:", "基本医保.转诊起付线.每次递减", ["只用于“逐次递减”"]),
    ("比例 under 收入减自付 test", "wuhu-2022",
     _swap(WUHU, "    财产核查: true\n", "    财产核查: true\n    比例: {2022-01-01: {值: 50%, 依据: 芜医保〔2021〕76号 二(二)5}}\n"),
     "    比例: {2022-01-01: {值: 50%, 依据: 芜医保〔2021〕76号 二(二)5}}", "依申请救助.收入检验.比例",
     ["只用于方式“自付超过收入比例”"]),
    ("empty category list", "wuhu-2022", _swap(WUHU, "      - 类别: [低保对象]\n", "      - 类别: []\n"),
     "- 类别: []", "医疗救助[1].待遇[2].类别", ["至少要写一项"]),
    ("a percentage where an amount is due", "wuhu-2022",
     _swap(WUHU, "起付线: {2022-01-01: {值: 1500,", "起付线: {2022-01-01: {值: 10%,"),
     "值: 10%,", "医疗救助[1].待遇[3].起付线.2022-01-01", ["是百分数，不是金额", "基数: per_capita_disposable_income"]),
    ("an unfilled placeholder", "wuhu-2022", _swap(WUHU, LOW_RATE, LOW_RATE.replace("75%", "待填")),
     "值: 待填", "医疗救助[1].待遇[2].比例.2022-01-01.值", ["还没有填写"]),
]


@pytest.mark.parametrize("name,pid,text,marker,where,words", NONSENSE, ids=[n[0] for n in NONSENSE])
def test_nonsense_is_refused_naming_file_line_key_and_fix(name, pid, text, marker, where, words, tmp_path):
    path = tmp_path / f"{pid}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_file(path)
    err = info.value
    line = _line(text, marker.split("\n")[0]) + marker.count("\n")
    assert (err.source, err.line, err.where) == (str(path), line, where), str(err)
    for word in words:
        assert word in err.why, str(err)
    assert str(err).startswith(f"{path}：第 {line} 行：{where}：")


def test_the_base_mistake_of_the_issue_no_longer_settles(tmp_path, capsys):
    """The rule that paid 14,000 of 14,000 instead of 6,500 is refused by check and by install."""
    text = _swap(HUNAN, HUNAN_RATE, "比例: {2022-01-01: {值: 65%, 基数: per_capita_disposable_income, 依据: 湘医保通知(2022-06-20) 四(一)}}")
    path = tmp_path / "hunan-2022.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 2
    assert main(["policy", "install", str(path)]) == 2
    assert "“基数”只能用在金额上" in capsys.readouterr().err


YAML_MISTAKES = [
    ("tab", _swap(WUHU, "  住院:\n    起付线:", "  住院:\n\t起付线:"), "\t起付线:", "Tab"),
    ("less indent", _swap(WUHU, "    财产核查: true", "   财产核查: true"), "   财产核查: true", "缩进不对"),
    ("more indent", _swap(WUHU, "    财产核查: true", "      财产核查: true"), "      财产核查: true", "缩进比上一行多"),
    ("missing colon", _swap(WUHU, "    财产核查: true", "    财产核查 true"), "    财产核查 true", "缺少冒号"),
    ("missing colon before a mapping", _swap(WUHU, "  收入检验:\n", "  收入检验\n"), "  收入检验", "缺少冒号"),
    ("unclosed bracket", _swap(WUHU, "      - 类别: [低保对象]", "      - 类别: [低保对象"), "      - 类别: [低保对象", "方括号"),
    ("duplicate date", _swap(WUHU, LOW_RATE, "比例:\n          2022-01-01: {值: 75%, 依据: x〔1〕}\n          2022-01-01: {值: 80%, 依据: x〔1〕}"),
     "          2022-01-01: {值: 80%", "重复出现"),
]


@pytest.mark.parametrize("name,text,marker,words", YAML_MISTAKES, ids=[m[0] for m in YAML_MISTAKES])
def test_yaml_mistakes_have_a_line_and_a_plain_reading(name, text, marker, words, tmp_path):
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_file(path)
    err = info.value
    assert err.line == _line(text, marker), str(err)
    assert "YAML 格式错误" in err.why and words in err.why, str(err)
    assert not re.search(r"expected|found|block|mapping|scanning", str(err)), str(err)


SCHEMA_MISTAKES = [
    ("one category without brackets", _swap(WUHU, "      - 类别: [低保对象]", "      - 类别: 低保对象"), "应写成列表"),
    ("a yes in Chinese", _swap(WUHU, "    财产核查: true", "    财产核查: 是的"), "应写 true（是）或 false（否）"),
    ("a kind not allowed", _swap(WUHU, "  适用费用: [住院, 门诊慢特病]\n  说明: 只适用", "  适用费用: [住院, 门诊]\n  说明: 只适用"),
     "“门诊”不是允许的取值，应为：住院、门诊慢特病、普通门诊"),
    ("a rule written as a number", _swap(WUHU, LOW_RATE, "比例: 75%"), "应写成一组“键: 值”"),
    ("an entry written as a list", _swap(WUHU, LOW_RATE, "比例: {2022-01-01: [75%]}"), "应写成一组“键: 值”"),
    ("a reference as a list", _swap(WUHU, LOW_RATE, "比例: {2022-01-01: {值: 75%, 依据: [a, b]}}"), "应为文字"),
]


@pytest.mark.parametrize("name,text,words", SCHEMA_MISTAKES, ids=[m[0] for m in SCHEMA_MISTAKES])
def test_schema_errors_read_in_chinese(name, text, words, tmp_path):
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_file(path)
    assert words in info.value.why, str(info.value)
    assert info.value.line is not None
    assert not re.search(r"Input should|valid|Value error|unable", str(info.value)), str(info.value)


def test_an_unknown_key_says_where_it_belongs(tmp_path):
    text = _swap(WUHU, "    适用费用: [住院, 门诊慢特病]\n    说明: 门诊",
                 "    适用费用: [住院, 门诊慢特病]\n    年度限额: {2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}}\n    说明: 门诊")
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_file(path)
    err = info.value
    assert (err.where, err.line) == ("医疗救助[1].年度限额", _line(text, "    年度限额: {2022-01-01: {值: 50000"))
    assert "应写在下一层的每一项里：医疗救助[…].待遇[…]" in err.why
    assert "这一层可以写的键：名称、适用费用、就医范围、待遇、超限额救助、说明" in err.why


def test_a_misspelt_key_gets_the_likely_spelling(tmp_path):
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(_swap(WUHU, LOW_RATE, LOW_RATE.replace("比例:", "比列:")), encoding="utf-8")
    with pytest.raises(PolicyError, match="是不是“比例”"):
        load_file(path)


def test_shared_limits_must_be_declared_and_used(tmp_path):
    limit = "年度限额: {2022-01-01: {值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}}"
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(_swap(WUHU, limit, "年度限额: {引用: 救助限额}"), encoding="utf-8")
    with pytest.raises(PolicyError, match="共用限额中没有“救助限额”") as info:
        load_file(path)
    assert info.value.where == "医疗救助[1].待遇[1].年度限额.引用"
    declared = _swap(WUHU, "基本医保:\n", f"共用限额:\n  救助限额: {{2022-01-01: {{值: 50000, 依据: 芜医保〔2021〕76号 二(二)5}}}}\n\n基本医保:\n")
    path.write_text(declared, encoding="utf-8")
    with pytest.raises(PolicyError, match="声明了但没有任何规则引用它") as info:
        load_file(path)
    assert (info.value.where, info.value.line) == ("共用限额.救助限额", _line(declared, "  救助限额:"))
    path.write_text(_swap(WUHU, limit, "年度限额: {引用: [a, b]}"), encoding="utf-8")
    with pytest.raises(PolicyError, match="“引用”后面写共用限额的名称"):
        load_file(path)


def test_a_flood_of_references_is_refused_before_anything_walks_it(tmp_path):
    """Nine levels of nine *aliases each stand for 9⁹ values in ten lines: refused, never expanded."""
    lines = ["扩展:", "  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "wuhu-2022.yaml"
    path.write_text(WUHU + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="不像政策文件"):
        load_file(path)

