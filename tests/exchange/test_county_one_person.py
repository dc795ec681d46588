"""The county database judges arriving steps by the county's own permission decisions: an office the county marked
as having a single caseworker lets that caseworker take two local steps there, as at the site, and not elsewhere."""

from __future__ import annotations

import psycopg

from app.exchange import county_steps
from app.services import applications as apps
from app.services import login, one_person_offices, site_keys, sync
from app.services.session import Session

TOWNSHIP = "340223100"


def _steps_at_county(url: str, app_id: str) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute("SELECT action, username FROM application_steps WHERE application_id = %s ORDER BY seq",
                          (app_id,)).fetchall()


def _conflicts(url: str) -> list[str]:
    with psycopg.connect(url) as pg:
        return [r[0] for r in pg.execute("SELECT reason FROM conflicts WHERE entity = 'application_steps'")]


def test_a_single_caseworker_waiver_holds_at_the_county_once_the_county_decided_it(township, county_site, county_url):
    with psycopg.connect(county_url) as pg:
        assert county_steps.rules(pg)[1] == []  # nothing decided yet: no office has a single caseworker
    for site in (county_site, township):  # the county admin's decision, at its installation and at the township
        one_person_offices.set_offices(site, [TOWNSHIP])
    site_keys.claim_county(county_site, county_url)  # the county's installation publishes its decisions
    with psycopg.connect(county_url) as pg:
        assert county_steps.rules(pg)[1] == [TOWNSHIP]
    app_id = township.conn.execute("SELECT id FROM applications WHERE state = 'township_review'").fetchone()[0]
    xiang = Session(township.store, login.sign_in(township.conn, "xiang", "jiuzhu-demo"))
    # 乡镇经办 takes the 乡镇审核's step: the township has one caseworker
    apps.act(xiang, app_id, "township_review", apps.Decision("pass", "入户调查属实"))
    sync.sync(township, county_url)
    assert ("pass", "xiang") in _steps_at_county(county_url, app_id)
    assert _conflicts(county_url) == []


def test_without_the_countys_decision_the_same_step_is_kept_aside(township, county_site, county_url):
    one_person_offices.set_offices(township, [TOWNSHIP])  # the township's own list is not the county's decision
    app_id = township.conn.execute("SELECT id FROM applications WHERE state = 'township_review'").fetchone()[0]
    xiang = Session(township.store, login.sign_in(township.conn, "xiang", "jiuzhu-demo"))
    apps.act(xiang, app_id, "township_review", apps.Decision("pass", "入户调查属实"))
    sync.sync(township, county_url)
    assert ("pass", "xiang") not in _steps_at_county(county_url, app_id)
    assert any("不能办理这一步" in reason for reason in _conflicts(county_url))
