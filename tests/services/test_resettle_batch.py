"""Re-settling a county year with the batch path: it agrees with what the per-visit engine stored for the whole demo
county, changes exactly the people the per-visit path would, writes through the audited path, and a cancel leaves
every person whole."""

from __future__ import annotations

import pytest

from app.policy.batch import LATER_FLAGS
from app.services import bills, county
from app.services.resettle import changed_people, people_of_year
from app.services.session import SYSTEM, Session
from app.store.db import transaction
from app.store.seal_check import broken_seals

from .conftest import copied_county, demo_county

YEAR = 2025


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    return demo_county(tmp_path_factory.mktemp("resettle") / "county.sqlite3", 120, YEAR, seed=16, mean_visits=4.0)


@pytest.fixture
def session(county_db, tmp_path):
    session = copied_county(county_db, tmp_path, user=None)
    yield session
    session.store.close()


def _differ(session) -> set[str]:
    return {p for _, people in changed_people(session, YEAR, chunk=50) for p in people}


def _mixed(session) -> set[str]:
    """People whose categories change within the year."""
    from app.services.year_columns import read_year

    year = read_year(session.conn, "", YEAR)
    return {year.person_ids[n] for n in year.changing}


def _per_visit_would_change(session) -> set[str]:
    """Whom the per-visit path changes, every person re-settled in a transaction that is rolled back."""
    changed = set()

    class Undo(Exception):
        pass

    try:
        with transaction(session.conn):
            for person in people_of_year(session, YEAR):
                if bills.store_year(session, person, YEAR).settlements:
                    changed.add(person)
            raise Undo
    except Undo:
        pass
    return changed


def _change_local(session, key: str, value: str) -> Session:
    c = session.store.setting("county")
    county.configure_county(session, c["code"], c["name"], session.store.setting("policy_id"),
                            {**session.store.setting("local"), key: value})
    return Session(session.store, SYSTEM)  # a new session: a new engine with the new value


def test_the_batch_agrees_with_every_stored_settlement_of_the_demo_county(session):
    # The demo wrote every bill's settlement with the per-visit engine; the columns find nothing to change, the
    # years whose categories change within them (settled visit by visit) included.
    assert len(people_of_year(session, YEAR)) > 100
    assert _mixed(session)
    assert _differ(session) == set()


def test_a_changed_local_value_changes_exactly_whom_the_per_visit_path_would(session):
    session = _change_local(session, "serious_illness_deductible", "9000")
    differ = _differ(session)
    would = _per_visit_would_change(session)
    assert differ == would and differ & _mixed(session)

    before = session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    last = list(bills.resettle_year(session, YEAR))[-1]
    assert last.done == last.total == len(people_of_year(session, YEAR)) and last.changed > 0
    assert session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] > before
    assert _differ(session) == set()
    assert list(bills.resettle_year(session, YEAR))[-1].changed == 0
    assert broken_seals(session.conn) == []


def test_cancel_leaves_every_person_whole_and_running_again_finishes(session):
    session = _change_local(session, "serious_illness_rate", "70%")
    todo = _differ(session)
    assert len(todo) > 3
    steps = bills.resettle_year(session, YEAR)
    for progress in steps:
        if progress.changed >= 3:
            break
    # Meanwhile the job's commits are flushed together at its end; a bill saved after it is flushed on its own again.
    assert session.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    steps.close()  # the caseworker pressed 取消
    assert session.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    left = _differ(session)
    assert 0 < len(left) < len(todo)
    # Whoever was reached is fully re-settled (nothing of theirs differs); whoever was not is untouched.
    assert left <= todo
    list(bills.resettle_year(session, YEAR))
    assert _differ(session) == set()
    assert broken_seals(session.conn) == []


def test_visit_scope_read_from_the_visits_table(session):
    """The bills' 急诊/参保地/备案 columns reach the batch (芜湖's 就医范围): bills marked as taken outside the insured
    area without referral change exactly the people the per-visit path would re-settle."""
    from app.services.year_columns import read_year

    rows = session.conn.execute(
        "SELECT v.id FROM visits v JOIN settlements s ON s.visit_id = v.id WHERE v.status = 'live' AND v.referred = 0 "
        "AND CAST(s.assistance_paid AS REAL) > 0 AND v.discharged_on BETWEEN ? AND ? ORDER BY v.id LIMIT 40",
        (f"{YEAR}-01-01", f"{YEAR}-12-31")).fetchall()
    ids = [r[0] for r in rows]
    marks = "(" + ",".join("?" * len(ids)) + ")"
    # Straight into the table, as a bill entered with these fields would stand (the seals are not this test's matter).
    session.conn.execute(f"UPDATE visits SET in_insured_area = 0 WHERE id IN {marks}", ids)
    session.conn.execute("UPDATE visits SET emergency = 1, filed_remote = 1 WHERE id = ?", (ids[0],))
    year = read_year(session.conn, "", YEAR)
    flags = dict(zip(LATER_FLAGS, year.later))
    assert flags["in_insured_area"].sum() == year.visits - len(ids)
    assert flags["emergency"].sum() == flags["filed_remote"].sum() == 1
    assert not flags["in_insured_area"][flags["emergency"]].any()
    differ = _differ(session)
    would = _per_visit_would_change(session)
    assert len(would) > 5 and would == differ
