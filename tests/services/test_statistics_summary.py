"""Statistics from the summary rows equal statistics from joining every settled visit, through every kind of change.

The reference is the query statistics ran before the summary rows (commit 05d74a8): one pass over households,
persons, visits and settlements, aggregated three ways. Every figure (人数, 人次 and the seven Decimal sums, in
every breakdown and 合计) must be identical, for the county, a township and a village, for any months, and after
the changes the triggers must follow: a re-settled year, a deleted settlement, a visit's date and amount, a person
moving household, a household moving village.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.services import bills, statistics
from app.services.session import Session
from app.store import records, summary
from app.store.summary import fen as _fen  # the same text-to-fen reading as before the summary rows
from app.store.db import transaction
from app.store.store import open_store

from .conftest import copied_county, demo_county

YEAR = 2025


_SOURCES = ("v.total_cost", "v.policy_covered", "s.basic_paid", "s.serious_illness_paid", "s.assistance_paid",
            "s.tilt_assistance_paid", "s.personal_pay")
_SUMS = ", ".join(f"sum(a{i})" for i in range(len(_SOURCES)))
_OLD_QUERY = f"""
    WITH selected AS MATERIALIZED (
        SELECT p.rowid AS person, s.applied_category AS category, substr(h.region_code, 1, 9) AS township,
               CAST(substr(v.discharged_on, 6, 2) AS INTEGER) AS month,
               {', '.join(f'{_fen(c)} AS a{i}' for i, c in enumerate(_SOURCES))}
        FROM households h CROSS JOIN persons p ON p.household_id = h.id CROSS JOIN visits v ON v.person_id = p.id
        CROSS JOIN settlements s ON s.visit_id = v.id
        WHERE h.region_code >= :lo AND h.region_code < :hi AND v.discharged_on BETWEEN :first AND :last)
    SELECT 'category', category, count(DISTINCT person), count(*), {_SUMS} FROM selected GROUP BY category
    UNION ALL
    SELECT 'township', township, count(DISTINCT person), count(*), {_SUMS} FROM selected GROUP BY township
    UNION ALL
    SELECT 'month', month, count(DISTINCT person), count(*), {_SUMS} FROM selected GROUP BY month"""


def _joined(conn, params):
    counts = {k: {} for k in ("category", "township", "month")}
    amounts = {k: {} for k in counts}
    for kind, key, people, visits, *fen in conn.execute(_OLD_QUERY, params):
        counts[kind][key] = (people, visits)
        amounts[kind][key] = [Decimal(f or 0).scaleb(-2) for f in fen]
    return counts, amounts, 0


def _both(session, monkeypatch, first: int, last: int):
    new = statistics.year_statistics(session, YEAR, first, last)
    with monkeypatch.context() as m:
        m.setattr(statistics, "_summed", _joined)
        old = statistics.year_statistics(session, YEAR, first, last)
    return dataclasses.replace(new, generated_at=None), dataclasses.replace(old, generated_at=None)


@pytest.fixture(scope="module")
def county_db(tmp_path_factory):
    return demo_county(tmp_path_factory.mktemp("county") / "county.sqlite3", 60, YEAR, seed=5)


@pytest.fixture
def county(county_db, tmp_path):
    session = copied_county(county_db, tmp_path)
    yield session
    session.store.close()


def _scopes(session):
    village = session.conn.execute("SELECT region_code FROM households ORDER BY region_code LIMIT 1").fetchone()[0]
    return [session.user, dataclasses.replace(session.user, jurisdiction=village[:9]),
            dataclasses.replace(session.user, jurisdiction=village)]


def _assert_identical(session, monkeypatch):
    for user in _scopes(session):
        scoped = Session(session.store, user)
        for first, last in ((1, 12), (3, 5), (7, 7), (11, 12)):
            new, old = _both(scoped, monkeypatch, first, last)
            assert new == old, (user.jurisdiction, first, last)
    # and the rows the triggers kept are the rows a rebuild makes
    kept = _tables(session.conn)
    session.conn.execute("BEGIN")
    summary.rebuild(session.conn)
    rebuilt = _tables(session.conn)
    session.conn.execute("ROLLBACK")
    assert kept == rebuilt


def _tables(conn):
    cells = {tuple(r) for r in conn.execute("SELECT * FROM stat_cells WHERE visits != 0")}
    people = {tuple(r) for r in conn.execute(
        f"SELECT * FROM stat_people WHERE {' OR '.join(f'm{m} != 0' for m in summary.MONTHS)}")}
    masks = {tuple(r) for r in conn.execute("SELECT * FROM stat_masks WHERE people != 0")}
    return cells, people, masks


def test_a_county_with_summary_rows_opens_again_as_a_large_file(county, monkeypatch):
    """A file past the size limit of quick_check is probed by reading each table's first and last rowid."""
    from app.store import integrity

    county.store.close()
    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    open_store(county.store.path, daily_backup=False).close()


def test_the_demo_county_is_counted_alike(county, monkeypatch):
    new, _ = _both(county, monkeypatch, 1, 12)
    assert new.total.visits > 100 and new.total.people > 50 and new.total.assistance_paid > 0
    _assert_identical(county, monkeypatch)


def test_alike_after_every_kind_of_change(county, monkeypatch):
    conn, admin = county.conn, county.user
    visit = dict(conn.execute("SELECT v.* FROM visits v JOIN settlements s ON s.visit_id = v.id "
                              "ORDER BY v.id LIMIT 1").fetchone())
    other_village = conn.execute("SELECT region_code FROM households WHERE substr(region_code, 1, 9) != ? "
                                 "LIMIT 1", (visit["id"] and _region(conn, visit["person_id"])[:9],)).fetchone()[0]
    with transaction(conn):
        # a bill's date and amount corrected, into another month
        records.update(conn, admin, "visits", visit["id"],
                       {"discharged_on": f"{YEAR}-02-27", "total_cost": "123456.70"}, "测试：更正账单")
        # a settlement removed
        gone = conn.execute("SELECT id FROM settlements ORDER BY id DESC LIMIT 1").fetchone()[0]
        records.delete(conn, admin, "settlements", gone, "测试：删除结算")
        # a household moves to another township's village
        household = conn.execute("SELECT household_id FROM persons WHERE id = ?", (visit["person_id"],)).fetchone()[0]
        records.update(conn, admin, "households", household, {"region_code": other_village}, "测试：迁居")
        # a person with settled bills moves into another household
        mover, into = conn.execute(
            "SELECT p.id, (SELECT h.id FROM households h WHERE h.id != p.household_id ORDER BY h.id DESC LIMIT 1) "
            "FROM persons p JOIN visits v ON v.person_id = p.id JOIN settlements s ON s.visit_id = v.id "
            "WHERE p.id != ? ORDER BY p.id LIMIT 1", (visit["person_id"],)).fetchone()
        records.update(conn, admin, "persons", mover, {"household_id": into}, "测试：迁入他户")
    _assert_identical(county, monkeypatch)
    for _ in bills.resettle_year(county, YEAR):  # every settlement of the year rewritten
        pass
    _assert_identical(county, monkeypatch)


def _region(conn, person_id):
    return conn.execute("SELECT h.region_code FROM persons p JOIN households h ON h.id = p.household_id "
                        "WHERE p.id = ?", (person_id,)).fetchone()[0]


def test_an_unreadable_amount_falls_back_to_exact_decimal_sums(county):
    conn = county.conn
    visit = conn.execute("SELECT v.id FROM visits v JOIN settlements s ON s.visit_id = v.id "
                         f"WHERE v.discharged_on LIKE '{YEAR}-%' LIMIT 1").fetchone()[0]
    # As a hand-edited file might hold it: three decimals, readable only as Decimal (not through the write path).
    conn.execute("UPDATE visits SET total_cost = '100.005' WHERE id = ?", (visit,))
    assert conn.execute("SELECT sum(bad) FROM stat_cells").fetchone()[0] == 1
    expected = sum(Decimal(r[0]) for r in conn.execute(
        "SELECT v.total_cost FROM visits v JOIN settlements s ON s.visit_id = v.id "
        f"WHERE v.discharged_on BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'"))
    stats = statistics.year_statistics(county, YEAR)
    assert stats.total.total_cost == expected and str(expected).endswith("5")


def test_check_finds_summary_rows_that_drifted_from_the_records(county):
    from app.store.check import check_database

    assert check_database(county.store.path, full=True) == []
    # A lost trigger or a hand edit: the statistics would be wrong without anything saying so.
    county.conn.execute("UPDATE stat_cells SET a4 = a4 + 100 WHERE rowid = (SELECT min(rowid) FROM stat_cells)")
    assert check_database(county.store.path) == []  # compared only by `check --full` (as long as a rebuild)
    assert [p for p in check_database(county.store.path, full=True) if p.startswith("统计汇总")] == [
        "统计汇总（人次、金额）与就诊、结算记录不一致（2 行），统计数字可能有误；请联系县里的技术人员重建统计汇总"]


def test_check_finds_people_counts_that_drifted_from_the_people_rows(county):
    from app.store.check import check_database

    # The counts by month pattern are made from stat_people: a hand edit there shows by itself.
    county.conn.execute("UPDATE stat_masks SET people = people + 1 WHERE (year, category, region_code, mask) = "
                        "(SELECT year, category, region_code, mask FROM stat_masks "
                        "WHERE category = '*' AND people > 0 LIMIT 1)")
    assert [p for p in check_database(county.store.path, full=True) if p.startswith("统计汇总")] == [
        "统计汇总（按月份的人数）与就诊、结算记录不一致（2 行），统计数字可能有误；请联系县里的技术人员重建统计汇总"]
