"""Upgrading a database whose dated local values were a setting (versions 8 to 11): each becomes a record of its own,
sealed and ready to travel, the setting goes, and the engine settles with the same values."""

from __future__ import annotations

from app.services import county
from app.services.session import SYSTEM, Session
from app.store import records
from app.store.check import check_database
from app.store.db import connect, transaction
from app.store.store import migrate, open_store

DATED = {"basic_inpatient_rate": [{"from": "2024-01-01", "value": "65%"}, {"from": "2025-01-01", "value": "60%"}]}


def test_dated_local_values_move_from_the_setting_into_records(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = connect(path)
    migrate(conn, None, target=11)
    with transaction(conn):
        records.put_setting(conn, "system", "county", {"code": "340223", "name": "南陵县"}, "设置县")
        records.put_setting(conn, "system", "local_dated", DATED, "修改地方参数")
    conn.close()
    store = open_store(path, daily_backup=False)
    try:
        session = Session(store, SYSTEM)
        assert county.dated_locals(session) == DATED
        assert store.setting("local_dated") is None
        rows = store.conn.execute("SELECT region_code, key, valid_from, value, site_id FROM local_values "
                                  "ORDER BY valid_from").fetchall()
        assert [tuple(r) for r in rows] == [("340223", "basic_inpatient_rate", "2024-01-01", "65%", None),
                                            ("340223", "basic_inpatient_rate", "2025-01-01", "60%", None)]
        waiting = store.conn.execute("SELECT count(*) FROM changes WHERE entity = 'local_values'").fetchone()[0]
        assert waiting == 2  # they go to the county with the next sync
    finally:
        store.close()
    assert check_database(path) == []
