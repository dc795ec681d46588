"""Site keys as the people see them: this site's key card; the county's card taken in; the county's installation
claiming the county's keys, registering and revoking sites in the county database."""

from __future__ import annotations

from app.domain.errors import FieldError
from app.domain.regions import label
from app.exchange import county_db, county_keys, county_steps, keys, territory, trust
from app.exchange.keys import PublicKeys
from app.exchange.records import NAMES
from app.services.session import Session
from app.services.sync import site_name, site_township
from app.store import audit
from app.store.db import transaction
from app.store.errors import StoreError


def card(session: Session) -> PublicKeys:
    """This site's public keys, named as the county sees the site, claiming the township its users work in (if one)."""
    return keys.mine(session.store).public(site_name(session), site_township(session))


def _who(session: Session) -> str:
    user, host = audit.origin()
    return f"{session.user.username}（{session.user.display_name}，{user}@{host}）"


def trust_county(session: Session, county: PublicKeys) -> None:
    """Take in the county's key card: packages are then encrypted to it, and its packages accepted."""
    session.require("manage_site_keys")
    with transaction(session.conn):
        trust.with_county(session.store, session.conn, session.user, county,
                          f"设定县级公钥（指纹 {county.fingerprint}）")


def claim_county(session: Session, url: str, replace: bool = False) -> PublicKeys:
    """Make this installation the county's: its keys are recorded as the county's in the county database."""
    session.require("manage_site_keys")
    mine = card(session)
    code = (session.store.setting("county") or {}).get("code", "")
    if not code:
        raise StoreError("本机还没有设定本县（首次设置），不能作为县级站点")
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        with pg.transaction():
            county_keys.claim(pg, mine, code, replace)
            county_steps.publish_rules(pg, session.store)  # the county's permission decisions go with its keys
    trust_county(session, mine)
    return mine


def _county_installation(session: Session, pg) -> None:
    held = county_keys.county(pg)
    if held is None or held[0].signing != card(session).signing:
        raise StoreError("本机不是县级数据库登记的县级站点：请在县里的电脑上办理（或先在本机运行 jiuzhu county claim）")


def stated(session: Session, site: PublicKeys, jurisdiction: str) -> str:
    """The jurisdiction the county admin states for a site, checked: a region code within this county that agrees
    with the card's own claim, if it makes one (territory.agree)."""
    code = (jurisdiction or "").strip()
    county = (session.store.setting("county") or {}).get("code", "")
    wrong = territory.problem(code)
    if wrong:
        raise FieldError("site_jurisdiction", wrong)
    if county and not code.startswith(county):
        raise FieldError("site_jurisdiction", f"{code} 不在本县（{county}）之内")
    if site.jurisdiction and not territory.agree(code, site.jurisdiction):
        raise FieldError("site_jurisdiction", f"公钥卡上写的站点辖区是 {label(site.jurisdiction)}，登记时填的是 "
                                              f"{label(code)}，两者不符。请核对这张公钥卡是不是这个站点的，或改填 "
                                              f"{site.jurisdiction}")
    return code


def register_site(session: Session, url: str, site: PublicKeys, jurisdiction: str) -> dict[str, int]:
    """Register a site's key card in the county database (and in the county installation's own register) with the
    jurisdiction the county admin states; registering again changes it. Returns, per kind, how many of the site's
    records the county already holds outside that jurisdiction (taken before it had one), for the admin to check."""
    session.require("manage_site_keys")
    code = stated(session, site, jurisdiction)
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        _county_installation(session, pg)
        with pg.transaction():
            before = county_keys.register(pg, site, _who(session), code)
            outside = county_keys.outside(pg, site.site_id, code, [e.table for e in county_db.local_entities()])
            with transaction(session.conn):
                trust.with_site(session.store, session.conn, session.user, site, None,
                                f"登记站点公钥：{site.name or site.site_id}（指纹 {site.fingerprint}），辖区 {label(code)}"
                                + _change(before, code), code)
    return {NAMES[t]: n for t, n in outside.items()}


def _change(before: tuple[bool, str | None], code: str) -> str:
    """What a registration did to the site's jurisdiction, for the audit entry."""
    registered, was = before
    if not registered or was == code:
        return ""
    return f"（原为 {label(was)}）" if was else "（原未登记辖区）"


def revoke_site(session: Session, url: str, site_id: str, reason: str) -> PublicKeys:
    """Revoke a site's keys: its packages and pushes are refused from now on."""
    session.require("manage_site_keys")
    if not reason.strip():
        raise FieldError("revoke_reason", "请写明吊销的原因（如：电脑丢失、站点撤并）")
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        _county_installation(session, pg)
        with pg.transaction():
            site = county_keys.revoke(pg, site_id, _who(session), reason.strip())
            from app.store.clock import now

            with transaction(session.conn):
                trust.with_site(session.store, session.conn, session.user, site, {"at": now(), "reason": reason.strip()},
                                f"吊销站点公钥：{site.name or site.site_id}（{reason.strip()}）",
                                site.jurisdiction or None)
    return site


def registered(url: str) -> list[dict]:
    """The sites registered in the county database."""
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        return county_keys.sites(pg)


def verify(url: str) -> list[str]:
    """Rows at the county no registered site's signature covers (see county_keys.verify), and a site's rows lying
    outside its registered jurisdiction (taken before it had one, or written by a program that did not check it:
    the check of a push runs in the pushing site's program)."""
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        ents = county_db.local_entities()
        return county_keys.verify(pg, ents) + [
            f"站点{site.name}（编号 {site.site_id}）在登记的辖区 {label(site.jurisdiction)} 之外的记录："
            + "、".join(f"{NAMES[t]} {n} 条" for t, n in found.items())
            for site in county_keys.bounds(pg).values()
            if (found := county_keys.outside(pg, site.site_id, site.jurisdiction, [e.table for e in ents]))]
