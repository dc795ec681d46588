"""Helpers for tests that look inside packages: a county installation for a lone site, and the inner zip."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.exchange import trust
from app.services import packages, site_keys
from app.services.session import SYSTEM, Session
from app.store.db import transaction
from app.store.store import open_store
from tests.exchange.conftest import reseal, unsealed


def county_for(site: Session, folder: Path) -> Session:
    """A county installation beside `site`: the site trusts its keys and it registered the site's (locally)."""
    county = Session(open_store(Path(folder) / "county-keys.sqlite3", daily_backup=False), SYSTEM)
    site_keys.trust_county(county, site_keys.card(county))
    site_keys.trust_county(site, site_keys.card(county))
    with transaction(county.conn):
        trust.with_site(county.store, county.conn, county.user, site_keys.card(site), None, "登记站点公钥")
    return county


def export_inner(site: Session, out: Path) -> dict:
    """Export a package from `site` and keep only the package inside its envelope, at `out` (the inner format)."""
    county = county_for(site, out.parent)
    try:
        sealed = out.with_name(out.name + ".sealed")
        manifest = packages.export_package(site, sealed)
        with unsealed(sealed, county) as plain:
            shutil.copy(plain, out)
        return manifest
    finally:
        county.store.close()


__all__ = ["county_for", "export_inner", "reseal", "unsealed"]
