"""户主变更 and 成员迁入另一户 (within a village) travel: the county's copy of the household and the person agree with the
township's, by sync and by package, and a site of that village holds the member in the new household with all of
their records."""

from __future__ import annotations

import psycopg
import pytest

from app.exchange import county_db
from app.services import county, demo, household_changes, packages, registry, site_keys, sync, users
from app.services.session import SYSTEM, Session, User
from app.store.check import check_database
from app.store.store import open_store
from tests.exchange.conftest import register


def _county(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute(sql, params).fetchall()


def _plan(township: Session) -> dict:
    """A household of three or more of the demo township, a member (not the head) with bills to move, and another
    household of the same village to move them into."""
    clerk = Session(township.store, users.find_user(township.conn, "xiang"))
    town = clerk.user.jurisdiction
    home = township.conn.execute(
        "SELECT h.id, h.region_code, h.head_person_id FROM households h JOIN persons p ON p.household_id = h.id "
        "WHERE h.region_code LIKE ? || '%' AND EXISTS (SELECT 1 FROM visits v JOIN persons m ON m.id = v.person_id "
        "WHERE m.household_id = h.id AND m.id != h.head_person_id) AND (SELECT count(*) FROM households o "
        "WHERE o.region_code = h.region_code) >= 2 GROUP BY h.id HAVING count(*) >= 3 "
        "ORDER BY h.id LIMIT 1", (town,)).fetchone()
    mover = township.conn.execute(
        "SELECT p.id FROM persons p WHERE p.household_id = ? AND p.id != ? AND EXISTS (SELECT 1 FROM visits v "
        "WHERE v.person_id = p.id) ORDER BY p.id LIMIT 1", (home["id"], home["head_person_id"])).fetchone()[0]
    new_head = township.conn.execute("SELECT id FROM persons WHERE household_id = ? AND id NOT IN (?, ?) ORDER BY id "
                                     "LIMIT 1", (home["id"], home["head_person_id"], mover)).fetchone()[0]
    target = township.conn.execute(
        "SELECT id, region_code FROM households WHERE region_code = ? AND id != ? ORDER BY id LIMIT 1",
        (home["region_code"], home["id"])).fetchone()
    return {"clerk": clerk, "home": home["id"], "from": home["region_code"], "former": home["head_person_id"],
            "new_head": new_head, "mover": mover, "target": target["id"], "to": target["region_code"]}


def _change(plan: dict) -> None:
    household_changes.change_head(plan["clerk"], plan["home"], plan["new_head"], "父母")
    household_changes.move_member(plan["clerk"], plan["mover"], plan["target"], "配偶")


def _county_agrees(url: str, plan: dict) -> None:
    """The county database holds the change: the new head, the relations, the member in the other household."""
    assert _county(url, "SELECT head_person_id FROM households WHERE id = %s", (plan["home"],)) == [(plan["new_head"],)]
    people = dict(_county(url, "SELECT id, relation_to_head FROM persons WHERE id = ANY(%s)",
                          ([plan["new_head"], plan["former"]],)))
    assert people == {plan["new_head"]: "户主", plan["former"]: "父母"}
    assert _county(url, "SELECT household_id, relation_to_head, region_code FROM persons WHERE id = %s",
                   (plan["mover"],)) == [(plan["target"], "配偶", plan["to"])]


def _site_agrees(site: Session, township: Session, plan: dict) -> None:
    """Another site's copy holds the same households and relations as the township's."""
    for sql, key in (("SELECT head_person_id FROM households WHERE id = ?", plan["home"]),
                     ("SELECT household_id, relation_to_head FROM persons WHERE id = ?", plan["mover"]),
                     ("SELECT household_id, relation_to_head FROM persons WHERE id = ?", plan["new_head"]),
                     ("SELECT household_id, relation_to_head FROM persons WHERE id = ?", plan["former"])):
        assert tuple(site.conn.execute(sql, (key,)).fetchone()) == tuple(township.conn.execute(sql, (key,)).fetchone())


@pytest.fixture
def village_site(township, county_site, county_url, tmp_path):
    """A site of one village only (a village caseworker's laptop), registered at the county, holding nothing yet."""
    session = Session(open_store(tmp_path / "village.sqlite3", daily_backup=False), SYSTEM)
    county.configure_county(session, demo.COUNTY_CODE, "南陵县（演示）", township.store.setting("policy_id"),
                            township.store.setting("local"))
    site_keys.trust_county(session, site_keys.card(county_site))
    register(county_site, county_url, session)
    yield session
    session.store.close()


def _held(session: Session, person_id: str) -> dict[str, set[str]]:
    return {t: {r[0] for r in session.conn.execute(f"SELECT id FROM {t} WHERE person_id = ?", (person_id,))}
            for t in ("category_periods", "enrollments", "visits", "settlements", "annual_settlements", "payment_lines")}


def test_a_changed_head_and_a_moved_member_reach_the_county_and_the_other_sites(township, county_site, county_url,
                                                                                village_site):
    plan = _plan(township)
    sync.sync(township, county_url)
    _change(plan)
    report = sync.sync(township, county_url)
    assert report.comparison.agrees, report.comparison.lines()
    assert report.pushed["persons"].written == 3 and report.pushed["households"].written == 1
    sync.sync(county_site, county_url)
    _county_agrees(county_url, plan)
    _site_agrees(county_site, township, plan)
    assert site_keys.verify(county_url) == []

    village = Session(village_site.store, User(None, "cun", "村级经办", "村级经办", plan["to"]))
    pulled = sync.sync(village, county_url)
    assert pulled.comparison.agrees, pulled.comparison.lines()
    mover = village_site.conn.execute("SELECT household_id, relation_to_head FROM persons WHERE id = ?",
                                      (plan["mover"],)).fetchone()
    assert tuple(mover) == (plan["target"], "配偶")
    assert _held(village_site, plan["mover"]) == _held(township, plan["mover"])  # bills, categories, payments
    for site in (township, county_site, village_site):
        assert check_database(site.store.path) == []
        assert sync.compare_with_county(site.conn, county_url).agrees


def test_the_change_travels_in_a_package_to_the_county(township, county_site, county_url, tmp_path):
    plan = _plan(township)
    packages.export_package(township, tmp_path / "1.jzpkg")
    packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    _change(plan)
    manifest = packages.export_package(township, tmp_path / "2.jzpkg")
    assert manifest["counts"]["households"] == 1 and manifest["counts"]["persons"] == 3
    imported = packages.import_to_county(county_site, tmp_path / "2.jzpkg", county_url)
    assert imported.county["persons"].written == 3
    _county_agrees(county_url, plan)
    assert site_keys.verify(county_url) == []
    # The county's own installation takes the same package into its database and agrees with the township.
    packages.import_here(county_site, tmp_path / "1.jzpkg")
    packages.import_here(county_site, tmp_path / "2.jzpkg")
    _site_agrees(county_site, township, plan)
    assert check_database(county_site.store.path) == []
