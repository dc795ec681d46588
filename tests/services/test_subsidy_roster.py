"""资助参保名单 for a coming year: 就高 once, amounts to the fen by hand, refusals, jurisdiction, Excel, CLI.

Rules from the policy files:
- 芜医保〔2021〕76号 二(一)1 (wuhu-2022): 特困人员 全额; 低保对象 90%; 返贫致贫人口 80%; 监测对象 and the other
  monitored groups 50%; 稳定脱贫人口 “不再享受” (no rule).
- 黔南医保发〔2021〕26号 二(一) (qiannan-2021): 特困人员 全额; 低保对象 and 易返贫致贫人口 定额, amounts left to the
  county (local premium_subsidy_dibao, premium_subsidy_fragile).
The contribution 383.33 is chosen so that the shares land on half fen: 383.33 × 50% = 191.665 → 191.67 (half-up).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.services import county, registry, subsidy_roster, subsidy_roster_xlsx, users
from app.services.session import Session
from app.domain.errors import FieldError

from .conftest import HEAD_ID, valid_id

TODAY = date(2025, 11, 20)
PAID = "383.33"


@pytest.fixture
def wuhu(session, family):
    """Six people in two townships, each showing one way a category meets the 1 January that decides."""
    _, zhang, li = family                                              # 籍山镇 340223100201
    registry.set_category(session, zhang, "特困人员", "2020-01-01", None, "民政")
    registry.set_category(session, zhang, "低保对象", "2021-03-01", None, "民政")
    registry.set_category(session, li, "低保对象", "2020-01-01", "2025-12-31", "民政")   # ends the day before
    people = {"zhang": zhang, "li": li}
    for key, code, body, name, category, start, end in (
            ("wang", "340223102201", "34022319500101003", "王五", "监测对象", "2026-01-01", None),  # starts that day
            ("zhao", "340223100201", "34022319700505004", "赵六", "稳定脱贫人口", "2021-01-01", None),
            ("qian", "340223100201", "34022319800606005", "钱七", "返贫致贫人口", "2024-07-01", None),
            ("sun", "340223100201", "34022319900707006", "孙八", "低保对象", "2023-01-01", None)):
        _, pid = registry.register_household(session, code, f"{name}家", registry.PersonInput(name, valid_id(body)))
        registry.set_category(session, pid, category, start, end, "乡村振兴" if category != "低保对象" else "民政")
        people[key] = pid
    registry.set_enrollment(session, people["sun"], 2025, "职工医保")  # the latest enrolment before 2026 decides
    return people


def test_roster_hand_worked(session, wuhu):
    roster = subsidy_roster.subsidy_roster(session, 2026, PAID, today=TODAY)
    assert roster.on == date(2026, 1, 1) and roster.contributions["城乡居民医保"] == Decimal("383.33")
    got = {e.person.name: e for e in roster.entries}
    assert list(got) == ["张三", "钱七", "王五"]  # by township and village, then household
    zhang = got["张三"]
    # 就高: 特困人员 全额 383.33 against 低保对象 383.33 × 90% = 344.997 → 345.00; one subsidy only.
    assert (zhang.category, zhang.mode, zhang.rule, zhang.amount) == ("特困人员", "全额", "全额资助", Decimal("383.33"))
    assert zhang.person.categories == ("低保对象", "特困人员") and zhang.certified_by == "民政"
    assert zhang.reference == "芜医保〔2021〕76号 二(一)1"
    assert zhang.note == "同时符合低保对象（按比例资助 90%，345.00 元），按就高原则只资助一次"
    # 返贫致贫人口: 383.33 × 80% = 306.664 → 306.66.
    assert (got["钱七"].rule, got["钱七"].amount, got["钱七"].note) == ("按比例资助 80%", Decimal("306.66"), "")
    # 监测对象 certified from 1 January 2026: 383.33 × 50% = 191.665 → 191.67 (half-up, not to even).
    assert (got["王五"].rule, got["王五"].amount, got["王五"].person.township) == ("按比例资助 50%", Decimal("191.67"), "弋江镇")
    assert roster.total == Decimal("881.66")  # 383.33 + 306.66 + 191.67
    assert roster.by_category() == [("特困人员", "全额资助", 1, Decimal("383.33")),
                                    ("返贫致贫人口", "按比例资助 80%", 1, Decimal("306.66")),
                                    ("监测对象", "按比例资助 50%", 1, Decimal("191.67"))]
    # 李四's 低保 ended on 31 December: not on either sheet. 赵六 and 孙八 hold a category but get nothing, and why.
    apart = {u.person.name: u.reason for u in roster.unlisted}
    assert list(apart) == ["孙八", "赵六"]
    assert apart["赵六"] == "本政策（芜医保〔2021〕76号）没有为稳定脱贫人口（参加城乡居民医保）规定资助参保"
    assert apart["孙八"].startswith("已参加职工医保")


def test_jurisdiction(session, wuhu):
    jishan = users.create_user(session, "xiang", "乡镇经办", "乡镇经办", "340223100", "correct-horse")
    roster = subsidy_roster.subsidy_roster(Session(session.store, jishan), 2026, PAID, today=TODAY)
    assert [e.person.name for e in roster.entries] == ["张三", "钱七"] and roster.place == "南陵县籍山镇"
    yanshan = users.create_user(session, "cun", "村级经办", "村级经办", "340223102201", "correct-horse")
    roster = subsidy_roster.subsidy_roster(Session(session.store, yanshan), 2026, PAID, today=TODAY)
    assert [e.person.name for e in roster.entries] == ["王五"] and roster.unlisted == ()


def test_refusals(session, wuhu):
    with pytest.raises(FieldError) as info:
        subsidy_roster.subsidy_roster(session, 2026, None, today=TODAY)
    assert info.value.field == "contribution" and "2026 年度城乡居民医保个人缴费标准未填写" in info.value.reason
    with pytest.raises(FieldError, match="个人缴费标准：个人缴费标准应大于 0"):
        subsidy_roster.subsidy_roster(session, 2026, "0", today=TODAY)
    with pytest.raises(FieldError, match="最多两位小数"):
        subsidy_roster.subsidy_roster(session, 2026, "380.125", today=TODAY)
    with pytest.raises(FieldError, match="不是城乡居民医保类险种"):
        subsidy_roster.subsidy_roster(session, 2026, {"职工医保": "400"}, today=TODAY)
    with pytest.raises(FieldError) as info:
        subsidy_roster.subsidy_roster(session, 2027, PAID, today=TODAY)
    assert info.value.field == "year"
    with pytest.raises(FieldError, match="早于本县政策.*2022-01-01"):
        subsidy_roster.subsidy_roster(session, 2021, PAID, today=TODAY)


def test_fixed_amounts_come_from_the_county_and_are_refused_when_unset(session, family):
    _, zhang, li = family
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {})
    registry.set_category(session, li, "低保对象", "2022-01-01", None, "民政")
    with pytest.raises(FieldError) as info:
        subsidy_roster.subsidy_roster(session, 2026, "400", today=TODAY)
    assert info.value.field == "local.premium_subsidy_dibao"
    assert "低保对象定额资助参保金额（每人每年）" in info.value.reason and "编制资助参保名单" in info.value.reason
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {"premium_subsidy_dibao": "230.50"})
    registry.set_category(session, zhang, "特困人员", "2022-01-01", None, "民政")
    roster = subsidy_roster.subsidy_roster(session, 2026, "400", today=TODAY)
    got = {e.person.name: (e.rule, e.amount, e.reference) for e in roster.entries}
    assert got == {"张三": ("全额资助", Decimal("400.00"), "黔南医保发〔2021〕26号 二(一)"),
                   "李四": ("定额资助", Decimal("230.50"), "黔南医保发〔2021〕26号 二(一)")}
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {"premium_subsidy_dibao": "500"})
    with pytest.raises(FieldError, match="低保对象定额资助标准为 500.00 元，与个人缴费标准 400.00 元不相称") as info:
        subsidy_roster.subsidy_roster(session, 2026, "400", today=TODAY)
    assert info.value.field == "local.premium_subsidy_dibao"


def test_excel_read_back(session, wuhu, tmp_path):
    roster = subsidy_roster.subsidy_roster(session, 2026, PAID, today=TODAY)
    book = load_workbook(subsidy_roster_xlsx.export_subsidy_roster(roster, tmp_path / "资助.xlsx"))
    assert book.sheetnames == ["资助参保名单", "按类别汇总", "未列入名单"]
    ws = book["资助参保名单"]
    assert ws["A1"].value == "南陵县2026年度城乡居民医保资助参保名单"
    assert "以 2026年1月1日 有效的身份类别为准" in ws["A3"].value and "就高" in ws["A3"].value
    assert ws["A4"].value.endswith("城乡居民医保 383.33 元/人·年")
    assert "共 3 人，资助金额合计 881.66 元" in ws["A5"].value
    headers = [c.value for c in ws[6]]
    assert ws.freeze_panes == "E7"
    rows = [{h: c for h, c in zip(headers, r)} for r in ws.iter_rows(min_row=7)]
    first = rows[0]
    assert (first["姓名"].value, first["公民身份号码"].value, first["资助类别（就高）"].value) == ("张三", HEAD_ID, "特困人员")
    assert Decimal(str(first["资助金额"].value)) == Decimal("383.33") and first["资助金额"].number_format == "#,##0.00"
    assert Decimal(str(rows[2]["资助金额"].value)) == Decimal("191.67")
    total = rows[-1]
    assert total["序号"].value == "合计" and Decimal(str(total["资助金额"].value)) == Decimal("881.66")
    summary = [tuple(c.value for c in r) for r in book["按类别汇总"].iter_rows(min_row=4)]
    assert summary[0][:3] == ("特困人员", "全额资助", 1) and summary[-1][0] == "合计" and summary[-1][2] == 3
    apart = book["未列入名单"]
    assert [apart.cell(r, 4).value for r in (4, 5)] == ["孙八", "赵六"]


def test_cli(session, wuhu, tmp_path, capsys):
    db = str(session.store.path)
    out = tmp_path / "资助.xlsx"
    assert main(["subsidy-roster", "--year", "2026", str(out), "--db", db]) == 2
    assert capsys.readouterr().err.startswith("个人缴费标准：2026 年度城乡居民医保个人缴费标准未填写")
    assert not out.exists()
    assert main(["subsidy-roster", "--year", "2026", "--contribution", PAID, str(out), "--db", db]) == 0
    assert "资助参保名单：3 人，资助金额合计 881.66 元" in capsys.readouterr().out
    assert load_workbook(out)["资助参保名单"].cell(7, 4).value == "张三"
    assert main(["subsidy-roster", "--year", "2026", "--contribution", "=400", str(out), "--db", db]) == 2
    assert "险种=金额" in capsys.readouterr().err
    # A scheme-specific figure for a scheme nobody here is in leaves the 城乡居民医保 people without one.
    assert main(["subsidy-roster", "--year", "2026", "--contribution", "新农合=220", str(out), "--db", db]) == 2
    assert "城乡居民医保个人缴费标准未填写" in capsys.readouterr().err


def test_the_contribution_a_policy_declares_is_used_when_none_is_given(session, family, tmp_path, monkeypatch):
    """A county file with a dated 个人缴费 (the year's 筹资 notice written into it) prices the roster by itself."""
    from app.policy import install
    from app.policy.loader import policies_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    wuhu = (policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8")
    edit = tmp_path / "edit" / "wuhu-2022.yaml"
    edit.parent.mkdir()
    edit.write_text(wuhu.replace("基本医保:\n", "个人缴费:\n  城乡居民医保:\n    2023-01-01: {值: 380, 依据: 某市医保发〔2022〕1号}\n\n"
                                               "基本医保:\n", 1), encoding="utf-8")
    install.install_policy(edit)
    registry.set_category(session, family[1], "低保对象", "2020-01-01", None, "民政")
    fresh = Session(session.store, session.user)  # builds its engine from the county's file
    # No contribution given: the policy's 380 from 2023, × 90% = 342.
    roster = subsidy_roster.subsidy_roster(fresh, 2024, None, today=date(2023, 11, 20))
    (entry,) = roster.entries
    assert (entry.contribution, entry.amount) == (Decimal("380"), Decimal("342.00"))
    ws = load_workbook(subsidy_roster_xlsx.export_subsidy_roster(roster, tmp_path / "资助.xlsx"))["资助参保名单"]
    assert ws["A4"].value.endswith("城乡居民医保 380.00 元/人·年（本县政策文件，某市医保发〔2022〕1号）")
    # A contribution given for the year still decides: 400 × 90% = 360.
    (given,) = subsidy_roster.subsidy_roster(fresh, 2024, "400", today=date(2023, 11, 20)).entries
    assert given.amount == Decimal("360.00")
