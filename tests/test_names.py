"""Names: the surnames whose own reading differs from pypinyin's everyday one."""

from __future__ import annotations

import pytest

from app.domain.names import SURNAME_INITIALS, initials


@pytest.mark.parametrize("surname", sorted(SURNAME_INITIALS))
def test_the_usual_initial_of_each_surname_is_what_pypinyin_stores(surname):
    """The table's first letter is what initials() stores for a name beginning with the surname; if pypinyin ever
    reads the surname as a surname, the table's entry is no longer needed and this says so."""
    usual, own = SURNAME_INITIALS[surname]
    assert initials(surname + "小明")[0] == usual != own
