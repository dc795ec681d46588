"""The 统计 figures: exact Decimal sums by category, township and month, jurisdiction, and the .xlsx export."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.domain.money import ZERO
from app.policy.loader import load_policy
from app.services import bills, registry, statistics, statistics_xlsx, users
from app.services.session import SYSTEM, Session
from app.domain.errors import FieldError
from app.store.errors import StoreError

from .conftest import clerk_for, valid_id
from .test_validation import bill

AMOUNT_NAMES = [name for name, _ in statistics.AMOUNTS]
JISHAN, YIJIANG = "340223100", "340223102"


@pytest.fixture
def county(session, family):
    """Two households in two townships; a category that starts mid-year; one bill of the year before."""
    _, head, spouse = family  # 籍山镇
    registry.set_category(session, head, "低保对象", "2022-01-01", None, "民政")
    registry.set_category(session, spouse, "低保对象", "2023-06-01", None, "民政")
    _, wang = registry.register_household(session, "340223102201", "弋江镇燕山村 3 号",
                                          registry.PersonInput("王五", valid_id("34022319500101003")))
    registry.set_category(session, wang, "特困人员", "2020-01-01", None, "民政")
    for who, invoice, day, total, covered, basic in (
            (head, "S1", "2023-03-05", "10000", "9000", "5000"),
            (head, "S2", "2023-07-10", "2000.50", "1500.25", "800"),
            (spouse, "S3", "2023-03-20", "10000", "9000", "5000"),
            (spouse, "S4", "2023-07-05", "10000", "9000", "5000"),
            (wang, "S5", "2023-07-15", "30000", "28000", "18000"),
            (wang, "S6", "2023-11-02", "1234.56", "1000", "500"),
            (head, "S0", "2022-12-30", "777.77", "700", "300")):
        bills.record_bill(clerk_for(session, who), who, bill(invoice_number=invoice, admitted_on=day, discharged_on=day,
                                             total_cost=total, policy_covered=covered, basic_paid=basic))
    return {"head": head, "spouse": spouse, "wang": wang}


def stored(session, year: int, first_month: int = 1, last_month: int = 12, scope: str = "") -> list[dict]:
    """The settled visits as stored, each with its township and month: the oracle the figures are checked against."""
    rows = session.conn.execute(
        "SELECT s.*, v.total_cost, v.policy_covered, v.discharged_on, h.region_code FROM settlements s "
        "JOIN visits v ON v.id = s.visit_id JOIN persons p ON p.id = s.person_id "
        "JOIN households h ON h.id = p.household_id WHERE v.discharged_on BETWEEN ? AND ?",
        (f"{year}-{first_month:02d}-01", f"{year}-{last_month:02d}-31")).fetchall()
    return [dict(r, township=r["region_code"][:9], month=int(r["discharged_on"][5:7]))
            for r in rows if r["region_code"].startswith(scope)]


def oracle(rows: list[dict], key: str) -> dict:
    """People, visits and Decimal sums by one key, summed the plain way."""
    out: dict = defaultdict(lambda: {"people": set(), "visits": 0, **{n: ZERO for n in AMOUNT_NAMES}})
    for r in rows:
        g = out[r[key]]
        g["people"].add(r["person_id"])
        g["visits"] += 1
        for n in AMOUNT_NAMES:
            g[n] += Decimal(r[n])
    return {k: {**g, "people": len(g["people"])} for k, g in out.items()}


def as_dict(row: statistics.Row) -> dict:
    return {name: row.value(name) for name, _ in statistics.COLUMNS}


def assert_matches(breakdown: statistics.Breakdown, expected: dict) -> None:
    got = {r.key: as_dict(r) for r in breakdown.rows if r.visits}
    assert got == expected
    assert all(r.people == 0 and all(r.value(n) == 0 for n in AMOUNT_NAMES) for r in breakdown.rows if not r.visits)


def test_breakdowns_match_the_stored_settlements_exactly(session, county):
    stats = statistics.year_statistics(session, 2023)
    rows = stored(session, 2023)
    assert_matches(stats.by_category, oracle(rows, "applied_category"))
    assert_matches(stats.by_township, oracle(rows, "township"))
    assert_matches(stats.by_month, oracle(rows, "month"))
    for b in stats.breakdowns:
        for r in (*b.rows, b.total):
            assert all(isinstance(r.value(n), Decimal) and r.value(n).as_tuple().exponent == -2 for n in AMOUNT_NAMES)


def test_figures_worked_by_hand(session, county):
    stats = statistics.year_statistics(session, 2023)
    town = {r.key: r for r in stats.by_township.rows}
    assert (town[JISHAN].label, town[JISHAN].people, town[JISHAN].visits) == ("籍山镇", 2, 4)
    assert town[JISHAN].total_cost == Decimal("32000.50")
    assert (town[YIJIANG].label, town[YIJIANG].people, town[YIJIANG].total_cost) == ("弋江镇", 1, Decimal("31234.56"))
    month = {r.key: r for r in stats.by_month.rows}
    assert (month[3].people, month[3].visits, month[3].total_cost) == (2, 2, Decimal("20000.00"))
    assert (month[7].people, month[7].visits, month[7].total_cost) == (3, 3, Decimal("42000.50"))
    assert (month[11].people, month[11].total_cost) == (1, Decimal("1234.56"))
    cat = {r.key: r for r in stats.by_category.rows}
    # 李四 became 低保对象 in June: March settles as 普通参保居民, and July receives the year's 补差,
    # (4000 + 4000) × 75% = 6000 (as in test_bills); 张三's March bill is (9000 − 5000) × 75% = 3000.
    assert (cat["低保对象"].people, cat["低保对象"].visits) == (2, 3)
    ordinary = cat["普通参保居民"]
    assert (ordinary.people, ordinary.visits, ordinary.assistance_paid) == (1, 1, Decimal("0.00"))
    assert (cat["特困人员"].people, cat["特困人员"].visits) == (1, 2)
    low = [r for r in stored(session, 2023) if r["applied_category"] == "低保对象"]
    assert sorted(Decimal(r["assistance_paid"]) for r in low if r["total_cost"] == "10000.00") == [3000, 6000]


def test_grand_total_is_the_sum_of_the_settlements(session, county):
    stats = statistics.year_statistics(session, 2023)
    rows = stored(session, 2023)
    total = stats.total
    assert (total.label, total.people, total.visits) == ("合计", 3, 6)
    for n in AMOUNT_NAMES:
        assert total.value(n) == sum((Decimal(r[n]) for r in rows), ZERO)
    assert total.total_cost == Decimal("63235.06")  # the 2022 bill is not in 2023
    for b in stats.breakdowns:
        assert b.total == total
        assert sum(r.visits for r in b.rows) == total.visits
        for n in AMOUNT_NAMES:
            assert sum((r.value(n) for r in b.rows), ZERO) == total.value(n)
    # A person counts once in 合计 but under each category (and month) they had a visit in.
    assert sum(r.people for r in stats.by_category.rows) == 4
    assert sum(r.people for r in stats.by_township.rows) == total.people


def test_rows_come_in_the_policy_order_by_code_and_by_month(session, county):
    stats = statistics.year_statistics(session, 2023)
    assert [r.key for r in stats.by_category.rows] == [c.name for c in load_policy("wuhu-2022").policy.categories]
    towns = [r.key for r in stats.by_township.rows]
    assert towns == sorted(towns) and len(towns) == 9 and towns[0] == JISHAN  # every township of 南陵县, zeros too
    assert [r.key for r in stats.by_month.rows] == list(range(1, 13))
    assert [r.label for r in stats.by_month.rows][:2] == ["1月", "2月"]
    assert stats.place == "南陵县" and stats.period == "2023年"


def test_a_month_range(session, county):
    stats = statistics.year_statistics(session, 2023, 3, 7)
    assert [r.key for r in stats.by_month.rows] == [3, 4, 5, 6, 7]
    assert (stats.total.visits, stats.total.total_cost) == (5, Decimal("62000.50"))
    assert_matches(stats.by_category, oracle(stored(session, 2023, 3, 7), "applied_category"))
    assert stats.period == "2023年3—7月"
    assert statistics.year_statistics(session, 2023, 11, 11).period == "2023年11月"


def test_a_township_user_sees_only_its_township(session, county):
    clerk = users.create_user(session, "xiang", "乡镇经办", "乡镇经办", JISHAN, "correct-horse-2")
    stats = statistics.year_statistics(Session(session.store, clerk), 2023)
    assert [(r.key, r.label) for r in stats.by_township.rows] == [(JISHAN, "籍山镇")]
    assert stats.place == "南陵县籍山镇"
    rows = stored(session, 2023, scope=JISHAN)
    assert_matches(stats.by_category, oracle(rows, "applied_category"))
    assert_matches(stats.by_month, oracle(rows, "month"))
    county_wide = {r.key: r for r in statistics.year_statistics(session, 2023).by_township.rows}
    assert as_dict(stats.total) == as_dict(county_wide[JISHAN])
    assert "特困人员" not in {r.key for r in stats.by_category.rows if r.visits}  # 王五 lives in 弋江镇


def test_a_village_user_sees_its_village(session, county):
    clerk = users.create_user(session, "cun", "村级经办", "村级经办", "340223102201", "correct-horse-2")
    stats = statistics.year_statistics(Session(session.store, clerk), 2023)
    assert stats.place == "南陵县弋江镇燕山村委会"
    assert [r.key for r in stats.by_township.rows] == [YIJIANG]
    assert (stats.total.people, stats.total.visits, stats.total.total_cost) == (1, 2, Decimal("31234.56"))


def test_a_year_without_bills_is_all_zeros(session, county):
    stats = statistics.year_statistics(session, 2021)
    assert stats.total.visits == 0 and stats.total.total_cost == Decimal("0.00")
    assert len(stats.by_month.rows) == 12 and all(r.visits == 0 for r in stats.by_category.rows)
    assert statistics.years(session) == [2023, 2022]


def test_a_township_outside_the_bundled_lists_shows_its_code(session, county):
    system = Session(session.store, SYSTEM)
    registry.register_household(system, "520222100201", "外县某村",
                                registry.PersonInput("赵六", valid_id("52022219600101001")))
    person = session.conn.execute("SELECT id FROM persons WHERE name = '赵六'").fetchone()[0]
    bills.record_bill(system, person, bill(invoice_number="X1"))
    rows = {r.key: r.label for r in statistics.year_statistics(system, 2023).by_township.rows}
    assert rows["520222100"] == "520222100" and rows[JISHAN] == "籍山镇"


def test_amounts_not_written_by_fmt_are_still_summed_exactly(session, county):
    before = statistics.year_statistics(session, 2023)
    # The demo generator stores a bill's own figures as str(Decimal): no decimals, or one.
    session.conn.execute("UPDATE visits SET total_cost = '10000' WHERE invoice_number = 'S1'")
    session.conn.execute("UPDATE visits SET total_cost = '2000.5' WHERE invoice_number = 'S2'")
    assert as_dict(statistics.year_statistics(session, 2023).total) == as_dict(before.total)
    # Three decimals cannot be read as fen in SQL: those sums are taken row by row in Decimal instead.
    session.conn.execute("UPDATE settlements SET assistance_paid = assistance_paid || '0'")
    after = statistics.year_statistics(session, 2023)
    for b_after, b_before in zip(after.breakdowns, before.breakdowns):
        assert [as_dict(r) for r in b_after.rows] == [as_dict(r) for r in b_before.rows]
    session.conn.execute("UPDATE settlements SET personal_pay = 'n/a' WHERE rowid = 1")
    with pytest.raises(StoreError, match="无法识别的金额"):
        statistics.year_statistics(session, 2023)


def test_bad_periods_are_refused(session):
    with pytest.raises(FieldError) as info:
        statistics.year_statistics(session, 2023, 7, 3)
    assert info.value.field == "months"
    with pytest.raises(FieldError):
        statistics.year_statistics(session, 2023, 0, 12)
    with pytest.raises(FieldError):
        statistics.year_statistics(session, "2023")


def test_xlsx_round_trip(session, county, tmp_path):
    stats = statistics.year_statistics(session, 2023)
    path = statistics_xlsx.export_statistics(stats, tmp_path / "统计.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["按类别", "按乡镇", "按月份"]
    ws = wb["按乡镇"]
    assert "南陵县2023年医疗救助统计" in ws["A1"].value and "生成时间" in ws["A2"].value
    headers = [c.value for c in ws[3]]
    assert headers == ["乡镇（街道）", "区划代码", "人数", "人次", "医疗费用总额", "政策范围内费用", "基本医保统筹支付",
                       "大病保险支付", "医疗救助支付", "倾斜救助支付", "个人自付"]
    assert ws.freeze_panes == "B4"
    lines = {r[0].value: r for r in ws.iter_rows(min_row=4)}
    jishan = lines["籍山镇"]
    assert jishan[1].value == JISHAN and (jishan[2].value, jishan[3].value) == (2, 4)
    assert Decimal(str(jishan[4].value)) == Decimal("32000.50") and jishan[4].number_format == "#,##0.00"
    total = lines["合计"]
    for cell, name in zip(total[2:], [n for n, _ in statistics.COLUMNS]):
        assert Decimal(str(cell.value)) == stats.total.value(name)
    months = wb["按月份"]
    assert [c.value for c in months[3]][:2] == ["月份", "人数"]
    july = next(r for r in months.iter_rows(min_row=4) if r[0].value == "7月")
    assert (july[1].value, july[2].value, Decimal(str(july[3].value))) == (3, 3, Decimal("42000.50"))
    cats = wb["按类别"]
    assert cats["A4"].value == "特困人员" and isinstance(cats["D4"].value, (int, float))
    assert [p.name for p in tmp_path.iterdir() if "xlsx" in p.name] == ["统计.xlsx"]  # no temporary left behind


def test_a_failed_export_leaves_the_old_file_and_no_temporary(session, county, tmp_path, monkeypatch):
    stats = statistics.year_statistics(session, 2023)
    target = tmp_path / "out" / "统计.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"old")

    def broken_close(self):
        Path(self.filename).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr("xlsxwriter.Workbook.close", broken_close)
    with pytest.raises(OSError, match="disk full"):
        statistics_xlsx.export_statistics(stats, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["统计.xlsx"]
    monkeypatch.undo()
    statistics_xlsx.export_statistics(stats, target)  # and an export over an existing file replaces it
    assert load_workbook(target).sheetnames == ["按类别", "按乡镇", "按月份"]
    assert [p.name for p in target.parent.iterdir()] == ["统计.xlsx"]
