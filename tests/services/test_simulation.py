"""政策测算: "no change" is the stored settlements to the fen; a 倾斜救助 rate moves 倾斜救助 only; several values side by
side; the CLI writes the workbook and the PDF and changes nothing (audit head and every table's rows); who may run it."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.documents.simulation_pdf import simulation_summary
from app.domain.errors import FieldError
from app.domain.money import ZERO, round_fen
from app.services import bills, county, demo, registry, simulation, users
from app.services.session import SYSTEM, Session
from app.services.simulation_tables import TIER_LABELS
from app.store.anchors import local_head
from app.store.store import open_store

from tests.store.test_cli_users import jiuzhu

from .conftest import clerk_for, valid_id
from .test_validation import bill

YEAR = 2025
STORED = ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid")


def tier(sim: simulation.Simulation, label: str) -> list[Decimal]:
    """A tier's row as 现行, then each proposal (its 增减 columns left out)."""
    row = next(r for r in sim.tables.tiers.rows if r[0] == label)
    return [row[1], *row[2::2]]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A small demo county of 2025 (芜湖's policy), one person's category starting between two of their bills."""
    path = tmp_path_factory.mktemp("simulate") / "county.sqlite3"
    store = open_store(path, daily_backup=False)
    session = Session(store, SYSTEM)
    demo.start_demo(session)
    for _ in demo.build_demo(session, 60, YEAR, seed=11, mean_visits=3.0):
        pass
    pid, first, last = store.conn.execute(
        "SELECT v.person_id, min(v.discharged_on), max(v.discharged_on) FROM visits v WHERE NOT EXISTS "
        "(SELECT 1 FROM category_periods c WHERE c.person_id = v.person_id) GROUP BY v.person_id "
        "HAVING count(*) >= 3 AND min(v.discharged_on) < max(v.discharged_on) ORDER BY 1 LIMIT 1").fetchone()
    registry.set_category(session, pid, "低保对象", last, None, "民政")
    bills.resettle_person_year(session, pid, YEAR)
    # 芜湖 二(二)5: a 低保对象 treated out of the insured area without referral or emergency gets no 救助 for it; the
    # simulation must read where each bill was treated, or it would pay what the stored settlement does not.
    away = store.conn.execute("SELECT c.person_id FROM category_periods c WHERE c.category = '低保对象' "
                              "AND c.valid_from <= '2025-06-01' ORDER BY 1 LIMIT 1").fetchone()[0]
    bills.record_bill(clerk_for(session, away), away, bills.BillInput(
        "上海市第六人民医院", "2025-06-01", "2025-06-20", "住院", "90000.00", "80000.00", "SIM-AWAY-1", "省级",
        in_insured_area=False), today=date(2026, 1, 15))
    store.close()
    return path


def test_no_change_is_the_stored_settlements_to_the_fen(demo_db):
    store = open_store(demo_db, daily_backup=False)
    session = Session(store, SYSTEM)
    assert store.conn.execute("SELECT count(*) FROM visits WHERE in_insured_area = 0").fetchone()[0] == 1
    sim = simulation.run(session, YEAR, [simulation.Proposal("方案", {"serious_illness_rate": "60%"})])
    stored = {t: sum((Decimal(r[0]) for r in store.conn.execute(f"SELECT {t} FROM settlements WHERE year = ?",
                                                                   (YEAR,))), ZERO) for t in STORED}
    for t, label in zip(STORED, TIER_LABELS):
        assert tier(sim, label) == [stored[t], stored[t]], label  # 60% is the demo's own value: no change
    assert sim.tables.fund[0] == stored["assistance_paid"] + stored["tilt_assistance_paid"]
    # By township and by month the rows add up to the same stored money.
    town = defaultdict(lambda: ZERO)
    for region, a, t in store.conn.execute(
            "SELECT h.region_code, s.assistance_paid, s.tilt_assistance_paid FROM settlements s JOIN persons p ON "
            "p.id = s.person_id JOIN households h ON h.id = p.household_id WHERE s.year = ?", (YEAR,)):
        town[region[:9]] += Decimal(a) + Decimal(t)
    assert sorted(r[1] for r in sim.tables.townships.rows[:-1]) == sorted(town.values())
    assert sim.tables.months.rows[-1][1] == sim.tables.fund[0]
    changes = {r[0]: r[1] for r in sim.tables.changes.rows}
    assert changes["受益人数"] == changes["减少人数"] == 0 and changes["不变人数"] == sim.people
    assert sim.tables.top[0].rows == ()
    store.close()


def test_a_lower_serious_illness_rate_moves_assistance_up_and_names_who_gains(demo_db):
    store = open_store(demo_db, daily_backup=False)
    sim = simulation.run(Session(store, SYSTEM), YEAR, simulation.proposals_from(["serious_illness_rate=50%/70%"], None))
    serious, assist = tier(sim, "大病保险"), tier(sim, "医疗救助")
    assert serious[1] < serious[0] < serious[2]
    assert assist[1] > assist[0] > assist[2]      # what 大病保险 no longer pays, 医疗救助 takes up in part
    assert tier(sim, "基本医保")[0] == tier(sim, "基本医保")[1] == tier(sim, "基本医保")[2]
    changes = {r[0]: r[1:] for r in sim.tables.changes.rows}
    assert changes["受益人数"][0] == 0 and changes["减少人数"][0] > 0
    assert changes["受益人数"][1] == changes["减少人数"][0]
    top = sim.tables.top[0].rows
    assert 0 < len(top) <= 20 and all(r[7] < 0 for r in top)
    assert [abs(r[7]) for r in top] == sorted((abs(r[7]) for r in top), reverse=True)
    store.close()


@pytest.fixture
def qiannan(session, family):
    """A 黔南 county: the 倾斜救助 rate and limit are the county's (三(四)), 60% and 50,000 today."""
    county.configure_county(session, "340223", "南陵县", "qiannan-2021", {"tilt_rate": "60%", "tilt_limit": "50000"})
    _, head, spouse = family
    registry.set_category(session, head, "特困人员", "2022-01-01", None, "民政")
    registry.set_category(session, spouse, "低保对象", "2022-01-01", None, "民政")
    clerk = clerk_for(session, head)
    # 黔南 tilt.yaml's first case: 30,000 beyond the limit, × 60% = 18,000 of 倾斜救助.
    bills.record_bill(clerk, head, bill(invoice_number="Q1", admitted_on="2023-04-01", discharged_on="2023-04-01",
                                        total_cost="200000", policy_covered="180000", basic_paid="90000",
                                        serious_illness_paid="10000", referred=True))
    bills.record_bill(clerk, spouse, bill(invoice_number="Q2", admitted_on="2023-05-01", discharged_on="2023-05-01",
                                          total_cost="20000", policy_covered="18000", basic_paid="9000"))
    return head, spouse


def test_the_tilt_rate_side_by_side_moves_tilt_assistance_only(session, qiannan):
    sim = simulation.run(session, 2023, simulation.proposals_from(["tilt_rate=50%/60%/70%"], None))
    assert [name for name, _ in sim.scenarios] == ["现行", "方案1", "方案2", "方案3"]
    assert "倾斜救助比例 70%" in sim.scenarios[3][1]
    assert tier(sim, "倾斜救助") == [Decimal("18000.00"), Decimal("15000.00"), Decimal("18000.00"), Decimal("21000.00")]
    assert len(set(tier(sim, "医疗救助"))) == 1 and len(set(tier(sim, "基本医保"))) == 1
    limits = {r[0]: r[1:] for r in sim.tables.limits.rows}
    assert limits["医疗救助年度限额（住院及慢特病门诊救助）"] == (1, 1, 1, 1)   # the head's 50,000
    top = sim.tables.top[2].rows
    assert [(r[1], r[7]) for r in top] == [("张三", Decimal("3000.00"))]
    # The year's records are kept between runs only while nothing changes: a new bill is in the next run.
    bills.record_bill(clerk_for(session, qiannan[1]), qiannan[1], bill(
        invoice_number="Q3", admitted_on="2023-06-01", discharged_on="2023-06-01", total_cost="200000",
        policy_covered="180000", basic_paid="90000", serious_illness_paid="10000", referred=True))
    again = simulation.run(session, 2023, simulation.proposals_from(["tilt_rate=50%/60%/70%"], None))
    assert again.visits == sim.visits + 1 and tier(again, "倾斜救助")[0] > tier(sim, "倾斜救助")[0]


def test_a_change_from_a_date_reaches_only_the_bills_after_it(session, qiannan):
    later = simulation.run(session, 2023, simulation.proposals_from(["tilt_limit=10000"], None), start="2023-06-01")
    assert tier(later, "倾斜救助") == [Decimal("18000.00")] * 2
    sooner = simulation.run(session, 2023, simulation.proposals_from(["tilt_limit=10000"], None), start="2023-03-01")
    assert tier(sooner, "倾斜救助") == [Decimal("18000.00"), Decimal("10000.00")]
    assert "（自 2023-03-01 起）" in sooner.scenarios[1][1]
    assert {r[0]: r[1:] for r in sooner.tables.limits.rows}["倾斜救助年度限额"] == (0, 1)


def test_values_the_policy_refuses_are_refused_by_name(session, qiannan):
    with pytest.raises(FieldError) as e:
        simulation.run(session, 2023, simulation.proposals_from(["tilt_rate=80%"], None))
    assert "倾斜救助比例" in str(e.value) and "70%" in str(e.value)
    with pytest.raises(FieldError) as e:
        simulation.proposals_from(["tilt_rate=50%/60%", "tilt_limit=1/2/3"], None)
    assert "个数必须相同" in str(e.value)
    with pytest.raises(FieldError):
        simulation.proposals_from([], None)
    with pytest.raises(FieldError) as e:
        simulation.run(session, 2021, simulation.proposals_from(["tilt_rate=50%"], None))
    assert "没有已录入的账单" in str(e.value)


def test_only_county_roles_and_the_administrator_may_simulate(session, qiannan):
    for role, jurisdiction, allowed in (("县级医保审核", "340223", True), ("县级审批", "340223", True),
                                        ("乡镇经办", "340223100", False), ("村级经办", "340223100201", False)):
        user = users.create_user(Session(session.store, SYSTEM), f"u{len(role)}{jurisdiction}", role, role,
                                 jurisdiction, "correct-horse")
        s = Session(session.store, user)
        assert s.may("simulate").allowed is allowed, role
        if not allowed:
            with pytest.raises(FieldError) as e:
                simulation.run(s, 2023, simulation.proposals_from(["tilt_rate=50%"], None))
            assert "政策测算" in str(e.value)
    assert session.may("simulate").allowed  # the administrator


def _snapshot(db) -> tuple:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()
    store = open_store(db, daily_backup=False)
    head = local_head(store.conn)
    store.close()
    return head, counts


def test_the_cli_writes_the_workbook_and_the_pdf_and_changes_nothing(demo_db, tmp_path):
    before = _snapshot(demo_db)
    out, pdf = tmp_path / "测算.xlsx", tmp_path / "测算.pdf"
    run = jiuzhu("simulate", "--db", str(demo_db), "--year", str(YEAR), "--local", "serious_illness_rate=50%/70%",
                 "--pdf", str(pdf), str(out))
    assert run.returncode == 0, run.stderr
    assert _snapshot(demo_db) == before
    assert "方案1：大病保险报销比例（普通参保居民） 50%" in run.stdout
    book = load_workbook(out, read_only=True)
    assert book.sheetnames[0] == "按待遇" and len(book.sheetnames) == 8
    rows = [r for r in book["按待遇"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "待遇")
    assert rows[header][:6] == ("待遇", "现行", "方案1", "方案1增减", "方案2", "方案2增减")
    assert len(PdfReader(pdf).pages) == 1
    bad = jiuzhu("simulate", "--db", str(demo_db), "--year", str(YEAR), "--local", "no_such=1")
    assert bad.returncode == 2 and "no_such" in bad.stderr
    alone = jiuzhu("simulate", "--db", str(demo_db), "--year", str(YEAR), "--from", "2025-06-01", "--policy", "x.yaml")
    assert alone.returncode == 2 and "--from" in alone.stderr
    assert _snapshot(demo_db) == before


def test_the_pdf_is_one_page_with_eight_columns(session, qiannan, tmp_path):
    sim = simulation.run(session, 2023, simulation.proposals_from(
        ["tilt_rate=30%/35%/40%/45%/50%/60%/70%"], None))
    path = simulation_summary(tmp_path / "s.pdf", sim)
    assert len(PdfReader(path).pages) == 1


def test_the_year_so_far_scaled_to_a_full_year(session, qiannan):
    """On 2023-07-01 the year has run 182 days: money × 365/182, people and months as recorded."""
    from datetime import datetime

    from app.store import clock

    with clock.freeze(datetime(2023, 7, 1, 10, 0)):
        so_far = simulation.run(session, 2023, simulation.proposals_from(["tilt_rate=70%"], None))
        whole = simulation.run(session, 2023, simulation.proposals_from(["tilt_rate=70%"], None), full_year=True)
    assert so_far.scale is None and so_far.period == "2023年1月1日至7月1日"
    assert whole.scale == Decimal(365) / Decimal(182) and "已过 182 天" in whole.scale_text
    assert tier(whole, "倾斜救助") == [round_fen(v * whole.scale) for v in tier(so_far, "倾斜救助")]
    assert whole.tables.months.rows == so_far.tables.months.rows and whole.people == so_far.people
    with pytest.raises(FieldError):
        simulation.run(session, 2024, simulation.proposals_from(["tilt_rate=70%"], None))
