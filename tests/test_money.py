"""Money parsing and half-up rounding to the fen."""

from decimal import Decimal

import pytest

from app.domain.money import MoneyError, fmt, parse_money, pct, round_fen


@pytest.mark.parametrize("raw,expected", [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"),
                                          ("-0.005", "-0.01"), ("12345.675", "12345.68")])
def test_round_half_up(raw, expected):
    assert round_fen(Decimal(raw)) == Decimal(expected)


@pytest.mark.parametrize("raw,expected", [("1", "1.00"), ("1.5", "1.50"), (" 60000.00 ", "60000.00"),
                                          (60000, "60000.00"), (0.1, "0.10"), ("1e3", "1000.00"),
                                          # as slips and spreadsheets write them
                                          ("12,000.50", "12000.50"), ("1200元", "1200.00"), ("¥1,234,567", "1234567.00")])
def test_parse_money(raw, expected):
    assert parse_money(raw, "x") == Decimal(expected)


@pytest.mark.parametrize("raw", ["-0", "-0.00", -0.0])
def test_minus_zero_is_zero(raw):
    assert str(parse_money(raw, "x")) == "0.00"


@pytest.mark.parametrize("raw", ["1.001", "-1", "-0.01", "abc", "", None, True, "NaN", "Infinity", [1], "1,20", "12,0000"])
def test_parse_money_refuses(raw):
    with pytest.raises(MoneyError) as info:
        parse_money(raw, "visits[0].total_cost")
    assert info.value.field == "visits[0].total_cost"
    assert str(info.value).startswith("第1次就诊的医疗费用总额：") and "total_cost" not in str(info.value)


def test_format():
    assert fmt(Decimal("9000")) == "9000.00"
    assert pct(Decimal("0.75")) == "75%"
    assert pct(Decimal("0.655")) == "65.5%"


def test_shown_with_thousands_separators():
    from app.domain.money import shown

    assert shown(Decimal("1234567.5")) == "1,234,567.50" and shown("12") == "12.00"


@pytest.mark.parametrize("text", ["2025-03-20", "2025/3/20", "2025.03.20", "20250320", "2025年3月20日", " 2025-3-20 "])
def test_dates_as_people_write_them(text):
    from datetime import date

    from app.domain.dates import parse_day

    assert parse_day(text) == date(2025, 3, 20)


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "25-03-20", "三月二十日", ""])
def test_not_dates(text):
    from app.domain.dates import parse_day

    assert parse_day(text) is None


def test_an_empty_amount_asks_to_be_filled_in_rather_than_calling_nothing_no_amount():
    for raw in ("", "   "):
        with pytest.raises(MoneyError) as caught:
            parse_money(raw, "total_cost")
        assert "还没有填写" in str(caught.value) and "“”" not in str(caught.value)
