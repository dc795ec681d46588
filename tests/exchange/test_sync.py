"""Sync with a real county PostgreSQL: one copy of each record, resumed after a cut line, the owner's rule."""

from __future__ import annotations

import psycopg
import pytest

from app.exchange import county_db
from app.exchange.records import entities, site_id
from app.services import applications as apps
from app.services import registry, sync, users
from app.services.session import Session
from app.store import clock
from app.store.check import check_database
from app.store.errors import StoreError
from tests.exchange.conftest import CutProxy

TABLES = ("households", "persons", "category_periods", "enrollments", "visits", "settlements", "annual_settlements",
          "applications", "application_steps")


def local_counts(session: Session) -> dict[str, int]:
    return {t: session.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def county_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as pg:
        return county_db.counts(pg, (*TABLES, "audit_log"))


def test_init_db_twice_keeps_the_schema_and_refuses_an_unprepared_database(pg, county_url, township):
    assert "visits" in county_db.init_db(county_url)
    bare = pg.database("bare_county")
    with pytest.raises(StoreError, match="init-db"):
        sync.sync(township, bare)
    assert sync.state(township)["pushed_change"] == 0


def test_syncing_a_demo_county_twice_leaves_one_copy_of_each_record(township, county_url):
    assert sync.pending(township)["人员"] == local_counts(township)["persons"]
    first = sync.sync(township, county_url)
    assert county_counts(county_url) | {"audit_log": 0} == local_counts(township) | {"audit_log": 0}
    audit_there = county_counts(county_url)["audit_log"]
    assert audit_there == township.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert first.pushed["visits"].written == local_counts(township)["visits"]
    second = sync.sync(township, county_url)
    assert county_counts(county_url) | {"audit_log": 0} == local_counts(township) | {"audit_log": 0}
    assert all(m.written == 0 for m in second.pushed.values())
    assert sync.pending(township) == {}
    with psycopg.connect(county_url) as conn:
        dup = conn.execute("SELECT count(*) - count(DISTINCT id) FROM visits").fetchone()[0]
        assert dup == 0
        sites = conn.execute("SELECT site_id FROM sites").fetchall()
    assert sites == [(site_id(township.conn),)]


@pytest.mark.parametrize("limit", [20_000, 150_000, 450_000])
def test_a_cut_line_in_the_middle_of_a_push_then_a_retry_loses_and_doubles_nothing(pg, township, county_url, limit):
    proxy = CutProxy(pg.port, limit)
    cut_url = county_url.replace(f":{pg.port}/", f":{proxy.port}/")
    try:
        with pytest.raises(StoreError, match="连接中断"):
            sync.sync(township, cut_url, batch=500)
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    partial = county_counts(county_url)
    assert sum(partial[t] for t in TABLES) < sum(local_counts(township).values())  # cut before the end
    plan = sync.state(township)["push"]
    assert plan is not None  # the site knows which range it was delivering
    sync.sync(township, county_url, batch=500)
    assert county_counts(county_url) | {"audit_log": 0} == local_counts(township) | {"audit_log": 0}
    with psycopg.connect(county_url) as conn:
        for t in TABLES:
            assert conn.execute(f"SELECT count(*) - count(DISTINCT id) FROM {t}").fetchone()[0] == 0
        entries = conn.execute("SELECT count(*), count(DISTINCT seq), max(seq) FROM audit_log").fetchone()
    assert entries[0] == entries[1] == entries[2]  # every audit entry once, none missing below the last
    assert sync.state(township)["push"] is None
    assert check_database(township.store.path) == []


def test_a_county_decision_comes_back_and_the_application_follows_it(township, county_site, county_url):
    from datetime import timedelta

    staff = {u: Session(township.store, users.find_user(township.conn, u)) for u in ("xiangshen", "xiang")}
    app_id = township.conn.execute("SELECT id FROM applications WHERE state = 'township_review'").fetchone()[0]
    apps.act(staff["xiangshen"], app_id, "township_review", apps.Decision("pass", "同意"),
             today=clock.today() - timedelta(days=20))
    apps.act(staff["xiang"], app_id, "public_notice", apps.Decision("close_notice", "公示无异议"))
    sync.sync(township, county_url)
    pulled = sync.sync(county_site, county_url)
    assert pulled.pulled["applications"].added == local_counts(township)["applications"]
    assert local_counts(county_site)["visits"] == local_counts(township)["visits"]
    # Users belong to their site: the county's reviewers and approver sign in at the county's installation.
    county_staff = {role: Session(county_site.store, users.create_user(county_site, name, role, role, "340223",
                                                                       "county-pass-1"))
                    for name, role in (("yibao", "县级医保审核"), ("minzheng", "县级民政审核"), ("shenpi", "县级审批"))}
    for role, action in (("县级医保审核", "medical_opinion"), ("县级民政审核", "civil_opinion"), ("县级审批", "approve")):
        apps.act(county_staff[role], app_id, "county_approval", apps.Decision(action, "同意救助"))
    sync.sync(county_site, county_url)
    report = sync.sync(township, county_url)
    assert report.pulled["application_steps"].added == 3
    mine = township.conn.execute("SELECT state, approved_amount FROM applications WHERE id = ?", (app_id,)).fetchone()
    assert mine["state"] == "approved" and mine["approved_amount"]
    # The township owns the application: its updated copy reaches the county on the next sync.
    sync.sync(township, county_url)
    with psycopg.connect(county_url) as conn:
        state, amount = conn.execute("SELECT state, approved_amount FROM applications WHERE id = %s",
                                     (app_id,)).fetchone()
        steps = conn.execute("SELECT count(*) FROM application_steps WHERE application_id = %s", (app_id,)).fetchone()
    assert state == "approved" and f"{amount:.2f}" == mine["approved_amount"]
    assert steps[0] == township.conn.execute("SELECT count(*) FROM application_steps WHERE application_id = ?",
                                             (app_id,)).fetchone()[0]


def test_a_copy_edited_at_another_site_does_not_overwrite_the_owner(township, county_site, county_url):
    sync.sync(township, county_url)
    sync.sync(county_site, county_url)
    person = county_site.conn.execute("SELECT id, name FROM persons LIMIT 1").fetchone()
    county_site.conn.execute("UPDATE persons SET name = '改过的名字', updated_at = '2099-01-01' WHERE id = ?",
                             (person["id"],))
    county_site.conn.commit()
    report = sync.sync(county_site, county_url)
    assert "persons" not in report.pushed  # a record from elsewhere is not this site's to send
    with psycopg.connect(county_url) as conn:
        assert conn.execute("SELECT name FROM persons WHERE id = %s", (person["id"],)).fetchone()[0] == person["name"]


def test_a_category_certified_at_the_county_reaches_the_township_and_resettles(township, county_site, county_url):
    sync.sync(township, county_url)
    sync.sync(county_site, county_url)
    row = county_site.conn.execute(
        "SELECT p.id FROM persons p JOIN settlements s ON s.person_id = p.id WHERE NOT EXISTS "
        "(SELECT 1 FROM category_periods c WHERE c.person_id = p.id) GROUP BY p.id "
        "ORDER BY sum(CAST(s.personal_pay AS REAL)) DESC, p.id LIMIT 1").fetchone()  # the most left to pay
    before = township.conn.execute("SELECT sum(CAST(assistance_paid AS REAL)) FROM settlements WHERE person_id = ?",
                                   (row["id"],)).fetchone()[0]
    registry.set_category(county_site, row["id"], "特困人员", "2020-01-01", None, "民政")
    sync.sync(county_site, county_url)
    report = sync.sync(township, county_url)
    assert report.pulled["category_periods"].added == 1
    after = township.conn.execute("SELECT sum(CAST(assistance_paid AS REAL)) FROM settlements WHERE person_id = ?",
                                  (row["id"],)).fetchone()[0]
    assert after > before  # 特困人员 now receive assistance on the bills already recorded


def test_an_unreachable_county_says_so_in_chinese(township):
    with pytest.raises(StoreError, match="连不上县级数据库"):
        sync.sync(township, "postgresql://nobody@127.0.0.1:1/none")
    assert sync.state(township)["pushed_change"] == 0


def test_every_travelling_table_exists_at_the_county(county_url, township):
    with psycopg.connect(county_url) as conn:
        for e in entities(township.conn):
            cols = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                               "WHERE table_name = %s", (e.table,))}
            assert set(e.wire) <= cols


def test_the_county_keeps_the_owners_copy_when_another_site_sends_the_same_record(township, county_url):
    sync.sync(township, county_url)
    e = next(e for e in entities(township.conn) if e.table == "persons")
    with psycopg.connect(county_url, autocommit=True) as pg:
        row = list(pg.execute(f"SELECT {', '.join(e.wire)} FROM persons LIMIT 1").fetchone())
        original = row[e.wire.index("name")]
        row[e.wire.index("name")] = "冒名顶替"
        row[e.wire.index("updated_at")] = "2099-01-01T00:00:00.000+00:00"
        row[e.wire.index("site_id")] = "another-site"
        with pg.transaction():
            county_db.lock_for_writing(pg)
            merged = county_db.merge(pg, e, [tuple(row)])
        assert (merged.refused, merged.written) == (1, 0)
        assert pg.execute("SELECT name, site_id FROM persons WHERE id = %s", (row[0],)).fetchone() == (
            original, site_id(township.conn))


def test_a_cut_line_in_the_middle_of_a_pull_leaves_nothing_half_taken(pg, township, county_site, county_url):
    sync.sync(township, county_url)
    before = local_counts(county_site)
    proxy = CutProxy(pg.port, 300_000, down=True)
    try:
        with pytest.raises(StoreError, match="连接中断"):
            sync.sync(county_site, county_url.replace(f":{pg.port}/", f":{proxy.port}/"))
    finally:
        proxy.close()
    assert local_counts(county_site) == before  # the pull's one transaction was rolled back
    assert sync.state(county_site)["pulled_by_region"] == {}
    sync.sync(county_site, county_url)
    assert local_counts(county_site) == local_counts(township)
    assert check_database(county_site.store.path) == []


@pytest.mark.parametrize("typed, kept", [
    ("postgresql://county:s3cret@10.0.0.5:5432/jiuzhu", "postgresql://county@10.0.0.5:5432/jiuzhu"),
    ("postgresql://county@10.0.0.5/jiuzhu", "postgresql://county@10.0.0.5/jiuzhu"),
    ("host=10.0.0.5 user=county password=s3cret dbname=jiuzhu", "user=county dbname=jiuzhu host=10.0.0.5"),
])
def test_the_address_is_remembered_without_its_password(township, typed, kept):
    sync.remember_url(township, typed)
    assert sync.state(township)["url"] == kept
    assert "s3cret" not in str(township.conn.execute("SELECT value FROM settings").fetchall())


def test_an_address_with_a_typed_password_still_connects(pg, county_url, township):
    # The test server trusts loopback, so this holds the form of the address, not the password check itself.
    import psycopg as pq

    with pq.connect(county_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE clerk LOGIN PASSWORD 'clerk-pass-1'")
        conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO clerk")
        conn.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO clerk")
    url = county_url.replace("jiuzhu@", "clerk@")
    assert sync.sync(township, sync.with_password(url, "clerk-pass-1")).pushed


def test_a_password_in_the_query_string_is_not_kept_either(township):
    sync.remember_url(township, "postgresql://county@10.0.0.5/jiuzhu?password=s3cret&sslmode=require")
    assert sync.state(township)["url"] == "postgresql://county@10.0.0.5/jiuzhu?sslmode=require"


def test_a_wider_jurisdiction_pulls_what_a_narrower_one_did_not(township, county_site, county_url):
    from app.services.session import User

    sync.sync(township, county_url)
    village = township.conn.execute("SELECT region_code FROM households LIMIT 1").fetchone()[0]
    narrow = Session(county_site.store, User(None, "cun", "村", "村级经办", village))
    sync.sync(narrow, county_url)
    in_village = county_site.conn.execute("SELECT count(*) FROM households").fetchone()[0]
    assert 0 < in_village < local_counts(township)["households"]
    wide = Session(county_site.store, User(None, "xian", "县", "县级审批", "340223"))
    sync.sync(wide, county_url)
    assert local_counts(county_site) == local_counts(township)  # the county's user got the rest


def test_the_first_row_of_a_new_county_database_is_not_skipped(county_site, township, county_url):
    sync.sync(county_site, county_url)  # nothing of others there yet: the pull notes where it stands
    sync.sync(township, county_url)
    sync.sync(county_site, county_url)
    assert local_counts(county_site) == local_counts(township)


def test_a_sync_connection_bounds_how_long_it_can_hold_the_county(county_url, monkeypatch):
    monkeypatch.setenv("JIUZHU_COUNTY_HOLD_SECONDS", "7")

    def show(pg, name: str) -> str:
        return pg.execute(f"SHOW {name}").fetchone()[0]

    with county_db.connect(county_url) as pg:
        params = pg.info.get_parameters()
        assert params["keepalives"] == "1" and params["tcp_user_timeout"] == "90000"
        assert show(pg, "tcp_keepalives_idle") == "30" and show(pg, "tcp_user_timeout") == "90000"
        assert show(pg, "idle_in_transaction_session_timeout") == "30min"  # a pull holds no lock: long enough
        with pg.transaction():
            county_db.lock_for_writing(pg)
            holding = {n: show(pg, n) for n in ("statement_timeout", "idle_in_transaction_session_timeout",
                                                  "lock_timeout")}
        assert holding == {"statement_timeout": "7s", "idle_in_transaction_session_timeout": "7s",
                           "lock_timeout": "21s"}
        assert show(pg, "statement_timeout") == "0"  # only the transaction that held the lock was bounded


def test_a_site_whose_rows_stall_on_the_way_holds_no_lock(township, county_url, monkeypatch):
    # A server waiting for COPY data does not act on statement_timeout: rows must be at the county before the lock.
    import threading
    import uuid

    monkeypatch.setenv("JIUZHU_COUNTY_HOLD_SECONDS", "2")
    e = next(e for e in entities(township.conn) if e.table == "persons")
    rows = [tuple(r) for r in township.conn.execute(
        f"SELECT {', '.join(e.columns)}, 'site-a', '340223100201' FROM persons LIMIT 200")]
    half, stalled, done = threading.Event(), threading.Event(), []

    class Stalling(list):
        def __iter__(self):
            for n, row in enumerate(list.__iter__(self)):
                if n == 100:
                    half.set()
                    stalled.wait()
                yield row

    def site_a():
        with county_db.connect(county_url) as pg, pg.transaction():
            done.append(county_db.merge(pg, e, Stalling(rows)))

    a = threading.Thread(target=site_a)
    a.start()
    try:
        half.wait()  # site A is half-way through sending its batch
        other = (str(uuid.uuid4()), *rows[0][1:-2], "site-b", "340223100201")
        with county_db.connect(county_url) as pg, pg.transaction():
            # Within its lock_timeout (6 s): were A holding the lock, this would fail with LockNotAvailable.
            assert county_db.merge(pg, e, [other]).written == 1
    finally:
        stalled.set()
        a.join()
    assert done[0].written == 200
