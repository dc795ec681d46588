"""A workflow step from elsewhere is kept only if its site, role and user could have taken it: forged approvals,
in a hand-made package or a tampered site's sync, change nothing at a site or at the county."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from app.exchange import county_db, envelope, keys, package
from app.exchange.records import entities, site_id
from app.services import packages, site_keys, sync
from app.store import records
from app.store.clock import now
from app.store.db import transaction
from app.store.errors import StoreError
from app.workflow import replay

FORGED_AMOUNT = "123456.78"


def _in_notice(session) -> dict:
    return dict(session.conn.execute("SELECT * FROM applications WHERE state = 'public_notice' ORDER BY id "
                                     "LIMIT 1").fetchone())


def _approval(app: dict, seq: int, site: str) -> dict:
    """A 批准 step as a forger writes it: a made-up county approver, no opinions before it, a large amount."""
    return {"id": str(uuid.uuid4()), "application_id": app["id"], "seq": seq, "state": "public_notice",
            "action": "approve", "to_state": "approved", "user_id": str(uuid.uuid4()), "username": "shenpi",
            "display_name": "县级审批", "role": "县级审批", "at": now(), "opinion": "同意",
            "details": json.dumps({"computed_amount": FORGED_AMOUNT, "approved_amount": FORGED_AMOUNT,
                                   "amount_reason": None}), "site_id": site, "region_code": app["region_code"]}


def _craft(path, session, app: dict, site: str, sealer=None, to=None) -> None:
    """A package written by hand in the documented format: manifest, checksums, JSON lines (via package.write);
    sealed by `sealer`'s keys to `to` when given (a plain zip, as older versions wrote, when not)."""
    ents = {e.table: e for e in entities(session.conn)}
    steps = session.conn.execute("SELECT count(*) FROM application_steps WHERE application_id = ?",
                                 (app["id"],)).fetchone()[0]
    forged_app = {**app, "state": "approved", "approved_amount": FORGED_AMOUNT, "computed_amount": FORGED_AMOUNT,
                  "updated_at": now(), "site_id": site}
    step = _approval(app, steps + 1, site)
    header = {"package_id": str(uuid.uuid4()), "site_id": site, "site_name": "某乡", "county": "南陵县（演示）",
              "county_code": "340223", "created_at": now(), "created_by": "某人",
              "range": {"changes": [1, 2], "audit": [1, 0]}}
    parts = [package.Part("records/applications.jsonl", "applications", ents["applications"].wire,
                          [tuple(forged_app[c] for c in ents["applications"].wire)]),
             package.Part("records/application_steps.jsonl", "application_steps", ents["application_steps"].wire,
                          [tuple(step[c] for c in ents["application_steps"].wire)])]
    readable = package.workbook(header, [], path.with_name("记录一览.xlsx"))
    inner = path.with_name(path.name + ".zip") if sealer else path
    package.write(inner, header, parts, readable)
    if sealer:
        envelope.seal(inner, path, sealer, [site_keys.card(to)], "340223")


def _snapshot(session, columns: str = "*") -> tuple:
    return ([tuple(r) for r in session.conn.execute(f"SELECT {columns} FROM applications ORDER BY id")],
            [tuple(r) for r in session.conn.execute("SELECT * FROM application_steps ORDER BY id")])


def _county_snapshot(url: str, columns: str = "*") -> tuple:
    with psycopg.connect(url) as pg:
        return (pg.execute(f"SELECT {columns} FROM applications ORDER BY id").fetchall(),
                pg.execute("SELECT * FROM application_steps ORDER BY id").fetchall())


def _county_conflicts(url: str) -> list[str]:
    with psycopg.connect(url) as pg:
        return [r[0] for r in pg.execute("SELECT reason FROM conflicts ORDER BY id")]


def _apply(importer, *args) -> None:
    """Import a forged package; signatures (when a site refuses unsigned packages) or the step check stop it."""
    try:
        importer(*args)
    except StoreError:
        pass


@pytest.mark.parametrize("forger", ["new site", "new site, unsigned", "the owning township"])
def test_a_hand_made_approval_changes_nothing_at_a_site_or_at_the_county(township, county_site, county_url, tmp_path,
                                                                         forger):
    real = tmp_path / "real.jzpkg"
    packages.export_package(township, real)
    packages.import_here(county_site, real)
    packages.import_to_county(county_site, real, county_url)
    app = _in_notice(township)
    site = str(uuid.uuid4()) if forger.startswith("new site") else site_id(township.conn)
    forged = tmp_path / "forged.jzpkg"
    # A made-up site signs with keys of its own, which the county never registered; the owning township signs
    # with its registered key (a site gone bad), so only the step check can stop it.
    sealer = {"new site": keys.load(tmp_path / "forger.sqlite3", site), "new site, unsigned": None,
              "the owning township": keys.mine(township.store)}[forger]
    _craft(forged, township, app, site, sealer, county_site)

    # The owner may edit its application's own fields (and so its updated_at), never what its steps decide.
    columns = "*" if forger.startswith("new site") else f"id, {', '.join(replay.DERIVED)}"
    here, there = _snapshot(county_site, columns), _county_snapshot(county_url, columns)
    _apply(packages.import_here, county_site, forged)
    _apply(packages.import_to_county, county_site, forged, county_url)
    assert _snapshot(county_site, columns) == here
    assert _county_snapshot(county_url, columns) == there
    state = county_site.conn.execute("SELECT state FROM applications WHERE id = ?", (app["id"],)).fetchone()[0]
    assert state == "public_notice"
    if forger.startswith("new site"):  # refused whole by its signature, before any record is looked at
        refusal = "没有在县里登记公钥" if sealer else "没有签名和加密"
        with pytest.raises(StoreError, match=refusal):
            packages.import_here(county_site, forged)
        with pytest.raises(StoreError, match=refusal):
            packages.import_to_county(county_site, forged, county_url)
        assert not _county_conflicts(county_url)
        mine = _snapshot(township)  # a township receiving the forgery about its own case is not moved either
        with pytest.raises(StoreError, match="不是发给本站的" if sealer else refusal):
            packages.import_here(township, forged)
        assert _snapshot(township) == mine
        return
    reasons = [c["reason"] for c in sync.conflicts(county_site)]
    assert any("不能跳过环节" in r or "不能办理这一步" in r for r in reasons), reasons
    assert any("不能办理这一步" in r for r in _county_conflicts(county_url))


def test_a_township_that_approves_its_own_case_in_its_file_cannot_push_the_approval(township, county_site,
                                                                                   county_url):
    sync.sync(township, county_url)
    app = _in_notice(township)
    seq = township.conn.execute("SELECT count(*) FROM application_steps WHERE application_id = ?",
                                (app["id"],)).fetchone()[0] + 1
    step = _approval(app, seq, None)
    with transaction(township.conn):  # as a tampered program would: the step and the summary it implies
        records.insert(township.conn, township.user, "application_steps",
                       {k: v for k, v in step.items() if k not in ("site_id", "region_code")}, "伪造")
        records.update(township.conn, township.user, "applications", app["id"],
                       {"state": "approved", "approved_amount": FORGED_AMOUNT, "updated_at": now()}, "伪造")
    sync.sync(township, county_url)
    with psycopg.connect(county_url) as pg:
        state, amount = pg.execute("SELECT state, approved_amount FROM applications WHERE id = %s",
                                   (app["id"],)).fetchone()
        kept = pg.execute("SELECT count(*) FROM application_steps WHERE id = %s", (step["id"],)).fetchone()[0]
    assert (state, amount, kept) == ("public_notice", None, 0)
    assert any("批准" in r for r in _county_conflicts(county_url))
    sync.sync(county_site, county_url)
    pulled = county_site.conn.execute("SELECT state, approved_amount FROM applications WHERE id = ?",
                                      (app["id"],)).fetchone()
    assert tuple(pulled) == ("public_notice", None)


def test_a_schema_without_the_conflicts_table_asks_for_init_db(county_url, township):
    with psycopg.connect(county_url, autocommit=True) as pg:
        pg.execute("DROP TABLE conflicts")
    with pytest.raises(StoreError, match="init-db"):
        sync.sync(township, county_url)
    county_db.init_db(county_url)
    sync.sync(township, county_url)
