"""The monitoring list read from stored settlements equals the list the engine makes by settling every year again.

The oracle is the list as it was made before (monitoring._entry for every candidate: the engine settles the year up
to the month's end, and again for each earlier month until the first that met the test), on demo counties: every
month of the year, under 芜湖's 合规自付 ≥ rule and 湖南's 全部自付 > rules, after voided bills, categories certified
mid-year and a second category (就高不就低), where the stored path hands those years back to the engine.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from app.services import bill_changes, bills, county, monitoring, monitoring_store, registry

from .conftest import copied_county, demo_county

YEAR = 2025
TODAY = date(2026, 1, 15)
HUNAN_LOCAL = {"per_capita_disposable_income": "31000", "outpatient_assistance_limit": "8000",
               "serious_deductible_share": "50%", "assistance_deductible_share": "5%"}


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    return demo_county(tmp_path_factory.mktemp("county") / "county.sqlite3", 80, YEAR, seed=11)


@pytest.fixture
def session(county_db, tmp_path):
    session = copied_county(county_db, tmp_path, user=None)
    yield session
    session.store.close()


def _both(session, month, monkeypatch):
    """The month's list from the stored settlements and from the engine alone, and how many years each path made."""
    read = {}

    def counted(*args):
        found = monitoring_store.stored_years(*args)
        read["stored"], read["people"] = len(found), len(args[-1])
        return found

    monkeypatch.setattr(monitoring, "summary_years", monitoring.old_answer)  # visit by visit, not the summary
    monkeypatch.setattr(monitoring, "stored_years", counted)
    new = monitoring.risk_list(session, YEAR, month, today=TODAY)
    monkeypatch.setattr(monitoring, "stored_years", lambda *args: {})
    old = monitoring.risk_list(session, YEAR, month, today=TODAY)
    return (dataclasses.replace(new, generated_at=None), dataclasses.replace(old, generated_at=None),
            read["stored"], read["people"] - read["stored"])


def _every_month_equal(session, monkeypatch) -> tuple[set[int], int, int, int]:
    firsts, listed, stored, engine = set(), 0, 0, 0
    for month in range(1, 13):
        new, old, from_store, from_engine = _both(session, month, monkeypatch)
        assert new == old, f"{YEAR}-{month:02d}"
        firsts |= {e.first_month for e in new.entries}
        listed += len(new.entries)
        stored += from_store
        engine += from_engine
    return firsts, listed, stored, engine


def test_demo_county_every_month(session, monkeypatch):
    firsts, listed, stored, engine = _every_month_equal(session, monkeypatch)
    assert len(firsts) >= 6 and listed > 100          # people reach the threshold in many different months
    assert stored > 10 * engine > 0                   # most years read from storage, some (categories mid-year) not


def _with_bills(session, n: int) -> list[str]:
    """People without categories, with most costs first (they reach the thresholds)."""
    return [r[0] for r in session.conn.execute(
        "SELECT person_id FROM visits WHERE status = 'live' AND person_id NOT IN (SELECT person_id FROM category_periods) "
        "GROUP BY person_id HAVING count(*) >= 3 "
        "ORDER BY sum(CAST(total_cost AS REAL)) DESC LIMIT ?", (n,))]


def _changed(session) -> None:
    """Voided bills, a category certified mid-year, a second category for the whole year, a category ended."""
    people = _with_bills(session, 12)
    for person_id in people[:4]:
        visit = session.conn.execute("SELECT id FROM visits WHERE person_id = ? AND status = 'live' "
                                     "ORDER BY discharged_on LIMIT 1 OFFSET 1", (person_id,)).fetchone()[0]
        bill_changes.void_bill(session, visit, "重复录入")
    for person_id, (category, start, end) in zip(people[4:], [
            ("低保对象", "2025-06-01", None), ("特困人员", "2025-03-15", None), ("稳定脱贫人口", "2025-09-01", None),
            ("低保对象", "2024-01-01", "2025-05-31"), ("稳定脱贫人口", "2024-01-01", None),
            ("低保对象", "2024-01-01", None)]):
        registry.set_category(session, person_id, category, start, end, "民政")
    both = people[10]                                  # two categories the whole year: 就高不就低 picks one
    registry.set_category(session, both, "稳定脱贫人口", "2024-01-01", None, "乡村振兴")
    registry.set_category(session, both, "低保对象", "2024-01-01", None, "民政")


def test_after_voids_and_category_changes(session, monkeypatch):
    _changed(session)
    firsts, listed, stored, engine = _every_month_equal(session, monkeypatch)
    assert len(firsts) >= 6 and listed > 100 and stored > engine > 0


def test_hunan_rules_after_the_year_is_settled_again(session, monkeypatch):
    _changed(session)
    county.configure_county(session, "340223", "南陵县（演示）", "hunan-2022", HUNAN_LOCAL)
    session._cache.clear()
    for _ in bills.resettle_year(session, YEAR):
        pass
    firsts, listed, stored, engine = _every_month_equal(session, monkeypatch)
    assert len(firsts) >= 4 and listed > 20 and stored > engine > 0


def test_a_year_settled_under_another_policy_goes_back_to_the_engine(session, monkeypatch):
    county.configure_county(session, "340223", "南陵县（演示）", "hunan-2022", HUNAN_LOCAL)
    session._cache.clear()
    new, old, stored, engine = _both(session, 12, monkeypatch)
    assert new == old and stored == 0 and engine > 0  # nothing re-settled yet: every year from the engine
