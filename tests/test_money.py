"""Money parsing and half-up rounding to the fen."""

from decimal import Decimal

import pytest

from app.domain.money import MoneyError, fmt, parse_money, pct, round_fen


@pytest.mark.parametrize("raw,expected", [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"),
                                          ("-0.005", "-0.01"), ("12345.675", "12345.68")])
def test_round_half_up(raw, expected):
    assert round_fen(Decimal(raw)) == Decimal(expected)


@pytest.mark.parametrize("raw,expected", [("1", "1.00"), ("1.5", "1.50"), (" 60000.00 ", "60000.00"),
                                          (60000, "60000.00"), (0.1, "0.10"), ("1e3", "1000.00")])
def test_parse_money(raw, expected):
    assert parse_money(raw, "x") == Decimal(expected)


@pytest.mark.parametrize("raw", ["1.001", "-1", "abc", "", None, True, "NaN", "Infinity", [1]])
def test_parse_money_refuses(raw):
    with pytest.raises(MoneyError) as info:
        parse_money(raw, "visits[0].total_cost")
    assert info.value.field == "visits[0].total_cost"
    assert str(info.value).startswith("第1次就诊的医疗费用总额：") and "total_cost" not in str(info.value)


def test_format():
    assert fmt(Decimal("9000")) == "9000.00"
    assert pct(Decimal("0.75")) == "75%"
    assert pct(Decimal("0.655")) == "65.5%"
