"""A registered site's records must lie in the jurisdiction the county registered it for: another township's
households, people, bills, 依申请救助 and their steps sent by a township are refused at the county (and wherever
they are pulled), record by record with a reason naming the site, the record and the region, and nothing of them
is kept; the county's own site is not bound; a site registered before sites had a jurisdiction is taken as before
and listed as 未登记辖区 until the county registers it again."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

import psycopg
import pytest

from app.domain.errors import FieldError
from app.domain.regions import county_regions
from app.exchange import county_db, envelope, keys, package
from app.exchange.records import changed, entities, last_change, site_id
from app.services import packages, registry, site_keys, sync
from app.store import records
from app.store.clock import now
from app.store.db import transaction
from app.store.errors import StoreError
from tests.exchange.conftest import register
from tests.faults.killing import cli

TOWN = "340223100"  # 籍山镇, where the demo's users work (the township's card claims it)
OTHER = "340223101"  # 许镇镇


def _village(town: str) -> str:
    return min(code for code in county_regions(town[:6])[1] if code.startswith(town))


def _made_here(session) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The ids of the records a site made, per kind, inside 籍山镇 and outside it, by the region each is sent with."""
    conn = session.conn
    me = site_id(conn)
    inside: dict[str, set[str]] = defaultdict(set)
    outside: dict[str, set[str]] = defaultdict(set)
    for e in entities(conn):
        at = e.wire.index("region_code")
        for _, rows in changed(conn, e, 0, last_change(conn), me):
            for row in rows:
                (inside if str(row[at]).startswith(TOWN) else outside)[e.table].add(row[0])
    return inside, outside


def _at_county(url: str, site: str) -> dict[str, set[str]]:
    """The ids the county holds of a site's records, per kind (kinds it holds some of)."""
    with psycopg.connect(url) as pg:
        held = {e.table: {r[0] for r in pg.execute(f"SELECT id FROM {e.table} WHERE site_id = %s", (site,))}
                for e in county_db.local_entities()}
    return {t: ids for t, ids in held.items() if ids}


def _county_conflicts(url: str) -> dict[str, str]:
    with psycopg.connect(url) as pg:
        return dict(pg.execute("SELECT entity_id, reason FROM conflicts ORDER BY id").fetchall())


def _local_conflicts(session) -> dict[str, str]:
    return {c["entity_id"]: c["reason"] for c in sync.conflicts(session, limit=100_000)}


def _held_here(session, site: str) -> dict[str, set[str]]:
    return {e.table: {r[0] for r in session.conn.execute(f"SELECT id FROM {e.table} WHERE site_id = ?", (site,))}
            for e in entities(session.conn)}


def _move_a_case(session, town: str) -> tuple[str, set[str]]:
    """As a tampered database holds it: one of the township's cases, already with steps, put in another township.
    Its id and its steps' ids."""
    app_id = session.conn.execute("SELECT id FROM applications WHERE state = 'township_review' ORDER BY id "
                                  "LIMIT 1").fetchone()[0]
    with transaction(session.conn):
        records.update(session.conn, session.user, "applications", app_id,
                       {"region_code": _village(town), "updated_at": now()}, "篡改")
    steps = {r[0] for r in session.conn.execute("SELECT id FROM application_steps WHERE application_id = ?", (app_id,))}
    assert steps
    return app_id, steps


def _named(reason: str, township, kind: str, region: str) -> bool:
    """Whether a refusal names the record's kind, its region, the site and the site's jurisdiction."""
    return (f"未采用这条{kind}记录" in reason and f"区划 {region}" in reason and site_keys.card(township).name in reason
            and site_id(township.conn) in reason and "登记的辖区 340223100（籍山镇）" in reason)


@pytest.mark.parametrize("via", ["sync", "package"])
def test_another_townships_records_from_a_township_are_refused_at_the_county_and_none_of_them_kept(
        township, county_site, county_url, tmp_path, via):
    register(county_site, county_url, township, TOWN)
    case, case_steps = _move_a_case(township, OTHER)
    inside, outside = _made_here(township)
    assert outside["applications"] == {case} and outside["application_steps"] == case_steps
    assert all(outside[t] for t in ("households", "persons", "category_periods", "visits", "settlements"))
    if via == "sync":
        lines = sync.sync(township, county_url).lines()
        assert any("不在县里为本站登记的辖区内" in line for line in lines), lines
    else:
        path = tmp_path / "p.jzpkg"
        packages.export_package(township, path)
        lines = packages.import_to_county(county_site, path, county_url).lines()
        assert any("不在该站点登记的辖区内未采用" in line for line in lines), lines

    # Its own records are kept, every one; of the others, nothing: no household, person, bill, settlement, case or step.
    me = site_id(township.conn)
    assert _at_county(county_url, me) == {t: ids for t, ids in inside.items() if ids}
    reasons = _county_conflicts(county_url)
    assert set().union(*outside.values()) <= set(reasons)
    household = min(outside["households"])
    region = township.conn.execute("SELECT region_code FROM households WHERE id = ?", (household,)).fetchone()[0]
    assert _named(reasons[household], township, "家庭", region), reasons[household]
    assert _named(reasons[case], township, "依申请救助", _village(OTHER)), reasons[case]
    assert all(_named(reasons[s], township, "办理环节", _village(OTHER)) for s in case_steps)
    assert any(_named(reasons[v], township, "就诊账单", OTHER) for v in outside["visits"])

    if via == "package":  # the county's installation, taking the same package into its own database, refuses alike
        packages.import_here(county_site, path)
        here = _held_here(county_site, me)
        assert all(not here[t] & ids for t, ids in outside.items())
        assert here["households"] == inside["households"] and here["visits"] == inside["visits"]
        local = _local_conflicts(county_site)
        assert _named(local[household], township, "家庭", region) and case in local


def _forged_package(path, township, county_site, rows: dict[str, list[dict]]) -> None:
    """A package in the documented format with these records, signed by the township's registered key."""
    ents = {e.table: e for e in entities(township.conn)}
    header = {"package_id": str(uuid.uuid4()), "site_id": site_id(township.conn), "site_name": "某乡",
              "county": "南陵县（演示）", "county_code": "340223", "created_at": now(), "created_by": "某人",
              "range": {"changes": [1, 2], "audit": [1, 0]}}
    parts = [package.Part(f"records/{table}.jsonl", table, ents[table].wire,
                          [tuple(r[c] for c in ents[table].wire) for r in made]) for table, made in rows.items()]
    inner = path.with_name(path.name + ".zip")
    package.write(inner, header, parts, package.workbook(header, [], path.with_name("记录一览.xlsx")))
    envelope.seal(inner, path, keys.mine(township.store), [site_keys.card(county_site)], "340223")


def _wire(session, table: str, record_id: str) -> dict:
    """A record of this site as it travels."""
    e = next(e for e in entities(session.conn) if e.table == table)
    for _, rows in changed(session.conn, e, 0, last_change(session.conn), site_id(session.conn)):
        for row in rows:
            if row[0] == record_id:
                return dict(zip(e.wire, row))
    raise AssertionError(record_id)


def test_a_record_that_carries_its_own_township_but_names_another_townships_household_is_refused(
        township, county_site, county_url, tmp_path):
    register(county_site, county_url, township, TOWN)
    # A household of 许镇镇 registered at the county, which the county database and its installation hold.
    household, head = registry.register_household(county_site, _village(OTHER), "许镇某村 1 号",
                                                  registry.PersonInput("许一", "340223199001011233"))
    sync.sync(county_site, county_url)
    # The township's records, rewritten by hand: a person put in that household and a bill of its head, both
    # sent with 籍山镇's region (the region a record travels with is its sender's word, the household's is not).
    person_id, visit_id = township.conn.execute(
        "SELECT p.id, v.id FROM visits v JOIN persons p ON p.id = v.person_id "
        "JOIN households h ON h.id = p.household_id WHERE h.region_code LIKE ? ORDER BY v.id LIMIT 1",
        (TOWN + "%",)).fetchone()
    person = {**_wire(township, "persons", person_id), "id": str(uuid.uuid4()), "household_id": household,
              "id_number": "340223199203041236", "region_code": _village(TOWN)}
    visit = {**_wire(township, "visits", visit_id), "id": str(uuid.uuid4()), "person_id": head,
             "invoice_number": "伪造-1", "region_code": _village(TOWN)}
    forged = tmp_path / "forged.jzpkg"
    _forged_package(forged, township, county_site, {"persons": [person], "visits": [visit]})

    packages.import_to_county(county_site, forged, county_url)
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM persons WHERE id = %s", (person["id"],)).fetchone()[0] == 0
        assert pg.execute("SELECT count(*) FROM visits WHERE id = %s", (visit["id"],)).fetchone()[0] == 0
    reasons = _county_conflicts(county_url)
    assert _named(reasons[person["id"]], township, "人员", _village(OTHER)), reasons[person["id"]]
    assert "它所属的家庭在区划" in reasons[person["id"]]
    assert _named(reasons[visit["id"]], township, "就诊账单", _village(OTHER)), reasons[visit["id"]]
    assert "它所属的人员在区划" in reasons[visit["id"]]

    packages.import_here(county_site, forged)  # the county's installation reads the household from its own copy
    assert not county_site.conn.execute("SELECT 1 FROM persons WHERE id = ?", (person["id"],)).fetchone()
    assert not county_site.conn.execute("SELECT 1 FROM visits WHERE id = ?", (visit["id"],)).fetchone()
    local = _local_conflicts(county_site)
    assert "它所属的家庭在区划" in local[person["id"]] and "它所属的人员在区划" in local[visit["id"]]


def test_a_record_relabelled_as_another_sites_is_refused(township, county_site, county_url):
    register(county_site, county_url, township, TOWN)
    household, head = registry.register_household(township, _village(OTHER), "许镇某村 2 号",
                                                  registry.PersonInput("许二", "340223199001011217"))
    county = keys.mine(county_site.store).site_id
    with transaction(township.conn):  # as a tampered database holds it: sent as if the county's own
        records.update(township.conn, township.user, "households", household, {"site_id": county}, "篡改")
    sync.sync(township, county_url)
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM households WHERE id = %s", (household,)).fetchone()[0] == 0
        assert pg.execute("SELECT count(*) FROM persons WHERE id = %s", (head,)).fetchone()[0] == 0
    reasons = _county_conflicts(county_url)
    assert f"写明属于站点 {county}，却是站点 {site_id(township.conn)} 送来的" in reasons[household]
    assert _named(reasons[head], township, "人员", _village(OTHER))


def test_once_registered_for_a_township_what_it_sent_before_is_counted_and_refused_where_it_is_pulled(
        township, county_site, county_url):
    sync.sync(township, county_url)  # registered for the whole county (conftest): all of it is kept
    inside, outside = _made_here(township)
    me = site_id(township.conn)
    counted = site_keys.register_site(county_site, county_url, site_keys.card(township), TOWN)
    assert counted["家庭"] == len(outside["households"]) and counted["就诊账单"] == len(outside["visits"])
    assert "依申请救助" not in counted  # its cases all lie in 籍山镇
    # `county verify` finds them too, whichever program wrote them (a push is checked by the pushing program).
    found = site_keys.verify(county_url)
    assert any(f"在登记的辖区 340223100（籍山镇） 之外的记录：家庭 {counted['家庭']} 条" in line and me in line
               for line in found), found
    sync.sync(county_site, county_url)  # the county's installation pulls the whole county
    here = _held_here(county_site, me)
    for table in ("households", "persons", "visits", "applications", "application_steps"):
        assert here[table] == inside[table], table
    household = min(outside["households"])
    region = township.conn.execute("SELECT region_code FROM households WHERE id = ?", (household,)).fetchone()[0]
    assert _named(_local_conflicts(county_site)[household], township, "家庭", region)


def test_the_countys_own_site_is_not_bound_even_if_registered_as_a_township(township, county_site, county_url):
    register(county_site, county_url, county_site, TOWN)  # the county's own card, registered by mistake as 籍山镇's
    household, head = registry.register_household(county_site, _village(OTHER), "许镇某村 3 号",
                                                  registry.PersonInput("许三", "340223199001011225"))
    sync.sync(county_site, county_url)
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM households WHERE id = %s", (household,)).fetchone()[0] == 1
        assert pg.execute("SELECT count(*) FROM persons WHERE id = %s", (head,)).fetchone()[0] == 1
    assert _county_conflicts(county_url) == {}


def test_an_older_county_database_upgrades_and_its_sites_are_taken_as_before_until_registered_again(
        township, county_site, county_url, tmp_path):
    with psycopg.connect(county_url, autocommit=True) as pg:  # the register as the version before this one kept it
        pg.execute("ALTER TABLE site_keys DROP COLUMN jurisdiction")
    with pytest.raises(StoreError, match="site_keys.jurisdiction.*init-db"):
        sync.sync(township, county_url)
    county_db.init_db(county_url)
    [entry] = site_keys.registered(county_url)
    assert entry["jurisdiction"] is None
    code, out, _ = cli("county", "sites", county_url)
    assert code == 0 and "辖区 未登记辖区" in out and "1 个站点登记时没有写明辖区" in out, out

    # Not bound, as before: all of the township's records are kept, and an import at the county says why.
    sync.sync(township, county_url)
    inside, outside = _made_here(township)
    me = site_id(township.conn)
    assert _at_county(county_url, me)["households"] == inside["households"] | outside["households"]
    path = tmp_path / "p.jzpkg"
    packages.export_package(township, path, everything=True)
    notes = packages.import_to_county(county_site, path, county_url).notes
    assert any("登记时没有写明辖区" in n and me in n for n in notes), notes

    # Registered again with a jurisdiction: what it sent before is counted, what it sends from now on is checked.
    counted = site_keys.register_site(county_site, county_url, site_keys.card(township), TOWN)
    assert counted["家庭"] == len(outside["households"])
    action = county_site.conn.execute("SELECT action FROM audit_log WHERE action LIKE '登记站点公钥%' "
                                      "ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert "辖区 340223100（籍山镇）（原未登记辖区）" in action, action
    assert "1 个站点" not in cli("county", "sites", county_url)[1]
    household, head = registry.register_household(township, _village(OTHER), "许镇某村 4 号",
                                                  registry.PersonInput("许四", "340223199001011209"))
    sync.sync(township, county_url)
    held = _at_county(county_url, me)
    assert household not in held["households"] and head not in held["persons"]
    assert "登记的辖区 340223100（籍山镇）" in _county_conflicts(county_url)[household]


def test_the_county_states_a_jurisdiction_that_agrees_with_the_cards_claim_and_may_change_it(
        township, county_site, county_url, tmp_path):
    card = site_keys.card(township)
    assert card.jurisdiction == TOWN  # the township its users work in
    keys.write_card(card, tmp_path / "card.json")
    assert keys.read_card(tmp_path / "card.json") == card
    for stated, why in (("3402231", "应为 6 位县、9 位乡镇或 12 位村"), ("110101", "不在本县"),
                        (_village(OTHER), "两者不符")):
        with pytest.raises(FieldError, match=why) as refused:
            site_keys.register_site(county_site, county_url, card, stated)
        assert refused.value.field == "site_jurisdiction"
    assert site_keys.registered(county_url)[0]["jurisdiction"] == "340223"  # as conftest registered it

    site_keys.register_site(county_site, county_url, card, _village(TOWN))  # narrower than the claim: agrees
    assert site_keys.registered(county_url)[0]["jurisdiction"] == _village(TOWN)
    site_keys.register_site(county_site, county_url, card, TOWN)
    assert site_keys.registered(county_url)[0]["jurisdiction"] == TOWN
    action = county_site.conn.execute("SELECT action FROM audit_log WHERE action LIKE '登记站点公钥%' "
                                      "ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert f"辖区 340223100（籍山镇）（原为 {_village(TOWN)}（籍山镇" in action, action
    code, _, err = cli("county", "register-site", county_url, str(tmp_path / "card.json"), "--jurisdiction", OTHER,
                       "--user", "admin", "--password-stdin", "--db", str(county_site.store.path))
    assert code == 2 and "站点辖区" in err and "两者不符" in err, err
    code, out, err = cli("county", "register-site", county_url, str(tmp_path / "card.json"), "--jurisdiction", TOWN,
                         "--user", "admin", "--password-stdin", "--db", str(county_site.store.path))
    assert code == 0 and "辖区 340223100（籍山镇）" in out, err

    data = json.loads((tmp_path / "card.json").read_text())
    data["jurisdiction"] = "籍山镇"
    (tmp_path / "card.json").write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(StoreError, match="公钥卡中的站点辖区不对"):
        keys.read_card(tmp_path / "card.json")
