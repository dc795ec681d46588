"""因病返贫致贫风险监测预警名单: the engine's test by month, hand-worked figures, refusals, jurisdiction, Excel, CLI.

Figures are worked by hand from the policy files. Every bill gives the hospital's 基本医保 and 大病保险 (0), so
tier 1 and 2 are the slip's; the rest is the documents':
- 芜医保〔2021〕76号 二(二)5 (wuhu-2022 监测预警): 稳定脱贫人口 and 普通参保居民 whose 个人自付合规医疗费用 (住院 and
  门诊慢特病, i.e. 政策范围内费用 − every tier) 达到 (≥) 5000 元. Those two categories get no 医疗救助.
- 湘医保通知(2022-06-20) 五(一) (hunan-2022): 自负费用（含目录外）, i.e. 医疗费用总额 − every tier, over 住院, 门诊慢特病
  and 普通门诊, 超过 (>) 7000 元 for 特困人员 and the other 困难群众, 超过 20000 元 for 稳定脱贫人口 and 普通参保居民.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.services import bills, county, monitoring, monitoring_xlsx, registry, users
from app.services.session import Session
from app.domain.errors import FieldError

from .conftest import clerk_for, valid_id
from .test_validation import bill

TODAY = date(2026, 1, 15)
HUNAN_LOCAL = {"per_capita_disposable_income": "31000", "outpatient_assistance_limit": "8000"}


def record(session, person, invoice, day, kind, total, covered, basic):
    bills.record_bill(clerk_for(session, person), person, bill(invoice_number=invoice, admitted_on=day, discharged_on=day, kind=kind,
                                            total_cost=total, policy_covered=covered, basic_paid=basic))


@pytest.fixture
def wuhu(session, family):
    """张三 (普通参保居民) reaches 5000 exactly in June; 李四 (低保对象) is not monitored in 芜湖; 王五 lives in another
    township; 赵六 is 稳定脱贫人口 until April and 低保对象 from May."""
    _, zhang, li = family                                            # 籍山镇 340223100201
    # 张三, 合规自付 = 政策范围内 − 基本医保 (no other tier for 普通参保居民):
    record(session, zhang, "Z1", "2025-03-10", "住院", "8000", "7000", "4000")       # 3000, total 3000 (< 5000)
    record(session, zhang, "Z2", "2025-04-02", "普通门诊", "900", "900", "0")          # not a monitored kind in 芜湖
    record(session, zhang, "Z3", "2025-05-20", "门诊慢特病", "2500", "2000", "1000")   # 1000, total 4000
    record(session, zhang, "Z4", "2025-06-15", "住院", "3000", "2500", "1500")         # 1000, total 5000: 达到
    registry.set_category(session, li, "低保对象", "2020-01-01", None, "民政")
    record(session, li, "L1", "2025-02-01", "住院", "50000", "45000", "30000")
    _, wang = registry.register_household(session, "340223102201", "弋江镇燕山村 3 号",
                                          registry.PersonInput("王五", valid_id("34022319500101003")))
    record(session, wang, "W1", "2025-01-15", "住院", "20000", "18000", "10000")     # 8000 ≥ 5000 in January
    _, zhao = registry.register_household(session, "340223100201", "籍山镇某村 9 号",
                                          registry.PersonInput("赵六", valid_id("34022319700505004")))
    registry.set_category(session, zhao, "稳定脱贫人口", "2021-01-01", "2025-04-30", "乡村振兴")
    registry.set_category(session, zhao, "低保对象", "2025-05-01", None, "民政")
    record(session, zhao, "S1", "2025-03-01", "住院", "12000", "10000", "4000")      # 6000 ≥ 5000 in March
    record(session, zhao, "S2", "2025-06-10", "住院", "1000", "1000", "500")          # now 低保对象: not monitored
    return {"zhang": zhang, "li": li, "wang": wang, "zhao": zhao}


def names(risk) -> list[str]:
    return [e.name for e in risk.entries]


def test_june_list_hand_worked(session, wuhu):
    risk = monitoring.risk_list(session, 2025, 6, today=TODAY)
    assert risk.as_of == date(2025, 6, 30)
    assert [(r.categories, r.threshold, r.comparison, r.reference) for r in risk.rules] == [
        (("稳定脱贫人口", "普通参保居民"), Decimal("5000"), "达到", "芜医保〔2021〕76号 二(二)5")]
    assert names(risk) == ["张三", "王五"]  # 李四 and 赵六 are 低保对象 at the end of June: no 芜湖 rule covers them
    zhang = risk.entries[0]
    assert (zhang.township, zhang.village, zhang.head_name, zhang.relation_to_head) == ("籍山镇", "茶丰村委会", "张三", "户主")
    assert zhang.applied_category == "普通参保居民" and zhang.categories == ()
    assert zhang.visits == 4
    assert zhang.total_cost == Decimal("14400.00")       # 8000 + 900 + 2500 + 3000
    assert zhang.policy_covered == Decimal("12400.00")   # 7000 + 900 + 2000 + 2500
    assert zhang.basic_paid == Decimal("6500.00")        # 4000 + 0 + 1000 + 1500
    assert zhang.serious_illness_paid == zhang.assistance_paid == zhang.tilt_assistance_paid == Decimal("0")
    assert zhang.personal_pay == Decimal("7900.00")      # 14400 − 6500, 目录外 and 普通门诊 included
    # The measured figure leaves out the 普通门诊 visit: 3000 + 1000 + 1000 = 5000, which 达到 5000.
    assert (zhang.check.amount, zhang.check.threshold, zhang.check.comparison) == (Decimal("5000.00"), 5000, "达到")
    assert zhang.check.kinds == ("住院", "门诊慢特病") and zhang.check.reference == "芜医保〔2021〕76号 二(二)5"
    assert zhang.first_month == 6
    wang = risk.entries[1]
    assert (wang.township, wang.check.amount, wang.first_month) == ("弋江镇", Decimal("8000.00"), 1)  # 18000 − 10000


def test_the_list_agrees_with_the_stored_annual_warning(session, wuhu):
    stored = json.loads(session.conn.execute("SELECT warnings FROM annual_settlements WHERE person_id = ? AND year = 2025",
                                             (wuhu["zhang"],)).fetchone()[0])
    assert [w["code"] for w in stored] == ["return_to_poverty_risk"]
    assert "个人自付合规医疗费用 5000.00 元，达到 5000.00 元（芜医保〔2021〕76号 二(二)5）" in stored[0]["message"]


def test_months_before_reaching_and_leaving_the_rule(session, wuhu):
    march = monitoring.risk_list(session, 2025, 3, today=TODAY)
    assert names(march) == ["赵六", "王五"]                  # 赵六: 10000 − 4000 = 6000 while 稳定脱贫人口
    zhao = march.entries[0]
    assert (zhao.applied_category, zhao.check.amount, zhao.first_month) == ("稳定脱贫人口", Decimal("6000.00"), 3)
    # At the end of May 赵六 holds 低保对象, but his year (as its annual settlement says) is still settled under the
    # category of his last bill, 稳定脱贫人口: he stays on the list, and the sheet shows both.
    may = monitoring.risk_list(session, 2025, 5, today=TODAY)
    assert names(may) == ["赵六", "王五"]                    # 张三 has 3000 + 1000 = 4000 at the end of May
    assert (may.entries[0].categories, may.entries[0].applied_category) == (("低保对象",), "稳定脱贫人口")
    # His June bill is settled under 低保对象, which 芜湖 does not monitor: he leaves the list.
    assert names(monitoring.risk_list(session, 2025, 12, today=TODAY)) == ["张三", "王五"]


def test_jurisdiction(session, wuhu):
    jishan = users.create_user(session, "xiang", "乡镇经办", "乡镇经办", "340223100", "correct-horse")
    assert names(monitoring.risk_list(Session(session.store, jishan), 2025, 6, today=TODAY)) == ["张三"]
    village = users.create_user(session, "cun", "村级经办", "村级经办", "340223102201", "correct-horse")
    risk = monitoring.risk_list(Session(session.store, village), 2025, 6, today=TODAY)
    assert names(risk) == ["王五"] and risk.place == "南陵县弋江镇燕山村委会"


def test_refusals(session, wuhu):
    with pytest.raises(FieldError, match="还没有到") as info:
        monitoring.risk_list(session, 2026, 2, today=TODAY)
    assert info.value.field == "month"
    with pytest.raises(FieldError, match="早于本县政策.*2022-01-01"):
        monitoring.risk_list(session, 2021, 12, today=TODAY)
    with pytest.raises(FieldError, match="月份：“2025-13”无法识别"):
        monitoring.parse_month("2025-13")
    assert [monitoring.parse_month(t) for t in ("2025-06", "2025-6", "202506", "2025年6月")] == [(2025, 6)] * 4


def test_a_policy_without_a_threshold_is_refused_not_guessed(session):
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {})
    with pytest.raises(FieldError) as info:
        monitoring.risk_list(session, 2025, 6, today=TODAY)
    assert info.value.field == "policy"
    assert "黔南医保发〔2021〕26号" in info.value.reason and "没有规定因病返贫致贫风险监测预警标准" in info.value.reason
    assert "行业部门预警标准" in info.value.reason  # the policy file's own explanation, quoted


def test_hunan_thresholds_by_category_and_strictly_over(session, family):
    county.configure_county(session, "340223", "南陵县", "hunan-2022", HUNAN_LOCAL)
    _, zhang, li = family
    registry.set_category(session, li, "特困人员", "2020-01-01", None, "民政")
    # 李四, 特困人员 (一类): 住院救助 起付线 0, 90% of the 政策范围内 self-pay (10万 以内), 湘医保通知 四(一):
    # 30000 − 18000 = 12000 × 90% = 10800; 自负 = 40000 − 18000 − 10800 = 11200 > 7000.
    record(session, li, "L1", "2025-04-08", "住院", "40000", "30000", "18000")
    # 张三, 普通参保居民, no 医疗救助: 自负 = 30000 − 10000 = 20000, not 超过 20000 in June ...
    record(session, zhang, "Z1", "2025-06-01", "住院", "30000", "20000", "10000")
    # ... until a 普通门诊 (counted in 湖南) of 100 − 70 = 30 makes 20030 in July.
    record(session, zhang, "Z2", "2025-07-03", "普通门诊", "100", "100", "70")
    june = monitoring.risk_list(session, 2025, 6, today=TODAY)
    assert [(r.threshold, r.comparison) for r in june.rules] == [(Decimal("7000"), "超过"), (Decimal("20000"), "超过")]
    assert names(june) == ["李四"]
    li_row = june.entries[0]
    assert (li_row.assistance_paid, li_row.personal_pay, li_row.check.amount, li_row.check.threshold) == (
        Decimal("10800.00"), Decimal("11200.00"), Decimal("11200.00"), Decimal("7000"))
    assert li_row.check.reference == "湘医保通知(2022-06-20) 五(一)" and li_row.first_month == 4
    july = monitoring.risk_list(session, 2025, 7, today=TODAY)
    assert names(july) == ["张三", "李四"]
    zhang_row = july.entries[0]
    assert (zhang_row.check.amount, zhang_row.check.threshold, zhang_row.first_month) == (
        Decimal("20030.00"), Decimal("20000"), 7)


def test_excel_read_back(session, wuhu, tmp_path):
    risk = monitoring.risk_list(session, 2025, 6, today=TODAY)
    path = monitoring_xlsx.export_risk_list(risk, tmp_path / "预警.xlsx")
    ws = load_workbook(path).active
    assert ws.title == "监测预警名单"
    assert ws["A1"].value == "南陵县2025年6月因病返贫致贫风险监测预警名单"
    lines = [ws.cell(r, 1).value for r in range(2, 6)]
    assert lines[0].startswith("政策：芜医保〔2021〕76号《")
    assert lines[1] == ("预警标准：稳定脱贫人口、普通参保居民：本年度个人自付合规医疗费用（住院、门诊慢特病）达到 5000.00 元"
                        "（芜医保〔2021〕76号 二(二)5）")
    assert "2025年1月1日至2025年6月30日" in lines[2] and "共 2 人" in lines[2]
    assert "民政" in lines[3] and "乡村振兴" in lines[3]
    headers = [c.value for c in ws[6]]
    assert ws.freeze_panes == "E7"  # the header and 序号 … 姓名 stay in view
    row = {h: c for h, c in zip(headers, ws[7])}
    assert row["姓名"].value == "张三" and row["公民身份号码"].value == "11010519491231002X"
    for header, expected in (("医疗费用总额", "14400"), ("基本医保统筹支付", "6500"), ("个人自付（含目录外）", "7900"),
                             ("预警口径金额", "5000"), ("预警标准", "5000")):
        assert Decimal(str(row[header].value)) == Decimal(expected) and row[header].number_format == "#,##0.00", header
    assert row["依据"].value == "芜医保〔2021〕76号 二(二)5" and row["首次达到月份"].value == "6月"
    assert "依申请救助" not in headers  # nobody had one
    assert ws.max_row == 8


def test_empty_month_still_writes_a_list_that_says_so(session, wuhu, tmp_path):
    risk = monitoring.risk_list(session, 2024, 6, today=TODAY)
    ws = load_workbook(monitoring_xlsx.export_risk_list(risk, tmp_path / "空.xlsx")).active
    assert risk.entries == () and ws.cell(ws.max_row, 1).value == "2024年6月末没有达到预警标准的人员"


def test_cli(session, wuhu, tmp_path, capsys):
    db = str(session.store.path)
    out = tmp_path / "预警.xlsx"
    assert main(["monitoring-list", "--month", "2025-06", str(out), "--db", db]) == 0
    assert "2025年6月因病返贫致贫风险监测预警名单：2 人" in capsys.readouterr().out
    assert load_workbook(out).active.cell(7, 4).value == "张三"
    assert main(["monitoring-list", "--month", "六月", str(out), "--db", db]) == 2
    assert capsys.readouterr().err.startswith("月份：“六月”无法识别")
    assert main(["monitoring-list", "--month", "2025-06", str(tmp_path / "x.csv"), "--db", db]) == 2
    assert ".xlsx" in capsys.readouterr().err
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {})
    assert main(["monitoring-list", "--month", "2025-06", str(tmp_path / "q.xlsx"), "--db", db]) == 2
    assert "没有规定因病返贫致贫风险监测预警标准" in capsys.readouterr().err
    assert not (tmp_path / "q.xlsx").exists()
