"""What a received step or application row may decide at a site: a township's site does not take the county's steps,
an approval is bounded by its computed amount (and paid only as the bills held here support), and 民政's finding is
not undone by the owner's copy."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from app.domain.errors import FieldError
from app.exchange import trust
from app.exchange.records import entities, site_id
from app.services import applications as apps
from app.services import site_keys, users
from app.services.receive import receive
from app.services.session import SYSTEM, Session
from app.store import clock
from app.store.clock import now
from app.store.db import transaction
from app.store.store import open_store


def _staff(site: Session, *names: str) -> dict[str, Session]:
    return {u: Session(site.store, users.find_user(site.conn, u)) for u in names}


def _at_county_approval(township: Session) -> str:
    staff = _staff(township, "xiangshen", "xiang")
    app_id = township.conn.execute("SELECT id FROM applications WHERE state = 'township_review'").fetchone()[0]
    apps.act(staff["xiangshen"], app_id, "township_review", apps.Decision("pass", "同意"),
             today=clock.today() - timedelta(days=20))
    apps.act(staff["xiang"], app_id, "public_notice", apps.Decision("close_notice"))
    return app_id


def _step(session: Session, app_id: str, action: str, role: str, site: str, **details) -> dict:
    seq = session.conn.execute("SELECT count(*) + 1 FROM application_steps WHERE application_id = ?",
                               (app_id,)).fetchone()[0]
    region = session.conn.execute("SELECT region_code FROM applications WHERE id = ?", (app_id,)).fetchone()[0]
    to = "approved" if action == "approve" else "county_approval"
    return {"id": str(uuid.uuid4()), "application_id": app_id, "seq": seq, "state": "county_approval",
            "action": action, "to_state": to, "user_id": str(uuid.uuid4()), "username": role, "display_name": role,
            "role": role, "at": now(), "opinion": "同意", "details": json.dumps(details, ensure_ascii=False),
            "site_id": site, "region_code": region}


def _receive(session: Session, table: str, records: list[dict]):
    def batches(e):
        if e.table == table:
            yield [tuple(r.get(c) for c in e.wire) for r in records]

    with transaction(session.conn):
        return receive(session, batches, "测试包")[table]


def _reasons(session: Session) -> list[str]:
    return [r[0] for r in session.conn.execute("SELECT reason FROM sync_conflicts ORDER BY rowid")]


def test_county_steps_are_refused_from_a_township_site_and_a_forged_amount_is_not_paid(township, county_site,
                                                                                      tmp_path):
    """A site this one knows as a township's does not take the county's steps; one it does not know (a county computer
    replaced since) is not bound. An approval's computed amount the sender made up is not paid: 发放 computes it again
    from the bills held here (refusing the 批准 itself would stop the case here for good)."""
    app_id = _at_county_approval(township)
    other = Session(open_store(tmp_path / "other.sqlite3", daily_backup=False), SYSTEM)
    try:
        card = site_keys.card(other)
    finally:
        other.store.close()
    with transaction(township.conn):
        trust.with_site(township.store, township.conn, township.user, card, None, "登记站点公钥")
    claimed = _step(township, app_id, "medical_opinion", "县级医保审核", card.site_id)
    out = _receive(township, "application_steps", [claimed])
    assert (out.added, out.conflicts) == (0, 1)
    assert "只能在县里的站点办理" in _reasons(township)[-1]
    county = site_id(county_site.conn)
    for action, role, site in (("medical_opinion", "县级医保审核", county),
                               ("civil_opinion", "县级民政审核", str(uuid.uuid4()))):  # a site not known here
        extra = {"asset_check": True} if action == "civil_opinion" else {}
        assert _receive(township, "application_steps", [_step(township, app_id, action, role, site, **extra)]).added == 1
    computed = apps.compute_amount(township, app_id)["amount"]
    forged = f"{computed + 1000:.2f}"
    raised = _step(township, app_id, "approve", "县级审批", county, computed_amount=forged, approved_amount=forged,
                   amount_reason=None)
    assert _receive(township, "application_steps", [raised]).added == 1
    with pytest.raises(FieldError, match="就诊账单有变动|不能按原批准金额发放"):
        apps.act(_staff(township, "xiang2")["xiang2"], app_id, "approved", apps.Decision("disburse"))


def test_the_owners_newer_copy_does_not_undo_the_civil_affairs_finding(township):
    app_id = _at_county_approval(township)
    staff = _staff(township, "yibao", "minzheng")
    apps.act(staff["yibao"], app_id, "county_approval", apps.Decision("medical_opinion", "费用属实"))
    apps.act(staff["minzheng"], app_id, "county_approval",
             apps.Decision("civil_opinion", "家庭有商品房两套，不符合", asset_check=False))
    owner = str(uuid.uuid4())
    with transaction(township.conn):  # as if the case were registered at another township's site
        township.conn.execute("UPDATE applications SET site_id = ? WHERE id = ?", (owner, app_id))
    row = dict(township.conn.execute("SELECT * FROM applications WHERE id = ?", (app_id,)).fetchone())
    newer = {**row, "passes_asset_check": 1, "annual_income": "0.00", "low_income_standard": "99999.00",
             "updated_at": now(), "site_id": owner}
    assert _receive(township, "applications", [newer]).updated == 1
    kept = township.conn.execute("SELECT passes_asset_check, annual_income, low_income_standard FROM applications "
                                 "WHERE id = ?", (app_id,)).fetchone()
    assert tuple(kept) == (0, row["annual_income"], row["low_income_standard"])
