"""Sealed records: a change made by plain SQL to anything that holds or decides money is named by `check`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.store.check import check_database
from tests.store.test_cli_store import jiuzhu


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("sealdemo") / "county.sqlite3"
    run = jiuzhu("demo", "--households", "60", "--seed", "2026", "--db", str(db), "--quiet")
    assert run.returncode == 0, run.stderr
    return db


@pytest.fixture
def copy(demo_db, tmp_path):
    target = tmp_path / "copy.sqlite3"
    src, dst = sqlite3.connect(demo_db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.row_factory = sqlite3.Row
    yield target, dst
    dst.close()


def test_demo_county_is_sealed_and_checks_clean(demo_db):
    assert check_database(demo_db) == []
    conn = sqlite3.connect(demo_db)
    # Demo data goes through the write path: every settlement and annual settlement has its entry.
    for table in ("visits", "settlements", "annual_settlements", "applications"):
        unaudited = conn.execute(f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_log a "
                                 f"WHERE a.entity = '{table}' AND a.entity_id = t.id)").fetchone()[0]
        assert unaudited == 0, table
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    conn.close()


def _check(path) -> tuple[int, str]:
    run = jiuzhu("check", "--db", str(path))
    return run.returncode, run.stdout + run.stderr


def test_a_settlement_paid_more_by_sql_is_named(copy):
    path, conn = copy
    row = conn.execute("SELECT s.id, s.assistance_paid, p.name FROM settlements s JOIN persons p "
                       "ON p.id = s.person_id ORDER BY s.rowid LIMIT 1").fetchone()
    conn.execute("UPDATE settlements SET assistance_paid = '99999.00' WHERE id = ?", (row["id"],))
    conn.commit()
    code, out = _check(path)
    assert code != 0
    assert row["id"] in out and row["name"] in out and "医疗救助" in out and "99999.00" in out
    assert row["assistance_paid"] in out  # what the log says


def test_a_visit_cost_tripled_is_named(copy):
    path, conn = copy
    row = conn.execute("SELECT id, total_cost, invoice_number FROM visits ORDER BY rowid LIMIT 1").fetchone()
    conn.execute("UPDATE visits SET total_cost = printf('%.2f', total_cost * 3) WHERE id = ?", (row["id"],))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and row["invoice_number"] in out and "医疗费用总额" in out


def test_an_approved_amount_changed_is_named(copy):
    path, conn = copy
    row = conn.execute("SELECT id FROM applications WHERE approved_amount IS NOT NULL LIMIT 1").fetchone()
    conn.execute("UPDATE applications SET approved_amount = '123456.78' WHERE id = ?", (row["id"],))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and row["id"] in out and "核定金额" in out and "123456.78" in out


def test_a_local_value_changed_is_named(copy):
    path, conn = copy
    local = json.loads(conn.execute("SELECT value FROM settings WHERE key = 'local'").fetchone()[0])
    assert local, "the demo county sets local values"
    key = next(iter(local))
    local[key] = "1"
    conn.execute("UPDATE settings SET value = ? WHERE key = 'local'", (json.dumps(local, ensure_ascii=False),))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "设置 local" in out


def test_a_user_made_admin_by_sql_is_named(copy):
    path, conn = copy
    conn.execute("UPDATE users SET role = '管理员' WHERE username = 'cun'")
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "用户 cun" in out and "角色" in out and "管理员" in out


def test_a_password_hash_swapped_by_sql_is_named(copy):
    path, conn = copy
    admin_hash = conn.execute("SELECT password_hash FROM users WHERE username = 'admin'").fetchone()[0]
    conn.execute("UPDATE users SET password_hash = ? WHERE username = 'shenpi'", (admin_hash,))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "用户 shenpi" in out and admin_hash not in out


def test_the_log_cut_short_with_its_head_fixed_is_caught(copy):
    path, conn = copy
    count = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (count - 12,))
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE audit_head SET count = ?, hash = ?", (last["seq"], last["hash"]))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and ("没有写入它的记录" in out or "审计日志第" in out)


def test_a_row_added_or_deleted_by_sql_is_named(copy):
    path, conn = copy
    conn.execute("PRAGMA foreign_keys = OFF")
    victim = conn.execute("SELECT id, person_id FROM category_periods LIMIT 1").fetchone()
    conn.execute("DELETE FROM category_periods WHERE id = ?", (victim["id"],))
    conn.execute("INSERT INTO category_periods (id, person_id, category, valid_from, valid_to, certified_by, "
                 "created_at, updated_at) VALUES ('forged', ?, '特困人员', '2020-01-01', NULL, '民政', '', '')",
                 (victim["person_id"],))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and victim["id"] in out and "被删除" in out and "forged" in out


def test_changes_through_the_program_keep_check_clean(copy):
    path, conn = copy
    conn.close()
    from app.services import bills, registry, users
    from app.services.session import Session
    from app.store.store import open_store

    store = open_store(path, daily_backup=False)
    admin = Session(store, users.find_user(store.conn, "admin"))
    clerk = Session(store, users.find_user(store.conn, "xiang"))
    person_id = store.conn.execute("SELECT p.id FROM persons p JOIN households h ON h.id = p.household_id "
                                   "WHERE h.region_code LIKE ? LIMIT 1", (clerk.user.jurisdiction + "%",)).fetchone()[0]
    registry.set_category(clerk, person_id, "低保对象", "2020-01-01", None, "民政")
    year = store.conn.execute("SELECT max(year) FROM settlements").fetchone()[0]
    bills.record_bill(clerk, person_id, bills.BillInput("县医院", f"{year}-05-01", f"{year}-05-09", "住院", "8000",
                                                        "7000", "SEAL-1", "县级", "4000", "0"))
    users.update_user(admin, "cun", "村官", "村级经办", users.find_user(store.conn, "cun").jurisdiction)
    store.close()
    assert check_database(path) == []


def test_a_setting_deleted_beside_a_null_keyed_row_is_still_named(copy):
    path, conn = copy
    conn.execute("DELETE FROM settings WHERE key = 'local'")
    conn.execute("INSERT INTO settings (key, value, updated_at) VALUES (NULL, '1', '')")
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "local" in out and "被删除" in out


def test_a_blob_put_in_a_sealed_column_is_named_not_a_crash(copy):
    path, conn = copy
    conn.execute("""UPDATE settings SET value = CAST('{"x":"999.00"}' AS BLOB) WHERE key = 'local'""")
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "设置 local" in out and "blob:" in out


def test_a_settlement_and_its_sealing_entry_changed_together_are_caught(copy):
    # The entry's seal is its own `after` (row_hash holds OF_AFTER): changing both the row and that `after` alike
    # leaves the seal matching, and the entry's digest, covered by its block and the chain, no longer does.
    path, conn = copy
    sid = conn.execute("SELECT id FROM settlements ORDER BY rowid LIMIT 1").fetchone()["id"]
    seq, after, row_hash = conn.execute("SELECT seq, after, row_hash FROM audit_log WHERE entity = 'settlements' AND "
                                        "entity_id = ? ORDER BY seq DESC LIMIT 1", (sid,)).fetchone()
    assert row_hash == "="
    forged = json.loads(after) | {"assistance_paid": "99999.00"}
    conn.execute("UPDATE settlements SET assistance_paid = '99999.00' WHERE id = ?", (sid,))
    conn.execute("UPDATE audit_log SET after = json(?) WHERE seq = ?", (json.dumps(forged, ensure_ascii=False), seq))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and "审计日志" in out and "99999.00" not in out  # the seal matches; the log does not


def test_check_spread_over_worker_processes_finds_the_same(copy, monkeypatch):
    """`check` on a county's file runs its pieces in worker processes; split into many small pieces here, it must
    name exactly what the one-process check names, each table's problems put back together."""
    from app.store import check_parts

    path, conn = copy
    conn.execute("PRAGMA foreign_keys = OFF")
    settlements = conn.execute("SELECT id FROM settlements ORDER BY rowid").fetchall()
    for row in settlements[::7]:
        conn.execute("UPDATE settlements SET assistance_paid = '12345.67' WHERE id = ?", (row["id"],))
    last_visit = conn.execute("SELECT id FROM visits ORDER BY rowid DESC LIMIT 1").fetchone()["id"]
    conn.execute("DELETE FROM visits WHERE id = ?", (last_visit,))
    conn.execute("UPDATE audit_log SET action = 'forged' WHERE seq = 5")
    conn.commit()
    monkeypatch.setattr(check_parts, "ROWS", 50)
    alone, spread = check_database(path, workers=1), check_database(path, workers=2)
    assert spread == alone
    assert any("12345.67" in p for p in alone) and any(last_visit in p and "被删除" in p for p in alone)
    assert any("第 5 条" in p for p in alone)
    assert any(p.startswith("……结算") and "另有" in p for p in alone)  # more than NAMED changed settlements


def test_a_clean_county_checked_by_worker_processes_is_clean(demo_db, monkeypatch):
    from app.store import check_parts

    monkeypatch.setattr(check_parts, "ROWS", 50)
    assert check_database(demo_db, workers=2) == []


def test_a_database_not_yet_upgraded_is_checked_over_the_columns_it_has(tmp_path):
    """`check` opens read-only and upgrades nothing: a file of an older version (here 11, before bills said where
    they were treated) is checked over the sealed columns its tables have, as it was sealed."""
    from pathlib import Path

    db = tmp_path / "v11.sqlite3"
    db.write_bytes((Path(__file__).parents[1] / "fixtures" / "store-v11.sqlite3").read_bytes())
    assert check_database(db) == []
    conn = sqlite3.connect(db)
    conn.execute("UPDATE settlements SET assistance_paid = '4321.00' WHERE rowid = (SELECT min(rowid) FROM settlements)")
    conn.commit()
    conn.close()
    assert any("4321.00" in p for p in check_database(db))


def _rewrite(path, table: str, key: str, changes: dict) -> None:
    """Change a record through the program's write path (as a service would), with its audit entry."""
    from app.store import records
    from app.store.db import connect, transaction

    conn = connect(path)
    with transaction(conn):
        if changes:
            records.update(conn, "tester", table, key, changes, "测试修改")
        else:
            records.delete(conn, "tester", table, key, "测试删除")
    conn.close()


def test_every_row_names_the_entry_that_sealed_it_last(demo_db):
    from app.store.seal import KEYS, POINTER, POSITIONS, SEALED

    conn = sqlite3.connect(demo_db)
    for table in SEALED:
        wrong = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE t.{POINTER} IS NOT (SELECT max(seq) FROM audit_log WHERE "
            f"entity = '{table}' AND entity_id = t.{KEYS[table]} AND row_hash IS NOT NULL)"
            + (f" AND t.key NOT IN ({', '.join(repr(k) for k in POSITIONS)})" if table == "settings" else "")
        ).fetchone()[0]
        assert wrong == 0, table
    conn.close()


def test_a_row_brought_back_to_its_earlier_content_is_named(copy):
    # Both the old values and the old entry's number put back: the row matches the entry it names, but that entry
    # is not the record's last, which only the tally of the table shows.
    path, conn = copy
    row = dict(conn.execute("SELECT * FROM category_periods ORDER BY rowid LIMIT 1").fetchone())
    conn.close()
    _rewrite(path, "category_periods", row["id"], {"valid_to": "2020-12-31"})
    assert check_database(path) == []
    conn = sqlite3.connect(path)
    conn.execute("UPDATE category_periods SET valid_to = ?, sealed_by = ?, updated_at = ? WHERE id = ?",
                 (row["valid_to"], row["sealed_by"], row["updated_at"], row["id"]))
    conn.commit()
    conn.close()
    problems = check_database(path)
    assert any(row["id"] in p and f"第 {row['sealed_by']} 条时的内容" in p and "改回" in p for p in problems), problems


def test_a_record_deleted_through_the_program_and_put_back_by_sql_is_named(copy):
    path, conn = copy
    row = dict(conn.execute("SELECT * FROM category_periods ORDER BY rowid DESC LIMIT 1").fetchone())
    conn.close()
    _rewrite(path, "category_periods", row["id"], {})
    assert check_database(path) == []
    conn = sqlite3.connect(path)
    conn.execute(f"INSERT INTO category_periods ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))
    conn.commit()
    conn.close()
    problems = check_database(path)
    assert any(row["id"] in p and "已删除，数据库中却仍有" in p for p in problems), problems


def test_a_row_naming_another_records_entry_is_named(copy):
    path, conn = copy
    first, second = conn.execute("SELECT id, sealed_by FROM visits ORDER BY rowid LIMIT 2").fetchall()
    conn.execute("UPDATE visits SET sealed_by = ? WHERE id = ?", (second["sealed_by"], first["id"]))
    conn.commit()
    code, out = _check(path)
    assert code != 0 and first["id"] in out and f"第 {second['sealed_by']} 条写的不是它" in out


def test_a_batch_state_or_bill_status_changed_is_named_in_chinese(copy):
    """Not the workflow's 办理环节 nor the stored English words: a batch's 状态 and a bill's 状态, as the screens say."""
    from app.services import disbursement, users
    from app.services.session import Session
    from app.store.store import open_store

    path, conn = copy
    store = open_store(path, daily_backup=False)
    try:
        year = store.conn.execute("SELECT max(year) FROM settlements").fetchone()[0]
        made = disbursement.create_batch(Session(store, users.find_user(store.conn, "xiang")), year)
        disbursement.confirm_batch(Session(store, users.find_user(store.conn, "xiangshen")), made["id"])
    finally:
        store.close()
    conn.execute("UPDATE disbursement_batches SET state = 'cancelled' WHERE id = ?", (made["id"],))
    visit = conn.execute("SELECT id FROM visits WHERE status = 'live' ORDER BY rowid LIMIT 1").fetchone()
    conn.execute("UPDATE visits SET status = 'void' WHERE id = ?", (visit["id"],))
    conn.commit()
    code, out = _check(path)
    assert code != 0
    assert "状态：审计日志第" in out and "记为 已发放，数据库中为 已撤销" in out and "记为 有效，数据库中为 已作废" in out
    assert "办理环节" not in out and "cancelled" not in out
