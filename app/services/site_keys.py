"""Site keys as the people see them: this site's key card; the county's card taken in; the county's installation
claiming the county's keys, registering and revoking sites in the county database."""

from __future__ import annotations

from app.exchange import county_db, county_keys, county_steps, keys, trust
from app.exchange.keys import PublicKeys
from app.services.session import Session
from app.services.sync import site_name
from app.store import audit
from app.store.db import transaction
from app.store.errors import StoreError


def card(session: Session) -> PublicKeys:
    """This site's public keys, named as the county sees the site."""
    return keys.mine(session.store).public(site_name(session))


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


def register_site(session: Session, url: str, site: PublicKeys) -> None:
    """Register a site's key card in the county database (and in the county installation's own register)."""
    session.require("manage_site_keys")
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        _county_installation(session, pg)
        with pg.transaction():
            county_keys.register(pg, site, _who(session))
            with transaction(session.conn):
                trust.with_site(session.store, session.conn, session.user, site, None,
                                f"登记站点公钥：{site.name or site.site_id}（指纹 {site.fingerprint}）")


def revoke_site(session: Session, url: str, site_id: str, reason: str) -> PublicKeys:
    """Revoke a site's keys: its packages and pushes are refused from now on."""
    session.require("manage_site_keys")
    if not reason.strip():
        from app.domain.errors import FieldError

        raise FieldError("revoke_reason", "请写明吊销的原因（如：电脑丢失、站点撤并）")
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        _county_installation(session, pg)
        with pg.transaction():
            site = county_keys.revoke(pg, site_id, _who(session), reason.strip())
            from app.store.clock import now

            with transaction(session.conn):
                trust.with_site(session.store, session.conn, session.user, site, {"at": now(), "reason": reason.strip()},
                                f"吊销站点公钥：{site.name or site.site_id}（{reason.strip()}）")
    return site


def registered(url: str) -> list[dict]:
    """The sites registered in the county database."""
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        return county_keys.sites(pg)


def verify(url: str) -> list[str]:
    """Rows at the county no registered site's signature covers (see county_keys.verify)."""
    with county_db.connect(url) as pg:
        county_db.check_schema(pg)
        return county_keys.verify(pg, county_db.local_entities())
