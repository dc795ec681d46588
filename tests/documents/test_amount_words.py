"""大写 amounts, table-tested against the accounting rules."""

from decimal import Decimal

import pytest

from app.documents.amount_words import amount_in_words

TABLE = [
    ("0", "零元整"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("0.55", "伍角伍分"),
    ("1", "壹元整"),
    ("10.10", "壹拾元壹角整"),
    ("10.01", "壹拾元零壹分"),
    ("100", "壹佰元整"),
    ("105", "壹佰零伍元整"),
    ("1005.05", "壹仟零伍元零伍分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("9000", "玖仟元整"),
    ("12000.00", "壹万贰仟元整"),
    ("10050", "壹万零伍拾元整"),
    ("100000", "壹拾万元整"),
    ("1000000.00", "壹佰万元整"),
    ("1000001", "壹佰万零壹元整"),
    ("1010000", "壹佰零壹万元整"),
    ("20000000.30", "贰仟万元叁角整"),
    ("100000000", "壹亿元整"),
    ("100000001.01", "壹亿零壹元零壹分"),
    ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("2500", "贰仟伍佰元整"),
    ("0.005", "壹分"),
]


@pytest.mark.parametrize("amount,words", TABLE)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_negative_refused():
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1"))
