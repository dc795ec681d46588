"""One person on the 监测预警 list, held as plain values (amounts in whole fen) and read as the list shows them."""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from app.policy.result import RiskCheck
from app.services.places import township_and_village

def yuan(fen: int | Decimal) -> Decimal:
    """Whole fen as yuan (an amount the engine gave with more places than fen is kept as it came)."""
    return Decimal(fen).scaleb(-2) if type(fen) is int else fen


def fen(amount: Decimal) -> int | Decimal:
    """A Decimal amount in whole fen (exact: money is rounded to the fen; one that is not is kept as it is)."""
    scaled = amount.scaleb(2)
    return int(scaled) if scaled == scaled.to_integral_value() else amount


def _amount(field: str) -> property:
    read = attrgetter(field)
    return property(lambda entry: yuan(read(entry)), doc="yuan, from the entry's whole fen")


class RiskEntry(NamedTuple):
    """One person on the list: who, where, and the year's figures that triggered the warning.

    A county month holds ~300,000 of them, made by two processes and shipped from one to the other, so an entry is
    a tuple of plain values: amounts in whole fen and the engine's test as its parts. The figures the sheet shows
    (Decimal amounts, township and village, the RiskCheck) are properties, made only for the entries read."""

    person_id: str
    name: str
    id_number: str
    head_name: str
    relation_to_head: str
    address: str
    region_code: str
    categories: tuple[str, ...]      # held on the list's date
    applied_category: str            # the category the year is settled under (就高), which picks the rule
    visits: int
    total_cost_fen: int
    policy_covered_fen: int
    basic_paid_fen: int
    serious_illness_paid_fen: int
    assistance_paid_fen: int
    tilt_assistance_paid_fen: int
    application_assistance_paid_fen: int
    re_assistance_paid_fen: int
    personal_pay_fen: int            # everything still self-paid after every tier, 目录外 included
    measured_fen: int                # the figure the rule measures
    rule: tuple                      # the test: (measure, scope, kinds, comparison, threshold as text, clause)
    first_month: int

    total_cost = _amount("total_cost_fen")
    policy_covered = _amount("policy_covered_fen")
    basic_paid = _amount("basic_paid_fen")
    serious_illness_paid = _amount("serious_illness_paid_fen")
    assistance_paid = _amount("assistance_paid_fen")
    tilt_assistance_paid = _amount("tilt_assistance_paid_fen")
    application_assistance_paid = _amount("application_assistance_paid_fen")
    re_assistance_paid = _amount("re_assistance_paid_fen")
    personal_pay = _amount("personal_pay_fen")

    @property
    def township(self) -> str:
        return township_and_village(self.region_code)[0]

    @property
    def village(self) -> str:
        return township_and_village(self.region_code)[1]

    @property
    def check(self) -> RiskCheck:
        """The engine's test of the year (met, or the person would not be on the list)."""
        measure, scope, kinds, comparison, threshold, reference = self.rule
        return RiskCheck(measure, scope, kinds, yuan(self.measured_fen), Decimal(threshold), comparison, reference,
                         True)

    def key(self) -> tuple:
        """The list's order: by village, household, the head first, then name."""
        return self[6], self[5], self[4] != "户主", self[1], self[2]


def rule_of(check: RiskCheck) -> tuple:
    """The parts of the engine's test an entry keeps (all but the amount, which it keeps in fen)."""
    return check.measure, check.scope, tuple(check.kinds), check.comparison, str(check.threshold), check.reference
