"""A monitoring list entry holds amounts in whole fen and shows them as the Decimal yuan the engine gave."""

from __future__ import annotations

import pickle
from decimal import Decimal

from app.policy.result import RiskCheck
from app.services.monitoring_entry import RiskEntry, fen, rule_of, yuan


def _entry(**changed) -> tuple[RiskEntry, RiskCheck]:
    check = RiskCheck("合规自付", "个人自付合规医疗费用", ("住院",), Decimal("5000.01"), Decimal("5000"), "达到",
                      "芜医保〔2021〕76号 二(二)5", True)
    values = dict(person_id="p1", name="张三", id_number="340223199001011234", head_name="张三", relation_to_head="户主",
                  address="籍山镇春谷村1号", region_code="340223100001", categories=("稳定脱贫人口",),
                  applied_category="稳定脱贫人口", visits=2, total_cost_fen=1234567, policy_covered_fen=1000000,
                  basic_paid_fen=400000, serious_illness_paid_fen=0, assistance_paid_fen=100000,
                  tilt_assistance_paid_fen=5, application_assistance_paid_fen=0, re_assistance_paid_fen=0,
                  personal_pay_fen=734562, measured_fen=fen(check.amount), rule=rule_of(check), first_month=3)
    return RiskEntry(**{**values, **changed}), check


def test_amounts_read_as_the_engines_decimals():
    entry, check = _entry()
    assert (entry.total_cost, entry.tilt_assistance_paid, entry.personal_pay) == (
        Decimal("12345.67"), Decimal("0.05"), Decimal("7345.62"))
    assert str(entry.total_cost) == "12345.67" and entry.check == check
    assert (entry.township, entry.village) != ("", "")


def test_fen_is_exact_and_keeps_an_amount_with_more_places():
    assert fen(Decimal("12.30")) == 1230 and fen(Decimal("-0.01")) == -1 and fen(Decimal("5000")) == 500000
    assert fen(Decimal("0.005")) == Decimal("0.005") and yuan(fen(Decimal("0.005"))) == Decimal("0.005")


def test_an_entry_travels_between_processes_whole():
    entry, _ = _entry()
    assert pickle.loads(pickle.dumps(entry)) == entry


def test_the_lists_order_puts_the_head_first():
    head, _ = _entry(name="王五", person_id="p2")
    child, _ = _entry(name="王一", relation_to_head="子", id_number="340223201001011234")
    assert sorted([child, head], key=RiskEntry.key) == [head, child]
