"""Whose keys this site trusts (kept in its settings, so sealed and audited): the county's, and at the county's own
installation, every site it registered; whom a package is encrypted to and whose signature an import accepts."""

from __future__ import annotations

from typing import Any

from app.exchange import territory
from app.exchange.envelope import refused
from app.exchange.keys import PublicKeys, SiteKeys
from app.store.errors import StoreError

SETTING = "key_registry"


def registry(store) -> dict:
    return {"county": None, "sites": {}, **store.setting(SETTING, {})}


def county(store) -> PublicKeys | None:
    card = registry(store)["county"]
    return PublicKeys.from_card(card) if card else None


def is_county(store, mine: SiteKeys) -> bool:
    """Whether this installation holds the county's keys (the county office's, once it claimed them)."""
    theirs = county(store)
    return theirs is not None and theirs.signing == mine.public().signing


def with_county(store, conn, user: Any, card: PublicKeys, action: str) -> None:
    from app.store import records

    records.put_setting(conn, user, SETTING, {**registry(store), "county": card.card()}, action)


def with_site(store, conn, user: Any, card: PublicKeys, revoked: dict | None, action: str,
              jurisdiction: str | None = None) -> None:
    """Keep a site's keys in this installation's register with the jurisdiction the county stated (None: none, as
    before sites had one); a claim on the card is never taken for the county's statement."""
    from app.store import records

    reg = registry(store)
    reg["sites"] = {**reg["sites"], card.site_id: {**card.card(), "jurisdiction": jurisdiction, "revoked": revoked}}
    records.put_setting(conn, user, SETTING, reg, action)


def senders(store):
    """Whose packages this site takes: the county's, and (at the county's installation) its registered sites'."""
    reg = registry(store)

    def sender(site: str) -> PublicKeys:
        if reg["county"] and reg["county"]["site_id"] == site:
            return PublicKeys.from_card(reg["county"])
        entry = reg["sites"].get(site)
        if entry is None:
            raise refused(f"发送站点 {site[:64]} 没有在县里登记公钥（或本站还没有收到县里的登记），不能确认是谁导出的")
        if entry.get("revoked"):
            raise refused(f"发送站点 {entry.get('name') or site} 的公钥已于 {entry['revoked'].get('at', '')[:10]} 被吊销"
                          f"（{entry['revoked'].get('reason', '')}），不再接受它的交换包")
        return PublicKeys.from_card(entry)

    return sender


def bounds(store) -> territory.Bounds:
    """The sites this installation registered with a jurisdiction (at the county's: every one registered since sites
    have one); the county's own site is not bound."""
    reg = registry(store)
    return territory.bounds(((site, e.get("name", ""), e.get("jurisdiction")) for site, e in reg["sites"].items()),
                            (reg["county"] or {}).get("site_id"))


def recipients(store, mine: SiteKeys) -> list[PublicKeys]:
    """Whom this site's packages are encrypted to: a site's to the county; the county's to every site it
    registered and has not revoked (and to itself, so that it can read its own package again)."""
    reg = registry(store)
    theirs = county(store)
    if theirs is None:
        raise StoreError("本站还没有县里的公钥，交换包无法加密给县里。请向县信息员要县级公钥卡，由管理员导入"
                         "（jiuzhu keys trust-county 卡片文件 --user 管理员），并与县里核对指纹")
    if theirs.signing != mine.public().signing:
        return [theirs]
    return [theirs] + [PublicKeys.from_card(e) for e in reg["sites"].values() if not e.get("revoked")]
