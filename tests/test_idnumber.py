"""GB 11643 check digit, birth date and sex."""

from datetime import date

import pytest

from app.domain.idnumber import IdNumberError, check_digit, parse_id_number


def test_known_valid_number():
    # 11010519491231002X is the standard's own example.
    n = parse_id_number("11010519491231002X")
    assert n.birth_date == date(1949, 12, 31) and n.sex == "女"


def test_full_width_and_spaces_are_normalised():
    n = parse_id_number(" １１０１０５１９４９１２３１００２ｘ ")
    assert n.value == "11010519491231002X"


@pytest.mark.parametrize("raw,fragment", [
    ("110105194912310021", "校验位"),
    ("110105194913310021", "出生日期"),
    ("1101051949123100", "18 位"),
    ("11010519491231002Y", "18 位"),
    ("1101051949123١002X", "18 位"),  # an Arabic-Indic digit (found by tests/faults fuzzing): \d matched it
])
def test_refusals_name_the_field(raw, fragment):
    with pytest.raises(IdNumberError) as info:
        parse_id_number(raw, "person.id_number")
    assert info.value.field == "person.id_number" and fragment in info.value.message
    assert str(info.value).startswith("人员的证件号码：") and "id_number" not in str(info.value)


def test_check_digit_table():
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"
