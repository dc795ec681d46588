"""Recording and re-settling bills, search and the household summary."""

from __future__ import annotations

from decimal import Decimal

from app.services import bills, registry, search, summary
from app.store import audit

from .test_validation import bill


def test_bill_settles_on_the_categories_of_its_date(session, family, clerk):
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2023-06-01", None, "民政")
    before = bills.record_bill(clerk, head, bill(invoice_number="B1", admitted_on="2023-03-01",
                                                   discharged_on="2023-03-05", basic_paid="5000"))
    after = bills.record_bill(clerk, head, bill(invoice_number="B2", admitted_on="2023-07-01",
                                                  discharged_on="2023-07-05", basic_paid="5000"))
    assert before["applied_category"] == "普通参保居民" and before["assistance_paid"] == "0.00"
    # 低保 from June: the year's self-pay 4000 + 4000 counts (芜医保〔2021〕76号 二(二)5, 75%, no deductible),
    # and nothing was paid before, so the July bill receives 8000 × 75% = 6000.
    assert after["applied_category"] == "低保对象" and after["assistance_paid"] == "6000.00"
    steps = bills.unpack_steps(after["steps"])
    assert any("身份类别有变化" in s["explain"] for s in steps)


def test_an_earlier_bill_resettles_the_later_ones_and_is_audited(session, family, clerk):
    _, head, _ = family
    registry.set_category(session, head, "返贫致贫人口", "2020-01-01", None, "乡村振兴")
    late = bills.record_bill(clerk, head, bill(invoice_number="C2", discharged_on="2023-05-05",
                                                 admitted_on="2023-05-01"))
    # 返贫致贫人口: deductible 1500 a year, 70%: (4000 − 1500) × 70% = 1750
    assert late["assistance_paid"] == "1750.00"
    bills.record_bill(clerk, head, bill(invoice_number="C1", discharged_on="2023-02-05", admitted_on="2023-02-01"))
    rows = session.conn.execute("SELECT v.invoice_number, s.assistance_paid FROM settlements s JOIN visits v "
                                "ON v.id = s.visit_id ORDER BY v.discharged_on").fetchall()
    # Now the February bill takes the deductible: 1750 then 4000 × 70% = 2800 for May.
    assert [tuple(r) for r in rows] == [("C1", "1750.00"), ("C2", "2800.00")]
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert "重新结算" in actions
    assert audit.verify(session.conn) == []


def test_resettling_a_year_changes_nothing_twice(session, family, clerk):
    _, head, spouse = family
    for i, who in enumerate((head, spouse, head)):
        bills.record_bill(clerk, who, bill(invoice_number=f"D{i}", discharged_on=f"2023-0{i + 1}-10",
                                             admitted_on=f"2023-0{i + 1}-01"))
    assert list(bills.resettle_year(session, 2023))[-1][:3] == (2, 2, 0)
    # A category certified from January re-settles the head's two bills at once (特困 90%), audited…
    registry.set_category(session, head, "特困人员", "2023-01-01", None, "民政")
    rows = session.conn.execute("SELECT s.assistance_paid FROM settlements s JOIN visits v ON v.id = s.visit_id "
                                "WHERE v.person_id = ? ORDER BY v.discharged_on", (head,)).fetchall()
    assert [r[0] for r in rows] == ["3600.00", "3600.00"]  # (9000 − 5000) × 90% each
    assert [r[0] for r in session.conn.execute("SELECT action FROM audit_log WHERE action = '重新结算'")] == ["重新结算"] * 2
    # …so a county-wide re-settlement afterwards finds nothing to change.
    assert list(bills.resettle_year(session, 2023))[-1][2] == 0


def test_search_by_id_name_initials_and_village(session, family):
    hid, head, spouse = family
    other, _ = registry.register_household(session, "340223101202", "弋江镇某村 2 号",
                                           registry.PersonInput("张思", "340223199001010038"))
    names = lambda rows: sorted(r["name"] for r in rows)  # noqa: E731
    assert names(search.search_people(session, "zs")) == ["张三", "张思"]
    assert names(search.search_people(session, "张三")) == ["张三"]
    assert names(search.search_people(session, "110105")) == ["张三"]
    assert names(search.search_people(session, "", village="340223100201")) == ["张三", "李四"]
    assert names(search.search_people(session, "ls")) == ["李四"]


def test_household_summary_of_the_year(session, family, clerk):
    hid, head, spouse = family
    registry.set_category(session, head, "低保对象", "2022-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="E1"))
    bills.record_bill(clerk, spouse, bill(invoice_number="E2"))
    s = summary.household_year(session, hid, 2023)
    assert [m["name"] for m in s["members"]] == ["张三", "李四"]
    assert s["members"][0]["categories"][0]["category"] == "低保对象"
    assert Decimal(s["totals"]["total_cost"]) == Decimal("20000.00")
    assert s["totals"]["assistance_paid"] == "3000.00"  # (9000 − 5000) × 75% for the 低保 head only


def test_editing_people_and_periods_is_audited_and_resettles(session, family, clerk):
    hid, head, spouse = family
    registry.update_household(session, hid, "籍山镇某村 2 号")
    registry.update_person(session, spouse, registry.PersonInput("李思", valid_id_for_spouse(), "配偶"))
    assert search.search_people(session, "ls")[0]["name"] == "李思"
    period = registry.set_category(session, head, "低保对象", "2023-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="F1", discharged_on="2023-05-05", admitted_on="2023-05-01"))
    registry.update_category(session, period, "2023-01-01", "2023-03-31", "民政")  # ended before the bill
    row = session.conn.execute("SELECT assistance_paid, applied_category FROM settlements").fetchone()
    assert tuple(row) == ("0.00", "普通参保居民")
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert {"修改家庭", "修改人员", "修改身份类别", "重新结算"} <= set(actions)
    assert audit.verify(session.conn) == []


def valid_id_for_spouse() -> str:
    from .conftest import valid_id
    return valid_id("34022319520304002")


def test_a_year_whose_category_ends_shows_what_its_visits_received(session, family, clerk):
    """The annual row is what the visits were paid: the later visit, after 低保 ended, owes nothing back, and the
    year must not show the last run's smaller totals (which ignore what the earlier visit already received)."""
    import json

    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", "2023-06-30", "民政")
    first = bills.record_bill(clerk, head, bill(invoice_number="E1"))
    second = bills.record_bill(clerk, head, bill(invoice_number="E2", admitted_on="2023-08-01",
                                                   discharged_on="2023-08-05"))
    assert first["assistance_paid"] == "3000.00" and second["assistance_paid"] == "0.00"  # 4000 × 75%, then none
    row = session.conn.execute("SELECT totals FROM annual_settlements WHERE person_id = ?", (head,)).fetchone()
    totals = json.loads(row["totals"])
    assert totals["assistance_paid"] == "3000.00"
    assert totals["personal_pay"] == str(Decimal(first["personal_pay"]) + Decimal(second["personal_pay"]))


def test_a_bill_outside_the_insured_area_is_stored_sealed_and_not_assisted(session, family, clerk):
    """芜医保〔2021〕76号 二(二)5: 救助 only “在参保地定点医疗机构或按规定转诊异地就医（急诊、抢救除外）”; the bill keeps
    where it was treated and whether it was an emergency, sealed with its amounts."""
    from app.store.seal_check import broken_seals

    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2023-01-01", None, "民政")
    away = bills.record_bill(clerk, head, bill(invoice_number="G1", basic_paid="5000", in_insured_area=False))
    urgent = bills.record_bill(clerk, head, bill(invoice_number="G2", basic_paid="5000", in_insured_area=False,
                                                 emergency=True, discharged_on="2023-03-12"))
    assert away["assistance_paid"] == "0.00" and urgent["assistance_paid"] == "3000.00"
    stored = session.conn.execute("SELECT invoice_number, emergency, in_insured_area, filed_remote FROM visits "
                                  "ORDER BY invoice_number").fetchall()
    assert [tuple(r) for r in stored] == [("G1", 0, 0, 0), ("G2", 1, 0, 0)]
    assert broken_seals(session.conn) == []
    session.conn.execute("UPDATE visits SET in_insured_area = 1 WHERE invoice_number = 'G1'")  # edited behind our back
    assert broken_seals(session.conn)


def test_a_surname_read_otherwise_is_found_by_either_reading(session, family):
    """曾小贤 is stored as cxx (pypinyin's everyday 曾): zxx, as a caseworker says the surname, finds it too."""
    hid, _, _ = family
    for name, number in (("曾小贤", "340223199002020035"), ("单雄", "340223198505050047")):
        registry.add_member(session, hid, registry.PersonInput(name, number, "其他"))
    names = lambda rows: sorted(r["name"] for r in rows)  # noqa: E731
    assert names(search.search_people(session, "zxx")) == names(search.search_people(session, "cxx")) == ["曾小贤"]
    assert names(search.search_people(session, "sx")) == ["单雄"] and names(search.search_people(session, "dx")) == ["单雄"]
    assert names(search.search_people(session, "zs")) == ["张三"]  # a surname's reading reaches no other name
