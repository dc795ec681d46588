"""A record received from another site is changed where it was made: edited here, the change would never reach the
county (only a record's own site sends it) and the next copy from its site would undo it. Each edit is refused whole,
saying where to make it; records this site made beside it (a new period, a new member, a new year's insurance) are
still made here."""

from __future__ import annotations

import pytest

from app.domain.errors import FieldError
from app.services import bill_changes, bills, registry
from tests.services.conftest import valid_id

OTHER = "340223-site-b"


def _received(session, table: str, row_id: str) -> None:
    """Mark a row as a copy received from another site, as the exchange stores one (site_id names its owner)."""
    session.conn.execute(f"UPDATE {table} SET site_id = ? WHERE id = ?", (OTHER, row_id))


def _bill(clerk, person_id, invoice="F-1"):
    return bills.record_bill(clerk, person_id, bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "9000.00",
                                                               "8000.00", invoice, "县级", "4000.00", "0.00"))


def _refused(call, field: str) -> FieldError:
    with pytest.raises(FieldError) as info:
        call()
    assert info.value.field == field and OTHER in info.value.reason and "请在登记它的站点" in info.value.reason
    return info.value


def test_a_received_person_household_and_insurance_are_not_edited_here(session, family):
    hid, head, spouse = family
    registry.set_enrollment(session, spouse, 2025, "城乡居民医保")
    enrollment = session.conn.execute("SELECT id FROM enrollments WHERE person_id = ?", (spouse,)).fetchone()[0]
    for table, row_id in (("persons", spouse), ("households", hid), ("enrollments", enrollment)):
        _received(session, table, row_id)
    before = registry.person(session, spouse)
    _refused(lambda: registry.update_person(session, spouse, registry.PersonInput("李四改", before["id_number"], "配偶")),
             "person_id")
    _refused(lambda: registry.update_household(session, hid, "新地址 9 号"), "household_id")
    _refused(lambda: registry.set_enrollment(session, spouse, 2025, "职工医保"), "insurance")
    assert registry.person(session, spouse)["name"] == before["name"]
    assert registry.household(session, hid)["address"] != "新地址 9 号"
    # What this site makes itself is still made: its own records, which it sends.
    registry.set_enrollment(session, spouse, 2026, "城乡居民医保")
    registry.add_member(session, hid, registry.PersonInput("张小三", valid_id("34022320100101003"), "子"))


def test_a_received_category_period_is_not_changed_here(session, family):
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2025-01-01", None, "民政")
    period = session.conn.execute("SELECT id FROM category_periods WHERE person_id = ?", (head,)).fetchone()[0]
    _received(session, "category_periods", period)
    _refused(lambda: registry.update_category(session, period, "2025-01-01", "2025-06-30", "民政"), "period_id")
    assert session.conn.execute("SELECT valid_to FROM category_periods WHERE id = ?", (period,)).fetchone()[0] is None


def test_a_received_bill_is_neither_voided_nor_corrected_here(session, family, clerk):
    _, head, _ = family
    visit = _bill(clerk, head)["visit_id"]
    _received(session, "visits", visit)
    _refused(lambda: bill_changes.void_bill(clerk, visit, "重复录入"), "visit_id")
    new = bills.BillInput("南陵县医院", "2025-03-01", "2025-03-05", "住院", "900.00", "800.00", "F-1", "县级", "400.00", "0.00")
    _refused(lambda: bill_changes.correct_bill(clerk, visit, new, "金额录错"), "visit_id")
    assert session.conn.execute("SELECT status FROM visits WHERE id = ?", (visit,)).fetchone()[0] == "live"
    assert session.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
