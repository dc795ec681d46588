"""The money commands end to end on a small demo county: bill list and void, a paid batch, a local value change,
resettle, and the adjustment lines adding up to the difference; bad input exits 2 with one Chinese line."""

from __future__ import annotations

import sqlite3
import subprocess
from decimal import Decimal

import pytest

from app.services import county, users
from app.services.demo import DEMO_PASSWORD
from app.services.session import SYSTEM, Session
from app.store.store import open_store
from app.domain.refs import ref_sql

from tests.store.test_cli_users import jiuzhu


def as_user(username: str, *args: str) -> subprocess.CompletedProcess:
    """A command that changes records, signed in as one of the demo county's users."""
    return jiuzhu(*args, "--user", username, "--password-stdin", stdin=DEMO_PASSWORD + "\n")


def _office_total(db) -> Decimal:
    """The office's own money of 2025 in the township whose batch was paid (elsewhere nothing was paid yet, so a
    change there updates the unpaid amounts and makes no 补付/追回)."""
    conn = sqlite3.connect(db)
    try:
        return sum((Decimal(a) + Decimal(b) for a, b in conn.execute(
            "SELECT s.assistance_paid, s.tilt_assistance_paid FROM settlements s JOIN persons p ON p.id = s.person_id "
            "JOIN households h ON h.id = p.household_id WHERE s.year = 2025 AND h.region_code LIKE "
            "(SELECT jurisdiction FROM users WHERE username = 'fa') || '%'")), Decimal(0))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("money") / "county.sqlite3"
    run = jiuzhu("demo", "--households", "80", "--year", "2025", "--db", str(path), "--quiet")
    assert run.returncode == 0, run.stderr
    # The batch is drawn up and confirmed in the township with the most of the office's money to pay, by two people.
    store = open_store(path, daily_backup=False)
    town = store.conn.execute(
        "SELECT substr(h.region_code, 1, 9) FROM settlements s JOIN persons p ON p.id = s.person_id "
        "JOIN households h ON h.id = p.household_id WHERE s.year = 2025 AND s.assistance_paid != '0.00' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    for username, role in (("fa", "乡镇经办"), ("he", "乡镇审核")):
        users.create_user(Session(store, SYSTEM), username, role, role, town, DEMO_PASSWORD)
    store.close()
    return path


def test_pay_change_a_local_value_resettle_and_the_adjustments_add_up(db, tmp_path):
    made = as_user("fa", "disburse", "create", "--year", "2025", "--roster", str(tmp_path / "r.pdf"), "--db", str(db))
    assert made.returncode == 0, made.stderr
    batch = made.stdout.split("jiuzhu disburse confirm ")[1].split()[0]
    assert as_user("he", "disburse", "confirm", batch, "--db", str(db)).returncode == 0
    again = as_user("he", "disburse", "confirm", batch, "--db", str(db))
    assert again.returncode == 2 and "不能再次确认" in again.stderr
    conn = sqlite3.connect(db)
    paid = conn.execute("SELECT * FROM payment_lines ORDER BY id").fetchall()
    conn.close()
    old = _office_total(db)
    store = open_store(db, daily_backup=False)
    s = Session(store, SYSTEM)
    c = store.setting("county")
    county.configure_county(s, c["code"], c["name"], store.setting("policy_id"),
                            {**store.setting("local"), "serious_illness_deductible": "10000"})
    store.close()
    run = as_user("admin", "resettle", "--year", "2025", "--quiet", "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert '"adjustment_lines"' in run.stdout
    new = _office_total(db)
    assert new != old
    conn = sqlite3.connect(db)
    assert conn.execute(f"SELECT * FROM payment_lines WHERE id IN ({','.join('?' * len(paid))}) ORDER BY id",
                        [r[0] for r in paid]).fetchall() == paid
    adjusted = sum((Decimal(a) for (a,) in conn.execute(
        "SELECT amount FROM payment_lines WHERE line_type IN ('补付', '追回') "
        "AND tier IN ('assistance_paid', 'tilt_assistance_paid')")), Decimal(0))
    conn.close()
    assert adjusted == new - old
    listed = jiuzhu("adjustments", "--year", "2025", str(tmp_path / "adj.xlsx"), "--db", str(db))
    assert listed.returncode == 0 and (tmp_path / "adj.xlsx").stat().st_size > 0
    assert jiuzhu("check", "--db", str(db)).returncode == 0


def test_bill_list_and_void(db):
    conn = sqlite3.connect(db)
    id_number, hospital, invoice = conn.execute(
        "SELECT p.id_number, v.hospital, v.invoice_number FROM visits v JOIN persons p ON p.id = v.person_id "
        "JOIN households h ON h.id = p.household_id WHERE v.status = 'live' AND h.region_code LIKE "
        "(SELECT jurisdiction FROM users WHERE username = 'fa') || '%' LIMIT 1").fetchone()
    conn.close()
    listed = jiuzhu("bill", "list", "--id-number", id_number, "--db", str(db))
    assert listed.returncode == 0 and invoice in listed.stdout and "有效" in listed.stdout
    voided = as_user("fa", "bill", "void", "--hospital", hospital, "--invoice", invoice, "--reason", "测试作废", "--db", str(db))
    assert voided.returncode == 0, voided.stderr
    assert "已作废" in jiuzhu("bill", "list", "--id-number", id_number, "--db", str(db)).stdout
    for args, fragment in ((("bill", "void", "--hospital", hospital, "--invoice", invoice, "--reason", "再次"), "已作废"),
                           (("bill", "list", "--id-number", "110105194912310021"), "没有登记"),
                           (("bill", "void", "--hospital", hospital, "--invoice", "无此票", "--reason", "x"), "没有登记过"),
                           (("adjustments", "--year", "2025", "out.csv"), ".xlsx")):
        run = (as_user("fa", *args, "--db", str(db)) if args[:2] == ("bill", "void")
               else jiuzhu(*args, "--db", str(db)))
        assert run.returncode == 2 and fragment in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_a_printed_batch_is_cancelled_with_credentials_and_its_lines_go_to_the_next(db, tmp_path):
    made = as_user("fa", "disburse", "create", "--year", "2025", "--roster", str(tmp_path / "r.pdf"), "--db", str(db))
    assert made.returncode == 0, made.stderr
    batch = made.stdout.split("jiuzhu disburse confirm ")[1].split()[0]
    count = made.stdout.split("：")[1].split(" 笔")[0]
    again = as_user("fa", "disburse", "roster", batch, str(tmp_path / "again.pdf"), "--db", str(db))
    assert again.returncode == 0 and (tmp_path / "again.pdf").read_bytes().startswith(b"%PDF"), again.stderr
    unsigned = jiuzhu("disburse", "cancel", batch, "--reason", "打印有误", "--db", str(db))
    assert unsigned.returncode == 2 and unsigned.stderr.count("\n") == 1, unsigned.stderr
    cancelled = as_user("he", "disburse", "cancel", batch, "--reason", "花名册打印有误", "--db", str(db))
    assert cancelled.returncode == 0 and "已撤销" in cancelled.stdout, cancelled.stderr
    again = as_user("he", "disburse", "cancel", batch, "--reason", "再撤销", "--db", str(db))
    assert again.returncode == 2 and "不能再撤销" in again.stderr and again.stderr.count("\n") == 1
    no_reason = as_user("he", "disburse", "cancel", batch, "--reason", " ", "--db", str(db))
    assert no_reason.returncode == 2 and "撤销原因" in no_reason.stderr
    remade = as_user("fa", "disburse", "create", "--year", "2025", "--roster", str(tmp_path / "r2.pdf"), "--db", str(db))
    assert remade.returncode == 0 and remade.stdout.split("：")[1].split(" 笔")[0] == count
    conn = sqlite3.connect(db)
    assert conn.execute(f"SELECT state, cancelled_by FROM disbursement_batches WHERE {ref_sql('id')} = ?",
                        (batch,)).fetchone() == ("cancelled", "乡镇审核")
    conn.close()
    assert jiuzhu("check", "--db", str(db)).returncode == 0


def test_a_roster_that_cannot_be_written_saves_no_batch(db, tmp_path):
    def batches() -> int:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT count(*) FROM disbursement_batches").fetchone()[0]
        finally:
            conn.close()

    before = batches()
    nowhere = as_user("fa", "disburse", "create", "--year", "2025", "--roster", str(tmp_path / "无此文件夹" / "r.pdf"),
                      "--db", str(db))
    assert nowhere.returncode == 2 and nowhere.stderr.count("\n") == 1, nowhere.stderr
    assert "花名册文件：文件夹" in nowhere.stderr and "不存在" in nowhere.stderr and batches() == before
