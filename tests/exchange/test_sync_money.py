"""Money travels: payment lines, 发放 batches (paid or cancelled) and dated local values reach the county and the
other sites; a forged or altered one is refused at the county and at a site, kept aside with its reason, and nothing
of it is written."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
import pytest

from app.domain.errors import FieldError
from app.exchange import money_records
from app.services import bills, county, disbursement, packages, sync, users
from app.services.session import Session
from app.store import clock
from app.store.check import check_database
from app.store.db import transaction

MONEY = ("disbursement_batches", "payment_lines", "local_values")


def _as(session: Session, username: str) -> Session:
    return Session(session.store, users.find_user(session.conn, username))


def _county(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute(sql, params).fetchall()


def _paid_batch(township: Session) -> dict:
    """A township's 2025 batch drawn up by its caseworker and confirmed by its reviewer."""
    made = disbursement.create_batch(_as(township, "xiang"), 2025)
    return disbursement.confirm_batch(_as(township, "xiangshen"), made["id"])


def _new_bill(township: Session, invoice: str) -> str:
    person = township.conn.execute(
        "SELECT p.id FROM persons p JOIN households h ON h.id = p.household_id JOIN category_periods c "
        "ON c.person_id = p.id WHERE h.region_code LIKE '340223100%' AND c.valid_to IS NULL ORDER BY p.id "
        "LIMIT 1").fetchone()[0]
    settled = bills.record_bill(_as(township, "xiang"), person, bills.BillInput(
        "南陵县医院", "2025-06-01", "2025-06-10", "住院", "30000.00", "25000.00", invoice, "县级", "15000.00",
        "2000.00"), today=clock.today())
    return settled["visit_id"]


def test_payments_batches_and_local_values_go_to_the_county_and_on_to_another_site(township, county_site,
                                                                                    county_url):
    visit = _new_bill(township, "SYNC-MONEY-1")
    paid = _paid_batch(township)
    sync.sync(township, county_url)
    lines = township.conn.execute("SELECT count(*) FROM payment_lines").fetchone()[0]
    assert lines > 0
    assert _county(county_url, "SELECT count(*) FROM payment_lines")[0][0] == lines
    assert _county(county_url, "SELECT state, total FROM disbursement_batches WHERE id = %s", (paid["id"],)) == [
        ("paid", Decimal(paid["total"]))]
    assert _county(county_url, "SELECT amount FROM payment_lines WHERE visit_id = %s AND tier = 'basic_paid'",
                   (visit,))[0][0] == 15000
    # The county office changes a local value from a date; it reaches the township with its next sync.
    county.set_local_from(_as(county_site, "admin"), "basic_inpatient_rate", "60%", "2025-07-01")
    county_sync = sync.sync(county_site, county_url)
    assert county_sync.pulled["payment_lines"].added == lines
    assert county_site.conn.execute("SELECT state FROM disbursement_batches WHERE id = ?",
                                    (paid["id"],)).fetchone()[0] == "paid"
    got = sync.sync(township, county_url)
    assert got.pulled["local_values"].added == 1
    assert any("收到自 2025-07-01 起修改的地方参数" in line for line in got.lines())
    assert county.dated_locals(township)["basic_inpatient_rate"] == [{"from": "2025-07-01", "value": "60%"}]
    assert county.engine(township) is not None  # the township settles with it from now on
    assert check_database(township.store.path) == []
    assert check_database(county_site.store.path) == []


def test_a_cancelled_batch_travels_and_its_lines_wait_for_the_next(township, county_url):
    _new_bill(township, "SYNC-MONEY-2")
    made = disbursement.create_batch(_as(township, "xiang"), 2025)
    sync.sync(township, county_url)
    disbursement.cancel_batch(_as(township, "xiangshen"), made["id"], "花名册金额打印有误")
    sync.sync(township, county_url)
    assert _county(county_url, "SELECT state, cancel_reason FROM disbursement_batches WHERE id = %s",
                   (made["id"],)) == [("cancelled", "花名册金额打印有误")]
    again = disbursement.create_batch(_as(township, "xiang"), 2025)
    assert (again["line_count"], again["total"]) == (made["line_count"], made["total"])


def test_an_altered_paid_amount_and_a_line_for_an_unknown_bill_are_refused_at_the_county(township, county_url):
    visit = _new_bill(township, "SYNC-MONEY-3")
    sync.sync(township, county_url)
    line = township.conn.execute("SELECT id FROM payment_lines WHERE visit_id = ? AND tier = 'basic_paid'",
                                 (visit,)).fetchone()[0]
    # What a tampered site sends: a paid amount changed in the file, and a line naming a bill nobody has.
    ghost = str(uuid.uuid4())
    township.conn.execute("PRAGMA foreign_keys = OFF")  # as a hand-edited file has it
    with transaction(township.conn):
        township.conn.execute("UPDATE payment_lines SET amount = '99999.00', updated_at = ? WHERE id = ?",
                              (clock.now(), line))
        township.conn.execute(
            "INSERT INTO payment_lines (id, person_id, visit_id, year, tier, line_type, payer, amount, reason, "
            "paid_at, paid_by, created_at, updated_at) SELECT ?, person_id, ?, year, tier, line_type, payer, amount, "
            "reason, paid_at, paid_by, created_at, updated_at FROM payment_lines WHERE id = ?", (ghost, ghost, line))
    township.conn.execute("PRAGMA foreign_keys = ON")
    report = sync.sync(township, county_url)
    assert report.pushed["payment_lines"].aside == 2
    said = "；".join(report.lines())  # said as the county's finding, not as another site's records
    assert "2 条县里核对后未采用（" in said, said
    assert "一经记下不能改写" in said and "属于其他站点" not in said, said
    assert _county(county_url, "SELECT amount FROM payment_lines WHERE id = %s", (line,))[0][0] == 15000
    assert _county(county_url, "SELECT count(*) FROM payment_lines WHERE id = %s", (ghost,))[0][0] == 0
    reasons = dict(_county(county_url, "SELECT entity_id, reason FROM conflicts WHERE entity = 'payment_lines'"))
    assert reasons == {line: "未采用这条支付记录：支付记录的人员、账单、项目和金额一经记下不能改写（应另记补付或追回）",
                       ghost: "未采用这条支付记录：它所属的账单县里没有"}


def test_the_rules_refuse_what_does_not_add_up():
    visit = {"person_id": "p", "discharged_on": "2025-03-01", "basic_paid": "100.00", "serious_illness_paid": None}
    line = {"id": "l", "person_id": "p", "visit_id": "v", "year": 2025, "tier": "basic_paid", "line_type": "原始",
            "payer": "医院", "old_amount": None, "new_amount": None, "amount": "100.00", "reason": "一站式",
            "batch_id": None, "paid_at": "t", "paid_by": "医院"}
    assert money_records.line_refusal(line, None, visit, None) is None
    assert "结算单" in money_records.line_refusal({**line, "amount": "120.00"}, None, visit, None)
    assert "人员" in money_records.line_refusal({**line, "person_id": "q"}, None, visit, None)
    assert "到分" in money_records.line_refusal({**line, "amount": "100.001"}, None, visit, None)
    assert "支付方" in money_records.line_refusal({**line, "payer": "经办机构"}, None, visit, None)
    top_up = {**line, "tier": "assistance_paid", "payer": "经办机构", "line_type": "补付", "old_amount": "10.00",
              "new_amount": "30.00", "amount": "20.00", "paid_at": None, "paid_by": None}
    assert money_records.line_refusal(top_up, None, visit, None) is None
    assert "新金额减原金额" in money_records.line_refusal({**top_up, "amount": "25.00"}, None, visit, None)
    assert "方向" in money_records.line_refusal({**top_up, "line_type": "追回"}, None, visit, None)
    assert "已确认发放" in money_records.line_refusal(top_up, None, visit, {"state": "paid"})
    assert "不能改写" in money_records.line_refusal({**top_up, "paid_at": "u", "paid_by": "x"},
                                                 {**top_up, "paid_at": "t", "paid_by": "x"}, visit, None)
    batch = {"state": "paid", "total": "20.00", "line_count": 1, "confirmed_by": "x", "confirmed_at": "t",
             "jurisdiction": "340223100", "year": 2025, "created_by": "y"}
    assert money_records.batch_refusal(batch, {**batch, "state": "printed"}) is None
    assert "不能再改变状态" in money_records.batch_refusal({**batch, "state": "printed"}, batch)
    assert "合计" in money_records.batch_refusal({**batch, "total": "2000.00"}, {**batch, "state": "printed"})
    assert money_records.batch_refusal({**batch, "total": "-2000.00"}, None) is None  # a batch of 追回 only
    assert "合计不是到分的金额" in money_records.batch_refusal({**batch, "total": "-2000.001"}, None)
    local = {"key": "basic_inpatient_rate", "valid_from": "2025-01-01", "value": "60%", "region_code": "340223"}
    assert money_records.local_refusal(local, "340223") is None
    assert "不是本县" in money_records.local_refusal(local, "340221")
    assert "日期" in money_records.local_refusal({**local, "valid_from": "2025-02-30"}, None)


def test_a_cancelled_batch_cannot_be_cancelled_or_confirmed(township):
    _new_bill(township, "SYNC-MONEY-4")
    made = disbursement.create_batch(_as(township, "xiang"), 2025)
    assert disbursement.cancel_batch(_as(township, "xiang"), made["id"], "打印错了")["state"] == "cancelled"
    with pytest.raises(FieldError, match="撤销，不能再确认"):
        disbursement.confirm_batch(_as(township, "xiangshen"), made["id"])
    with pytest.raises(FieldError, match="撤销，不能再撤销"):
        disbursement.cancel_batch(_as(township, "xiangshen"), made["id"], "再撤销")


def test_a_package_carries_the_money_and_an_altered_paid_amount_is_refused_at_a_site_and_the_county(
        township, county_site, county_url, tmp_path):
    visit = _new_bill(township, "SYNC-MONEY-5")
    paid = _paid_batch(township)
    packages.export_package(township, tmp_path / "first.jzpkg")
    first = packages.import_here(county_site, tmp_path / "first.jzpkg")
    assert first.applied["payment_lines"].added == township.conn.execute(
        "SELECT count(*) FROM payment_lines").fetchone()[0]
    assert first.applied["disbursement_batches"].added == 1
    line = township.conn.execute("SELECT id FROM payment_lines WHERE visit_id = ? AND tier = 'basic_paid'",
                                 (visit,)).fetchone()[0]
    with transaction(township.conn):  # the file edited by hand: a paid amount raised
        township.conn.execute("UPDATE payment_lines SET amount = '15500.00', updated_at = ? WHERE id = ?",
                              (clock.now(), line))
    packages.export_package(township, tmp_path / "second.jzpkg")
    second = packages.import_here(county_site, tmp_path / "second.jzpkg")
    assert second.applied["payment_lines"].conflicts == 1
    assert county_site.conn.execute("SELECT amount FROM payment_lines WHERE id = ?", (line,)).fetchone()[0] == \
        "15000.00"
    reason = county_site.conn.execute("SELECT reason FROM sync_conflicts WHERE entity_id = ?", (line,)).fetchone()[0]
    assert "一经记下不能改写" in reason
    packages.import_to_county(county_site, tmp_path / "first.jzpkg", county_url)
    at_county = packages.import_to_county(county_site, tmp_path / "second.jzpkg", county_url)
    assert at_county.county["payment_lines"].aside == 1
    assert any("1 条县里核对后未采用" in line for line in at_county.lines())
    assert _county(county_url, "SELECT amount FROM payment_lines WHERE id = %s", (line,))[0][0] == 15000
    assert _county(county_url, "SELECT state FROM disbursement_batches WHERE id = %s", (paid["id"],)) == [("paid",)]
    assert check_database(county_site.store.path) == []


def test_a_batch_of_recoveries_only_reaches_the_county_with_its_lines(township, county_site, county_url):
    """A paid bill voided: the next batch only recovers, its total is negative, and it travels like any other."""
    paid = _paid_batch(township)
    visit = township.conn.execute("SELECT visit_id FROM payment_lines WHERE batch_id = ? AND tier = 'assistance_paid' "
                                  "ORDER BY id LIMIT 1", (paid["id"],)).fetchone()[0]
    from app.services import bill_changes
    bill_changes.void_bill(_as(township, "xiang"), visit, "医院冲正，发票作废")
    recovery = disbursement.create_batch(_as(township, "xiang"), 2025)
    assert Decimal(recovery["total"]) < 0
    sync.sync(township, county_url)
    assert township.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0
    assert _county(county_url, "SELECT total FROM disbursement_batches WHERE id = %s", (recovery["id"],)) == [
        (Decimal(recovery["total"]),)]
    assert _county(county_url, "SELECT count(*) FROM payment_lines WHERE batch_id = %s", (recovery["id"],))[0][0] == \
        recovery["line_count"]
    sync.sync(county_site, county_url)
    assert county_site.conn.execute("SELECT total FROM disbursement_batches WHERE id = ?",
                                    (recovery["id"],)).fetchone()[0] == recovery["total"]
