"""A voided bill reaches the county as the same record with its status; a county prepared by an older version is
told to run init-db again, which completes its tables without touching their rows."""

from __future__ import annotations

import psycopg
import pytest

from app.exchange import county_db
from app.services import bill_changes, sync
from app.store.errors import StoreError


def test_a_void_travels_and_an_older_county_is_completed_by_init_db(township, county_url):
    sync.sync(township, county_url)
    visit = township.conn.execute("SELECT id, hospital, invoice_number FROM visits LIMIT 1").fetchone()
    bill_changes.void_bill(township, visit["id"], "医院冲正")
    sync.sync(township, county_url)
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT status, void_reason FROM visits WHERE id = %s", (visit["id"],)).fetchone() == (
            "void", "医院冲正")
        before = pg.execute("SELECT count(*) FROM visits").fetchone()[0]
        pg.execute("ALTER TABLE visits DROP COLUMN corrects_id")  # as a county prepared before bills could be corrected
    with pytest.raises(StoreError, match="init-db"):
        sync.sync(township, county_url)
    county_db.init_db(county_url)
    sync.sync(township, county_url)
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM visits").fetchone()[0] == before
