"""A year read by person range in two worker processes (as a big county file is) gives what one process reading it
whole gives: the same columns, the same simulation, the same people to re-settle; a transaction keeps it here."""

from __future__ import annotations

import numpy as np
import pytest

from app.services import county, simulation
from app.services.resettle import changed_people
from app.services.session import SYSTEM, Session
from app.services.simulation_settle import read_and_settle
from app.services.year_columns import concat, person_ranges, read_piece, read_ranges, read_year, workers
from app.store import check_parts
from app.store.db import transaction

from .conftest import copied_county, demo_county

YEAR = 2025


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    return demo_county(tmp_path_factory.mktemp("workers") / "county.sqlite3", 80, YEAR, seed=23, mean_visits=4.0)


@pytest.fixture
def session(county_db, tmp_path):
    session = copied_county(county_db, tmp_path, user=None)
    yield session
    session.store.close()


@pytest.fixture
def two_workers(monkeypatch):
    """The file counts as big: two worker processes read it."""
    monkeypatch.setattr(check_parts, "workers_for", lambda path: 2)


def _same(a, b) -> None:
    assert a.person_ids == b.person_ids and a.regions == b.regions and a.insurance == b.insurance
    assert a.categories == b.categories and a.changing == b.changing
    for name in ("case", "date", "kind", "total_cost", "policy_covered", "basic_paid", "serious_illness_paid",
                 "referred", "in_province", "major_disease", "hospital_level", "later"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.stored.amounts, b.stored.amounts) and np.array_equal(a.stored.category,
                                                                                 b.stored.category)
    assert np.array_equal(a.stored.current, b.stored.current) and a.stored.stale == b.stored.stale


def test_ranges_read_in_workers_are_the_year_read_whole(session, two_workers):
    stored = (["低保对象", "特困人员", "普通参保人员"], "x 1")
    whole = read_year(session.conn, "", YEAR, stored=stored)
    ranges = person_ranges(session.conn, 5)
    assert len(ranges) == 5 and ranges[0][0] == "" and all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))
    assert workers(session.conn, session.store.path) == 2
    parts = list(read_ranges(session.conn, session.store.path, [("", YEAR, None, a, b, stored) for a, b in ranges]))
    assert all(p.people for p in parts) and sum(p.people for p in parts) == whole.people
    _same(concat(parts), whole)


def test_a_transaction_keeps_the_reading_in_this_process(session, two_workers):
    # A worker would not see what the transaction wrote and has not committed.
    with transaction(session.conn):
        assert workers(session.conn, session.store.path) == 1
        [part] = read_ranges(session.conn, session.store.path, [("", YEAR, None, "", "\U0010ffff", None)])
        assert part.people > 50


def test_simulation_and_resettlement_in_workers_agree_with_one_process(session, monkeypatch):
    proposals = simulation.proposals_from(["serious_illness_rate=50%/70%"], None)
    here = simulation.run(session, YEAR, proposals)
    differ_here = {p for _, people in changed_people(Session(session.store, SYSTEM), YEAR, chunk=30) for p in people}
    monkeypatch.setattr(check_parts, "workers_for", lambda path: 2)
    session._cache.clear()
    there = simulation.run(session, YEAR, proposals)
    assert there.tables == here.tables and (there.people, there.visits) == (here.people, here.visits)
    c = session.store.setting("county")
    county.configure_county(session, c["code"], c["name"], session.store.setting("policy_id"),
                            {**session.store.setting("local"), "serious_illness_deductible": "9000"})
    changed = Session(session.store, SYSTEM)
    differ = {p for _, people in changed_people(changed, YEAR, chunk=30) for p in people}
    monkeypatch.setattr(check_parts, "workers_for", lambda path: 1)
    assert differ == {p for _, people in changed_people(changed, YEAR, chunk=30) for p in people} != set()
    assert differ_here == set()


def test_a_piece_read_and_settled_here_is_the_same_as_in_a_worker(session, two_workers):
    from app.services.county import engine

    piece = ("", YEAR, None, "", "\U0010ffff", None, [engine(session)], False)
    [(there, (settled_there,))] = list(read_ranges(session.conn, session.store.path, [piece], read_and_settle))
    here, (settled_here,) = read_and_settle(session.conn, piece)
    assert there.person_ids == here.person_ids and np.array_equal(settled_there.tiers, settled_here.tiers)
    assert read_piece(session.conn, piece[:6]).visits == here.visits


def _reference(conn) -> tuple[list[str], list[tuple[int, int, int, str]]]:
    """The year's live visits in settling order as a plain query gives them, one row per visit: each person's ids in
    order, and (discharge day, total cost in fen, policy-covered in fen, visit id)."""
    rows = conn.execute(
        "SELECT person_id, id, discharged_on, total_cost, policy_covered FROM visits WHERE status = 'live' AND "
        "discharged_on BETWEEN ? AND ? ORDER BY person_id, discharged_on, created_at",
        (f"{YEAR}-01-01", f"{YEAR}-12-31")).fetchall()
    people = sorted({r[0] for r in rows})
    return people, [(int(r[2].replace("-", "")), int(r[3].replace(".", "")), int(r[4].replace(".", "")), r[1])
                    for r in rows]


def test_same_day_bills_come_in_the_order_they_were_entered_whatever_order_the_file_holds(session):
    # Two bills of one person on one day, the later-inserted row entered first (as a synced record can be): the
    # reader must follow created_at, not the order SQLite meets the rows in.
    conn = session.conn
    pid, first, second = conn.execute(
        "SELECT person_id, min(id), max(id) FROM visits WHERE status = 'live' AND discharged_on LIKE ? "
        "GROUP BY person_id HAVING count(*) >= 2 LIMIT 1", (f"{YEAR}-%",)).fetchone()
    day = conn.execute("SELECT discharged_on FROM visits WHERE id = ?", (first,)).fetchone()[0]
    low, high = sorted([first, second], key=lambda i: conn.execute("SELECT rowid FROM visits WHERE id = ?",
                                                                     (i,)).fetchone()[0])
    # Straight to the file: a test's own arrangement of rows, not a change the program could make.
    conn.execute("UPDATE visits SET discharged_on = ?, total_cost = '123.45', created_at = '2030-01-01T00:00:00Z' "
                 "WHERE id = ?", (day, low))
    conn.execute("UPDATE visits SET discharged_on = ?, total_cost = '678.90', created_at = '2000-01-01T00:00:00Z' "
                 "WHERE id = ?", (day, high))
    people, visits = _reference(conn)
    data = read_year(conn, "", YEAR)
    assert data.person_ids == people
    assert data.date.astype("datetime64[D]").astype(str).tolist() == [
        f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d, *_ in visits]
    assert data.total_cost.tolist() == [t for _, t, _, _ in visits]
    assert data.policy_covered.tolist() == [c for _, _, c, _ in visits]
    n = people.index(pid)
    mine = data.total_cost[data.case == n].tolist()
    assert mine.index(67890) < mine.index(12345)
