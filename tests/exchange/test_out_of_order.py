"""Copies of a record arriving out of order keep the newest: a package imported after a later one of the same site
leaves the county, and a site, with the later copy; two changes within one millisecond, or after the clock was set
back, both reach the county; a received copy keeps the stamp its owner gave it."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from app.exchange import county_db
from app.services import bill_changes, disbursement, packages, registry, sync
from app.services.session import Session
from app.store import clock
from tests.exchange.test_sync_money import _as, _new_bill

SETTLED = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid", "personal_pay",
           "updated_at")


def _bill_then_void(township: Session, tmp_path) -> str:
    """Three packages of the township: all it holds (0), a bill recorded (1), that bill voided (2); the bill's id."""
    packages.export_package(township, tmp_path / "0.jzpkg")
    visit = _new_bill(township, "ORDER-1")
    packages.export_package(township, tmp_path / "1.jzpkg")
    bill_changes.void_bill(_as(township, "xiang"), visit, "医院冲正，发票作废")
    packages.export_package(township, tmp_path / "2.jzpkg")
    return visit


def _held(session: Session, visit: str) -> tuple:
    bill = session.conn.execute("SELECT status, void_reason, updated_at FROM visits WHERE id = ?", (visit,)).fetchone()
    settled = session.conn.execute(f"SELECT {', '.join(SETTLED)} FROM settlements WHERE visit_id = ?",
                                   (visit,)).fetchone()
    return tuple(bill), tuple(settled)


def _at_county(url: str, visit: str) -> tuple:
    with psycopg.connect(url) as pg:
        bill = pg.execute("SELECT status, void_reason, updated_at FROM visits WHERE id = %s", (visit,)).fetchone()
        settled = pg.execute(f"SELECT {', '.join(SETTLED)} FROM settlements WHERE visit_id = %s", (visit,)).fetchone()
    return bill, tuple(county_db._local_value(v) for v in settled)


def test_an_older_package_imported_after_a_later_one_leaves_the_county_with_the_later(township, county_site,
                                                                                      county_url, tmp_path):
    visit = _bill_then_void(township, tmp_path)
    for n in (0, 2):
        packages.import_to_county(county_site, tmp_path / f"{n}.jzpkg", county_url)
    late = packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    voided = _held(township, visit)
    assert voided[0][0] == "void"
    assert _at_county(county_url, visit) == voided  # the bill voided, its settlement as package 2 has it
    # The older copies are counted as such, and the caseworker is told they are no error.
    assert late.county["visits"].older == 1 and late.county["settlements"].older >= 1
    assert all(c.refused == 0 for c in late.county.values())
    said = next(line for line in late.lines() if line.startswith("就诊"))
    assert f"1 条{county_db.OLDER}" in said and "未覆盖" not in said.replace(county_db.OLDER, "")


def test_an_older_package_imported_after_a_later_one_leaves_a_site_with_the_later(township, county_site,
                                                                                  county_url, tmp_path):
    visit = _bill_then_void(township, tmp_path)
    for n in (0, 2, 1):
        packages.import_here(county_site, tmp_path / f"{n}.jzpkg")
    # The voided bill and its settlement, each with the stamp the township gave it.
    assert _held(county_site, visit) == _held(township, visit)
    assert county_site.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0


def _household(township: Session) -> str:
    return township.conn.execute("SELECT id FROM households WHERE site_id IS NULL ORDER BY id LIMIT 1").fetchone()[0]


def _county_address(url: str, household: str) -> tuple[str, str]:
    with psycopg.connect(url) as pg:
        return pg.execute("SELECT address, updated_at FROM households WHERE id = %s", (household,)).fetchone()


def test_two_changes_within_one_millisecond_both_reach_the_county(township, county_url):
    household = _household(township)
    sync.sync(township, county_url)
    with clock.freeze(clock.instant(clock.now())):
        registry.update_household(township, household, "第一次改的住址")
        sync.sync(township, county_url)
        first = _county_address(county_url, household)
        registry.update_household(township, household, "第二次改的住址")
        sync.sync(township, county_url)
    second = _county_address(county_url, household)
    assert first[0] == "第一次改的住址" and second[0] == "第二次改的住址"
    assert second[1] > first[1]


def test_a_change_after_the_clock_was_set_back_reaches_the_county(township, county_url):
    household = _household(township)
    registry.update_household(township, household, "第一次改的住址")
    sync.sync(township, county_url)
    first = _county_address(county_url, household)
    with clock.freeze(clock.instant(clock.now()) - timedelta(days=3)):
        registry.update_household(township, household, "时钟拨回后改的住址")
    sync.sync(township, county_url)
    second = _county_address(county_url, household)
    assert second[0] == "时钟拨回后改的住址" and clock.newer(second[1], first[1])


def test_a_received_application_keeps_the_owners_stamp_even_when_older(township, county_site, county_url, tmp_path):
    """An application's copy here is stamped by this site when it follows steps (records.STAMPED_HERE): the owner's
    copy that replaces it is kept with the owner's stamp exactly, never moved after the one held here."""
    packages.export_package(township, tmp_path / "0.jzpkg")
    packages.import_here(county_site, tmp_path / "0.jzpkg")
    app_id, owners = township.conn.execute("SELECT id, updated_at FROM applications WHERE site_id IS NULL "
                                           "ORDER BY id LIMIT 1").fetchone()
    later = clock.after(owners, clock.now())
    with county_site.conn:  # a stamp of the county's own, as steps.follow gives one
        county_site.conn.execute("UPDATE applications SET updated_at = ? WHERE id = ?", (later, app_id))
    packages.export_package(township, tmp_path / "again.jzpkg", everything=True)
    packages.import_here(county_site, tmp_path / "again.jzpkg")
    assert county_site.conn.execute("SELECT updated_at FROM applications WHERE id = ?", (app_id,)).fetchone()[0] == \
        owners


def test_the_county_orders_stamps_by_their_time_and_a_garbled_one_stops_nothing(township, county_url):
    sync.sync(township, county_url)
    e = next(e for e in county_db.local_entities() if e.table == "persons")
    name, stamp = e.wire.index("name"), e.wire.index("updated_at")
    with psycopg.connect(county_url, autocommit=True) as pg:
        row = list(pg.execute(f"SELECT {', '.join(e.wire)} FROM persons ORDER BY id LIMIT 1").fetchone())

        def send(at: str, called: str) -> county_db.Merged:
            row[name], row[stamp] = called, at
            with pg.transaction():
                return county_db.merge(pg, e, [tuple(row)])

        assert send("2099-01-01T00:00:00.500+00:00", "毫秒").written == 1
        seconds = send("2099-01-01T00:00:00+00:00", "秒")  # the same second, written without its milliseconds
        assert (seconds.written, seconds.older) == (0, 1)
        assert send("2099-01-01T00:00:01+00:00", "下一秒").written == 1
        send("不是时间", "乱码")  # compared by its bytes: no error ends the batch
        assert pg.execute("SELECT name FROM persons WHERE id = %s", (row[0],)).fetchone()[0] in ("下一秒", "乱码")


def test_an_older_package_of_a_batch_since_paid_is_no_refusal_at_the_county(township, county_site, county_url,
                                                                            tmp_path):
    """Judged against the paid batch the county holds, the printed one (and its unpaid lines) would be refused as
    money rewritten: older copies are not judged, only not taken."""
    packages.export_package(township, tmp_path / "0.jzpkg")
    made = disbursement.create_batch(_as(township, "xiang"), 2025)
    packages.export_package(township, tmp_path / "1.jzpkg")
    disbursement.confirm_batch(_as(township, "xiangshen"), made["id"])
    packages.export_package(township, tmp_path / "2.jzpkg")
    for n in (0, 2):
        packages.import_to_county(county_site, tmp_path / f"{n}.jzpkg", county_url)
    late = packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    assert late.county["disbursement_batches"].older == 1
    assert late.county["payment_lines"].older == made["line_count"]
    assert all(c.refused == 0 for c in late.county.values())
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM conflicts").fetchone()[0] == 0
        assert pg.execute("SELECT state FROM disbursement_batches WHERE id = %s", (made["id"],)).fetchone()[0] == "paid"
        assert pg.execute("SELECT count(*) FROM payment_lines WHERE batch_id = %s AND paid_at IS NULL",
                          (made["id"],)).fetchone()[0] == 0


def _number(body: str) -> str:
    from app.domain.idnumber import check_digit

    return body + check_digit(body)


def test_a_newer_copy_waiting_for_its_parent_is_not_replaced_by_an_older_one(township, county_site, tmp_path):
    """Packages 3 and 2 bring later copies of a person whose household only package 1 brings: they wait in
    sync_held, and the older copy (2) arriving after the newer (3) must leave the newer waiting."""
    packages.export_package(township, tmp_path / "0.jzpkg")
    _, pid = registry.register_household(township, "340223100201", "籍山镇某村 9 号",
                                         registry.PersonInput("王五", _number("34022319600101001")))
    packages.export_package(township, tmp_path / "1.jzpkg")
    for n, name in ((2, "王五一"), (3, "王五二")):
        registry.update_person(township, pid, registry.PersonInput(name, _number("34022319600101001")))
        packages.export_package(township, tmp_path / f"{n}.jzpkg")
    for n in (0, 3, 2, 1):
        packages.import_here(county_site, tmp_path / f"{n}.jzpkg")
    q = "SELECT name, updated_at FROM persons WHERE id = ?"
    assert tuple(county_site.conn.execute(q, (pid,)).fetchone()) == tuple(township.conn.execute(q, (pid,)).fetchone())


def test_a_voided_bill_waiting_for_its_parent_keeps_its_settlement(township, county_site, tmp_path):
    """The money case of the same: a bill re-settled (2) then voided (3), both waiting for the person (1); the older
    settlement must not replace the voided bill's."""
    from app.services import bills

    packages.export_package(township, tmp_path / "0.jzpkg")
    _, pid = registry.register_household(_as(township, "xiang"), "340223100201", "籍山镇某村 9 号",
                                         registry.PersonInput("王五", _number("34022319600101001")))
    registry.set_category(township, pid, "低保对象", "2020-01-01", None, "民政")
    visit = bills.record_bill(_as(township, "xiang"), pid, bills.BillInput(
        "南陵县医院", "2025-06-01", "2025-06-10", "住院", "30000.00", "25000.00", "HELD-1", "县级", "15000.00",
        "2000.00"), today=clock.today())["visit_id"]
    packages.export_package(township, tmp_path / "1.jzpkg")
    registry.set_category(township, pid, "特困人员", "2025-01-01", None, "民政")
    packages.export_package(township, tmp_path / "2.jzpkg")
    bill_changes.void_bill(_as(township, "xiang"), visit, "医院冲正")
    packages.export_package(township, tmp_path / "3.jzpkg")
    for n in (0, 3, 2, 1):
        packages.import_here(county_site, tmp_path / f"{n}.jzpkg")
    q = ("SELECT s.assistance_paid, s.personal_pay, v.status FROM settlements s JOIN visits v ON v.id = s.visit_id "
         "WHERE v.id = ?")
    assert tuple(county_site.conn.execute(q, (visit,)).fetchone()) == tuple(township.conn.execute(q, (visit,)).fetchone())


def test_a_waiting_copy_is_replaced_only_by_a_newer_one_whatever_its_kind(tmp_path):
    """In sync_held both copies are the owner's, applications too (whose copy in the table this site stamps)."""
    import json

    from app.exchange import held
    from app.exchange.records import entities
    from app.store.db import transaction
    from app.store.store import open_store

    store = open_store(tmp_path / "site.sqlite3", daily_backup=False)
    kinds = {e.table: e for e in entities(store.conn)}
    newer_stamp, older_stamp = "2026-03-02T10:00:00.000+00:00", "2026-03-01T10:00:00.000+00:00"

    def waiting(table: str, stamps: list) -> object:
        e = kinds[table]
        with transaction(store.conn):
            for stamp in stamps:
                record = {c: None for c in e.wire} | {"id": f"x-{table}", "site_id": "S2", "updated_at": stamp}
                held.hold(store.conn, e, record, "包", held.PARENT_MISSING)
        text = store.conn.execute("SELECT record FROM sync_held WHERE entity = ? AND entity_id = ?",
                                  (table, f"x-{table}")).fetchone()[0]
        return json.loads(text)["updated_at"]

    try:
        for table in ("settlements", "applications", "persons"):
            assert waiting(table, [newer_stamp, older_stamp]) == newer_stamp, table
        assert waiting("visits", [None, newer_stamp]) == newer_stamp  # a copy without a stamp is older than any
    finally:
        store.close()
