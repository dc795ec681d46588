"""The monitoring list from the per-person-month summary equals the list read visit by visit (and by the engine).

The oracle is the list as made before the summary (monitoring.old_answer: every candidate's visits read with their
settlements, years they cannot answer settled again by the engine), on a demo county: every month, after voided and
corrected bills, categories certified mid-year, a second category, and after the year is re-settled under 湖南's
rules. The summary kept by the triggers also equals one made afresh from the records (what migration 16 fills).
"""

from __future__ import annotations

import dataclasses
from datetime import date

from app.services import bill_changes, bills, county, monitoring
from app.store import risk_summary

# The same demo county and a fresh copy of it per test, as the list read visit by visit is tested on.
from .test_monitoring_store import HUNAN_LOCAL, TODAY, YEAR, _changed, _with_bills, county_db, session  # noqa: F401


def _same_every_month(session, monkeypatch) -> tuple[int, int]:
    """Both lists of every month are equal; how many entries the summary listed itself and in all."""
    from_summary = listed = 0
    for month in range(1, 13):
        answer = monitoring.summary_years(session, YEAR, month, monitoring.month_end(YEAR, month),
                                          min((r.threshold for r in monitoring.risk_rules(
                                              session, monitoring.month_end(YEAR, month))), default=None))
        new = monitoring.risk_list(session, YEAR, month, today=TODAY)
        with monkeypatch.context() as m:
            m.setattr(monitoring, "summary_years", monitoring.old_answer)
            old = monitoring.risk_list(session, YEAR, month, today=TODAY)
        assert dataclasses.replace(new, generated_at=None) == dataclasses.replace(old, generated_at=None), month
        from_summary += len(answer.listed)
        listed += len(new.entries)
    # Kept by the triggers exactly as a rebuild from the records makes it.
    assert risk_summary.drift(session.conn) == []
    return from_summary, listed


def test_demo_county_every_month(session, monkeypatch):
    from_summary, listed = _same_every_month(session, monkeypatch)
    assert listed > 100 and from_summary > 0.9 * listed


def _corrected(session) -> None:
    """A bill corrected to a larger amount and one moved to another month."""
    for n, person_id in enumerate(_with_bills(session, 14)[12:]):
        old = session.conn.execute("SELECT * FROM visits WHERE person_id = ? AND status = 'live' "
                                   "ORDER BY discharged_on LIMIT 1", (person_id,)).fetchone()
        day = old["discharged_on"] if n == 0 else f"{YEAR}-11-20"
        new = bills.BillInput(old["hospital"], old["admitted_on"] if n == 0 else f"{YEAR}-11-10", day, old["kind"],
                              "23456.78", "20000.00", old["invoice_number"], old["hospital_level"])
        bill_changes.correct_bill(session, old["id"], new, "金额录错", today=TODAY)


def test_after_voids_corrections_and_category_changes(session, monkeypatch):
    _changed(session)
    _corrected(session)
    from_summary, listed = _same_every_month(session, monkeypatch)
    assert listed > 100 and from_summary > 0.9 * listed


def test_after_the_year_is_settled_again_under_other_rules(session, monkeypatch):
    _changed(session)
    county.configure_county(session, "340223", "南陵县（演示）", "hunan-2022", HUNAN_LOCAL)
    session._cache.clear()
    assert monitoring.summary_years(session, YEAR, 12, date(YEAR, 12, 31), 1).listed == {}  # not yet re-settled
    for _ in bills.resettle_year(session, YEAR):
        pass
    from_summary, listed = _same_every_month(session, monkeypatch)
    assert listed > 20 and from_summary > 0.9 * listed


def test_a_changed_summary_row_is_named_by_check(session):
    session.conn.execute("UPDATE risk_months SET tc = tc + 1 WHERE rowid = (SELECT min(rowid) FROM risk_months)")
    assert "监测预警汇总" in risk_summary.drift(session.conn)[0]
    risk_summary.rebuild(session.conn)
    assert risk_summary.drift(session.conn) == []


def test_two_processes_make_the_same_list(session):
    """A county's list is made by two processes, each examining one range of ids: the same list as one makes."""
    _changed(session)
    for month in (4, 12):
        one = monitoring.risk_list(session, YEAR, month, today=TODAY, workers=1)
        two = monitoring.risk_list(session, YEAR, month, today=TODAY, workers=2)
        assert len(one.entries) > 40 and one.examined == two.examined
        assert dataclasses.replace(two, generated_at=None) == dataclasses.replace(one, generated_at=None), month


def test_running_sum_equals_the_test_day_by_day(session, monkeypatch):
    """Where every threshold holds all year, the first month met is a running sum over months listed without their
    days; the list equals the one made by the test day by day (thresholds resolved per day, months with their days)."""
    from app.services import monitoring_summary

    _changed(session)
    made = monitoring_summary._Test.__init__
    held: list[int] = []

    def spied(test, *args):
        made(test, *args)
        held.append(len(test.fixed))

    for month in (3, 7, 12):
        with monkeypatch.context() as m:
            m.setattr(monitoring_summary._Test, "__init__", spied)
            summed = monitoring.risk_list(session, YEAR, month, today=TODAY, workers=1)
        with monkeypatch.context() as m:
            m.setattr(monitoring_summary._Test, "__init__", lambda test, month, resolve, *rest: made(test, month, resolve))
            daily = monitoring.risk_list(session, YEAR, month, today=TODAY, workers=1)
        assert held[-1] > 0, "the running sum was not taken"
        assert dataclasses.replace(summed, generated_at=None) == dataclasses.replace(daily, generated_at=None), month
    assert any(e.first_month < 12 for e in summed.entries) and len(summed.entries) > 40


def test_the_summary_gives_its_entries_in_the_lists_order(session):
    """The summary's rows come sorted as the list is (SQLite's text order is Python's), so no share is sorted in
    Python before the last merge; a row out of order would only cost time, and this test names it."""
    from app.services.monitoring_entry import RiskEntry

    _changed(session)
    answer = monitoring.summary_years(session, YEAR, 12, date(YEAR, 12, 31), 1)
    entries = list(answer.listed.values())
    assert len(entries) > 40 and len({e.region_code for e in entries}) > 1
    assert entries == sorted(entries, key=RiskEntry.key)
