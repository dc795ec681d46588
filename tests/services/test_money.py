"""Money as facts: bills voided and corrected, payments never rewritten, 补付/追回 lines for paid amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.errors import FieldError
from app.domain.money import fmt
from app.services import bill_changes, bills, county, disbursement, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store import audit
from app.store.check import check_database
from app.store.store import open_store

from .test_validation import bill


def _settled(session, visit_id: str) -> dict:
    return dict(session.conn.execute("SELECT * FROM settlements WHERE visit_id = ?", (visit_id,)).fetchone())


def _lines(session, visit_id: str) -> list[dict]:
    return [dict(r) for r in session.conn.execute("SELECT * FROM payment_lines WHERE visit_id = ? ORDER BY created_at",
                                                  (visit_id,))]


def _reviewer(session) -> Session:
    user = users.create_user(Session(session.store, SYSTEM), "shenhe", "乡镇审核员", "乡镇审核", "340223100",
                             "correct-horse")
    return Session(session.store, user)


def _invariant(session) -> None:
    """Every tier that has payment lines: they add up to what the tier is due now."""
    rows = session.conn.execute("SELECT visit_id, tier, sum(CAST(amount AS REAL)) FROM payment_lines "
                                "GROUP BY visit_id, tier").fetchall()
    for visit_id, tier, _ in rows:
        total = sum((Decimal(r["amount"]) for r in _lines(session, visit_id) if r["tier"] == tier), Decimal(0))
        assert total == Decimal(_settled(session, visit_id)[tier]), (visit_id, tier)


def test_a_voided_bill_resettles_the_later_ones_and_its_invoice_may_return(session, family, clerk):
    _, head, _ = family
    registry.set_category(session, head, "返贫致贫人口", "2020-01-01", None, "乡村振兴")
    bills.record_bill(clerk, head, bill(invoice_number="C1", discharged_on="2023-02-05", admitted_on="2023-02-01"))
    late = bills.record_bill(clerk, head, bill(invoice_number="C2", discharged_on="2023-05-05",
                                               admitted_on="2023-05-01"))
    assert late["assistance_paid"] == "2800.00"  # the February bill took the 1500 deductible
    first = bill_changes.find_bill(clerk, "南陵县医院", "C1")
    changed = bill_changes.void_bill(clerk, first["id"], "医院冲正，发票作废")
    # Nothing of the office's was paid yet: its amounts are replaced. The slip's basic 5000 the hospital paid is
    # reversed by the hospital (one 追回 line, paid at once).
    assert changed.settlements == 2 and changed.adjustments == 1 and changed.unpaid > 0
    assert [(r["tier"], r["amount"], bool(r["paid_at"])) for r in _lines(session, first["id"])][1:] == [
        ("basic_paid", "-5000.00", True)]
    # The May bill takes the deductible again: (4000 − 1500) × 70% = 1750; the voided one is due nothing.
    assert _settled(session, late["visit_id"])["assistance_paid"] == "1750.00"
    assert _settled(session, first["id"])["assistance_paid"] == "0.00"
    listed = bill_changes.person_bills(clerk, head, 2023)
    assert [(b["invoice_number"], b["status_name"]) for b in listed] == [("C1", "已作废"), ("C2", "有效")]
    assert listed[0]["void_reason"] == "医院冲正，发票作废"
    # The voided invoice may be entered again; two live ones may not.
    again = bills.record_bill(clerk, head, bill(invoice_number="C1", discharged_on="2023-02-05",
                                                admitted_on="2023-02-01"))
    assert again["assistance_paid"] == "1750.00"
    with pytest.raises(FieldError) as info:
        bills.record_bill(clerk, head, bill(invoice_number="C1", discharged_on="2023-02-05", admitted_on="2023-02-01"))
    assert info.value.field == "invoice_number" and "重复报销" in str(info.value)
    with pytest.raises(FieldError, match="已作废，不能再作废"):
        bill_changes.void_bill(clerk, first["id"], "再作废一次")
    assert audit.verify(session.conn) == []
    assert check_database(session.store.path) == []


def test_two_sessions_saving_one_invoice_get_the_duplicate_message(session, family, clerk, tmp_path, monkeypatch):
    _, head, _ = family
    other = Session(open_store(session.store.path, daily_backup=False), clerk.user)
    try:
        first = bills.checked(clerk, head, bill(invoice_number="X1"), None)
        second = bills.checked(other, head, bill(invoice_number="X1"), None)  # both checked before either saved
        with bills.transaction(clerk.conn):
            bills.insert_bill(clerk, first, "登记就诊", "test")
        # The other session's own check inside its write lock sees it …
        with pytest.raises(FieldError, match="重复报销"):
            with bills.transaction(other.conn):
                bills.insert_bill(other, second, "登记就诊", "test")
        # … and were that check to miss it, the unique index on live bills answers the same way, not IntegrityError.
        monkeypatch.setattr(bills, "duplicate_invoice", lambda *a: None)
        with pytest.raises(FieldError, match="重复报销"):
            with bills.transaction(other.conn):
                bills.insert_bill(other, {**second, "id": "another"}, "登记就诊", "test")
    finally:
        other.store.close()
    assert session.conn.execute("SELECT count(*) FROM visits WHERE invoice_number = 'X1'").fetchone()[0] == 1


def test_a_correction_voids_and_links_and_may_keep_the_invoice(session, family, clerk):
    _, head, _ = family
    wrong = bills.record_bill(clerk, head, bill(invoice_number="T1", total_cost="10000"))
    new = bill_changes.correct_bill(clerk, wrong["visit_id"], bill(invoice_number="T1", total_cost="11000"),
                                    "总额录错")
    listed = {b["id"]: b for b in bill_changes.person_bills(clerk, head)}
    assert listed[wrong["visit_id"]]["status"] == "void"
    assert listed[wrong["visit_id"]]["corrected_by"] == new["visit_id"]
    assert listed[new["visit_id"]]["corrects_id"] == wrong["visit_id"]
    assert listed[new["visit_id"]]["total_cost"] == "11000.00"
    # The hospital's basic payment of the voided slip was reversed by the hospital, and the new slip's recorded.
    old_basic = [(r["line_type"], r["amount"]) for r in _lines(session, wrong["visit_id"]) if r["tier"] == "basic_paid"]
    assert old_basic == [("原始", "5000.00"), ("追回", "-5000.00")]
    _invariant(session)


def test_only_bill_recorders_void(session, family, clerk):
    _, head, _ = family
    b = bills.record_bill(clerk, head, bill())
    with pytest.raises(FieldError) as info:
        bill_changes.void_bill(session, b["visit_id"], "管理员想作废")  # the administrator records no money
    assert info.value.field == "role"
    with pytest.raises(FieldError) as info:
        bill_changes.void_bill(clerk, b["visit_id"], "  ")
    assert info.value.field == "void_reason"


def test_paid_amounts_never_change_and_adjustments_make_up_the_difference(session, family, clerk):
    """The done-when check: pay a year, change a local value that moves assistance, re-settle."""
    _, head, spouse = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    registry.set_category(session, spouse, "特困人员", "2020-01-01", None, "民政")
    visits = []
    for i, who in enumerate((head, spouse, head, spouse)):
        # No basic figure on the slip: the engine computes it with the county's rate, which the change moves.
        visits.append(bills.record_bill(clerk, who, bill(
            invoice_number=f"P{i}", discharged_on=f"2023-0{i + 1}-10", admitted_on=f"2023-0{i + 1}-01",
            total_cost="30000", policy_covered="28000", basic_paid=None, serious_illness_paid=None))["visit_id"])

    def office_total() -> Decimal:
        return sum((Decimal(_settled(session, v)[t]) for v in visits
                    for t in ("assistance_paid", "tilt_assistance_paid")), Decimal(0))

    batch = disbursement.create_batch(clerk, 2023)
    assert batch["line_count"] >= 4 and Decimal(batch["total"]) == office_total()
    with pytest.raises(FieldError, match="职责分离|不能确认"):
        disbursement.confirm_batch(clerk, batch["id"])
    reviewer = _reviewer(session)
    disbursement.confirm_batch(reviewer, batch["id"])
    paid_before = [dict(r) for r in session.conn.execute("SELECT * FROM payment_lines ORDER BY id")]
    assert all(r["paid_at"] for r in paid_before)
    old = office_total()

    county.configure_county(session, "340223", "南陵县", "wuhu-2022", {**DEMO_LOCAL, "basic_inpatient_rate": "60%"})
    session._cache.clear()
    progress = list(bills.resettle_year(Session(session.store, SYSTEM), 2023))[-1]
    new = office_total()
    assert new > old  # less from the basic insurance, more assistance
    # Paid: adjusted. Replaced: the engine's own basic and 大病 figures (no slip gave them), which nobody here paid.
    assert progress.adjustments > 0 and progress.unpaid > 0
    # Every line paid before is exactly as it was …
    for before in paid_before:
        now = dict(session.conn.execute("SELECT * FROM payment_lines WHERE id = ?", (before["id"],)).fetchone())
        assert now == before
    # … and the adjustment lines add up to the difference between the old and new computed totals.
    lines = disbursement.adjustments(clerk, 2023)
    office = [r for r in lines if r["tier"] in ("assistance_paid", "tilt_assistance_paid")]
    assert sum((Decimal(r["amount"]) for r in office), Decimal(0)) == new - old
    assert all(r["line_type"] == "补付" and r["state_name"] == "待发放" and "地方参数" in r["reason"] for r in office)
    for r in office:
        assert Decimal(r["new_amount"]) - Decimal(r["old_amount"]) == Decimal(r["amount"])
    _invariant(session)
    # The next batch pays exactly the adjustments, and nothing is paid twice.
    second = disbursement.create_batch(clerk, 2023)
    assert Decimal(second["total"]) == new - old
    assert check_database(session.store.path) == []
    assert audit.verify(session.conn) == []


def test_the_annual_slip_agrees_with_the_amounts_after_resettlement(session, family, clerk, tmp_path):
    from app.services import paperwork
    from app.services.bills import unpack_steps

    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    for i in range(3):
        bills.record_bill(clerk, head, bill(invoice_number=f"S{i}", discharged_on=f"2023-0{i + 1}-10",
                                            admitted_on=f"2023-0{i + 1}-01", total_cost="60000",
                                            policy_covered="55000", basic_paid=None, serious_illness_paid=None))
    disbursement.confirm_batch(_reviewer(session), disbursement.create_batch(clerk, 2023)["id"])
    county.configure_county(session, "340223", "南陵县", "wuhu-2022", {**DEMO_LOCAL, "basic_inpatient_rate": "50%"})
    session._cache.clear()
    list(bills.resettle_year(Session(session.store, SYSTEM), 2023))
    rows = session.conn.execute("SELECT s.* FROM settlements s JOIN visits v ON v.id = s.visit_id "
                                "WHERE v.person_id = ? ORDER BY v.discharged_on", (head,)).fetchall()
    running = Decimal(0)
    for r in rows:
        steps = unpack_steps(r["steps"])
        told = [s for s in steps if s["tier"] == "医疗救助" and "本年已" in s["explain"]]
        # Each explanation deducts what the year's earlier bills are due now, and names this bill's current amount.
        for s in told:
            assert f"本年已救助 {running:.2f}" in s["explain"] or f"本年已付 {running:.2f}" in s["explain"], s
            assert s["amount"] == r["assistance_paid"]
        running += Decimal(r["assistance_paid"])
    content = paperwork.year_slip_content(session, head, 2023)
    assert content["totals"]["assistance_paid"] == f"{running:.2f}"
    for v in content["visits"]:
        net = Decimal(v["original"]["assistance_paid"]) + sum(
            (Decimal(a["amount"]) for a in v["adjustments"] if a["tier"] == "assistance_paid"), Decimal(0))
        assert net == Decimal(v["assistance_paid"])
    pdf = paperwork.settlement_slip(session, tmp_path / "slip.pdf", person_id=head, year=2023)
    assert pdf.stat().st_size > 0


def test_a_roster_with_recoveries_prints_what_to_pay_and_what_to_recover(session, family, clerk, tmp_path):
    from pypdf import PdfReader

    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    b = bills.record_bill(clerk, head, bill(invoice_number="R1"))
    disbursement.confirm_batch(_reviewer(session), disbursement.create_batch(clerk, 2023)["id"])
    bill_changes.void_bill(clerk, b["visit_id"], "发票作废")
    batch = disbursement.create_batch(clerk, 2023)
    assert Decimal(batch["total"]) < 0
    text = PdfReader(str(disbursement.roster_pdf(clerk, batch["id"], tmp_path / "r.pdf"))).pages[0].extract_text()
    assert "应追回金额" in text and "追回·医疗救助" in text


def test_a_local_value_from_a_date_reaches_only_later_bills_and_is_previewed(session, family, clerk):
    _, head, _ = family
    before = bills.record_bill(clerk, head, bill(invoice_number="L1", discharged_on="2023-02-10",
                                                 admitted_on="2023-02-01", basic_paid=None, serious_illness_paid=None))
    after = bills.record_bill(clerk, head, bill(invoice_number="L2", discharged_on="2023-06-10",
                                                admitted_on="2023-06-01", basic_paid=None, serious_illness_paid=None))
    with pytest.raises(FieldError) as info:
        county.set_local_from(session, "basic_inpatient_rate", "七成", "2023-03-01")
    assert "basic_inpatient_rate" in info.value.field
    years = county.set_local_from(session, "basic_inpatient_rate", "60%", "2023-03-01")
    assert years == [2023]
    entries = session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    preview = bills.preview_resettle(Session(session.store, SYSTEM), 2023)
    assert preview.changed == 1  # only the June bill: February keeps the rate in force then
    assert session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == entries  # nothing written
    assert _settled(session, after["visit_id"])["basic_paid"] == after["basic_paid"]
    done = list(bills.resettle_year(Session(session.store, SYSTEM), 2023))[-1]
    assert done.changed == preview.changed and done.unpaid == preview.unpaid
    assert _settled(session, before["visit_id"])["basic_paid"] == before["basic_paid"]
    assert Decimal(_settled(session, after["visit_id"])["basic_paid"]) < Decimal(after["basic_paid"])


def test_voided_bills_are_left_out_of_summaries_and_statistics(session, family, clerk):
    from app.services import statistics, summary

    hid, head, spouse = family
    bills.record_bill(clerk, head, bill(invoice_number="V1"))
    voided = bills.record_bill(clerk, spouse, bill(invoice_number="V2"))
    bill_changes.void_bill(clerk, voided["visit_id"], "录错了人")
    s = summary.household_year(session, hid, 2023)
    assert Decimal(s["totals"]["total_cost"]) == Decimal("10000.00")
    total = statistics.year_statistics(session, 2023).by_month.total
    assert (total.visits, total.people, total.total_cost) == (1, 1, Decimal("10000.00"))


def test_a_category_certified_after_payment_makes_a_top_up_naming_it(session, family, clerk):
    _, head, _ = family
    paid = bills.record_bill(clerk, head, bill(invoice_number="K1"))
    assert paid["assistance_paid"] == "0.00"  # 普通参保居民: nothing yet, so nothing to pay
    registry.set_category(session, head, "低保对象", "2023-01-01", None, "民政")
    b = disbursement.create_batch(clerk, 2023)
    disbursement.confirm_batch(_reviewer(session), b["id"])
    assert Decimal(b["total"]) == Decimal("3000.00")  # (9000 − 5000) × 75%, paid
    registry.set_category(session, head, "特困人员", "2023-01-01", None, "民政")  # 90%: 3600 now
    lines = disbursement.adjustments(clerk, 2023)
    assert [(r["line_type"], r["old_amount"], r["new_amount"], r["amount"], r["reason"]) for r in lines] == [
        ("补付", "3000.00", "3600.00", "600.00", "身份类别变更")]
    _invariant(session)


def test_the_annual_slip_lists_the_recovery_of_a_paid_bill_voided_since(session, family, clerk, tmp_path):
    from pypdf import PdfReader

    from app.services import paperwork

    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    paid = bills.record_bill(clerk, head, bill(invoice_number="V1"))
    bills.record_bill(clerk, head, bill(invoice_number="V2", admitted_on="2023-06-01", discharged_on="2023-06-05"))
    disbursement.confirm_batch(_reviewer(session), disbursement.create_batch(clerk, 2023)["id"])
    bill_changes.void_bill(clerk, paid["visit_id"], "医院冲正")
    content = paperwork.year_slip_content(session, head, 2023)
    assert [v["invoice_number"] for v in content["visits"]] == ["V2"]
    assert [(v["invoice_number"], a["kind"]) for v in content["voided"] for a in v["adjustments"]
            if a["tier"] == "assistance_paid"] == [("V1", "追回")]
    pdf = paperwork.settlement_slip(session, tmp_path / "slip.pdf", person_id=head, year=2023)
    text = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "（已作废）" in text and "追回" in text


def test_a_batch_prints_each_persons_year_slip_in_one_file(session, family, clerk, tmp_path):
    """One 结算单 per person paid in the batch, each from a new page, in the roster's order; one whose bills were all
    voided since has only a 追回 on the roster and is named on the last page."""
    from pypdf import PdfReader

    _, head, spouse = family
    for who in (head, spouse):
        registry.set_category(session, who, "低保对象", "2020-01-01", None, "民政")
    first = bills.record_bill(clerk, head, bill(invoice_number="B1"))
    bills.record_bill(clerk, head, bill(invoice_number="B2", admitted_on="2023-06-01", discharged_on="2023-06-05"))
    gone = bills.record_bill(clerk, spouse, bill(invoice_number="B3"))
    disbursement.confirm_batch(_reviewer(session), disbursement.create_batch(clerk, 2023)["id"])
    paid = disbursement.batches(clerk, 2023)[0]
    pages = [p.extract_text() for p in PdfReader(str(disbursement.slips_pdf(clerk, paid["id"], tmp_path / "a.pdf"))).pages]
    name = {who: session.conn.execute("SELECT name FROM persons WHERE id = ?", (who,)).fetchone()[0]
            for who in (head, spouse)}
    assert len(pages) == 2 and all("患者或家属签字" in p for p in pages)
    by_name = {who: [i for i, p in enumerate(pages) if name[who] in p] for who in (head, spouse)}
    assert sorted(by_name[head] + by_name[spouse]) == [0, 1]
    assert "年度汇总" in pages[by_name[head][0]] and "年度汇总" not in pages[by_name[spouse][0]]
    bill_changes.void_bill(clerk, gone["visit_id"], "医院冲正")
    bill_changes.void_bill(clerk, first["visit_id"], "医院冲正")
    recovering = disbursement.create_batch(clerk, 2023)
    text = [p.extract_text() for p in PdfReader(str(disbursement.slips_pdf(clerk, recovering["id"],
                                                                           tmp_path / "b.pdf"))).pages]
    assert "账单都已作废" in text[-1] and name[spouse] in text[-1]
    assert "（已作废）" in text[0] and "追回" in text[0]


def test_a_cancelled_or_empty_batch_prints_no_slips(session, family, clerk, tmp_path):
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="C1"))
    made = disbursement.create_batch(clerk, 2023)
    disbursement.cancel_batch(clerk, made["id"], "金额有误")
    with pytest.raises(FieldError, match="已撤销"):
        disbursement.slips_pdf(clerk, made["id"], tmp_path / "c.pdf")
    assert not (tmp_path / "c.pdf").exists()


@pytest.mark.parametrize("first, then", [("confirm", "cancel"), ("cancel", "confirm"), ("confirm", "confirm")])
def test_a_batch_confirmed_or_cancelled_on_another_computer_meanwhile_is_refused_whole(session, family, clerk,
                                                                                       monkeypatch, first, then):
    """The batch's state is read inside the write lock: the other computer's confirm or cancel, committed after this
    one's screen was drawn and before it writes, is seen, and nothing is paid twice or paid after a cancel."""
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="R1"))
    batch = disbursement.create_batch(clerk, 2023)
    reviewer = _reviewer(session)
    elsewhere = Session(open_store(session.store.path, daily_backup=False), reviewer.user)
    act = {"confirm": lambda s: disbursement.confirm_batch(s, batch["id"]),
           "cancel": lambda s: disbursement.cancel_batch(s if s is elsewhere else clerk, batch["id"], "花名册有误，重新生成")}
    real = disbursement.transaction
    pending = [lambda: act[first](elsewhere)]
    lines = "SELECT * FROM payment_lines ORDER BY id"
    before = []

    def other_computer_first(conn):
        while pending:
            pending.pop()()
            before.extend(dict(r) for r in session.conn.execute(lines))
        return real(conn)

    monkeypatch.setattr(disbursement, "transaction", other_computer_first)
    try:
        with pytest.raises(FieldError, match="不能再"):
            act[then](reviewer)
    finally:
        elsewhere.store.close()
    after = [dict(r) for r in session.conn.execute(lines)]
    state = session.conn.execute("SELECT state FROM disbursement_batches WHERE id = ?", (batch["id"],)).fetchone()[0]
    assert state == {"confirm": "paid", "cancel": "cancelled"}[first]
    assert after == before and check_database(session.store.path) == []


def _office_paid(session, visit_id: str) -> Decimal:
    """What went out to the family for the office's tiers: its paid lines."""
    return sum((Decimal(r["amount"]) for r in _lines(session, visit_id)
                if r["paid_at"] and r["tier"] in ("assistance_paid", "tilt_assistance_paid")), Decimal(0))


def _printed_then_changed(session, family, clerk) -> tuple[str, str, dict]:
    """Two bills on a printed batch; then more is due on the first (特困 certified) and the second is voided."""
    _, head, spouse = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    registry.set_category(session, spouse, "低保对象", "2020-01-01", None, "民政")
    raised = bills.record_bill(clerk, head, bill(invoice_number="K1"))["visit_id"]
    voided = bills.record_bill(clerk, spouse, bill(invoice_number="K2"))["visit_id"]
    first = disbursement.create_batch(clerk, 2023)
    registry.set_category(session, head, "特困人员", "2023-01-01", None, "民政")  # more is due on K1
    bill_changes.void_bill(clerk, voided, "医院冲正，发票作废")
    return raised, voided, first


def test_a_batch_cancelled_after_its_amount_changed_leaves_the_next_batch_to_pay_the_amount_due(session, family, clerk,
                                                                                                monkeypatch, tmp_path):
    """The 补付 made against a printed, unpaid 原始 line is withdrawn with it: the next batch pays the whole amount
    due then (it paid only the 补付 before, and a voided bill's 追回 recovered money never paid)."""
    raised, voided, first = _printed_then_changed(session, family, clerk)
    assert {r["line_type"] for r in disbursement.adjustments(clerk, 2023)} == {"补付", "追回"}
    disbursement.cancel_batch(clerk, first["id"], "花名册有误")
    assert {r["state_name"] for r in disbursement.adjustments(clerk, 2023)
            if r["tier"] == "assistance_paid"} == {"已随花名册撤回"}
    from app.documents import forms
    printed: list = []
    monkeypatch.setattr(forms, "roster", lambda path, place, title, rows: printed.extend(rows) or path)
    disbursement.roster_pdf(clerk, first["id"], tmp_path / "r.pdf")  # reprinted for the file: as it was printed
    assert len(printed) == first["line_count"]
    assert sum((Decimal(r["amount"]) for r in printed), Decimal(0)) == Decimal(first["total"])
    second = disbursement.create_batch(clerk, 2023)
    due = Decimal(_settled(session, raised)["assistance_paid"])
    assert Decimal(second["total"]) == due and second["line_count"] == 1
    disbursement.confirm_batch(_reviewer(session), second["id"])
    assert _office_paid(session, raised) == due and _office_paid(session, voided) == 0
    from app.services import paperwork
    slip = paperwork.slip_content(clerk, visit_id=raised)
    assert slip["visits"][0]["adjustments"] == [] and slip["visits"][0]["original"]["assistance_paid"] == fmt(due)
    assert check_database(session.store.path) == []


def test_a_batch_is_not_cancelled_while_a_top_up_measured_against_it_is_on_another_roster_or_paid(session, family,
                                                                                                 clerk):
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    bills.record_bill(clerk, head, bill(invoice_number="K1"))
    first = disbursement.create_batch(clerk, 2023)
    registry.set_category(session, head, "特困人员", "2023-01-01", None, "民政")
    second = disbursement.create_batch(clerk, 2023)  # takes the 补付
    with pytest.raises(FieldError, match="请先撤销那个批次"):
        disbursement.cancel_batch(clerk, first["id"], "花名册有误")
    disbursement.confirm_batch(_reviewer(session), second["id"])
    with pytest.raises(FieldError, match="本批次不能撤销"):
        disbursement.cancel_batch(clerk, first["id"], "花名册有误")
    assert session.conn.execute("SELECT state FROM disbursement_batches WHERE id = ?",
                                (first["id"],)).fetchone()[0] == "printed"


def test_whoever_recorded_a_bill_of_the_batch_does_not_confirm_its_payment(session, family, clerk):
    """A county that lets its county roles record bills: the 县级审批 who entered one may not confirm the batch paying
    it (duties compared by user id: a namesake is not the same person)."""
    _, head, _ = family
    registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
    county.set_county_records_bills(session, True)
    approver = Session(session.store, users.create_user(Session(session.store, SYSTEM), "shenpi", "县级审批员",
                                                        "县级审批", "340223", "correct-horse"))
    bills.record_bill(approver, head, bill(invoice_number="D1"))
    batch = disbursement.create_batch(clerk, 2023)
    with pytest.raises(FieldError, match="您登记或更正过这个批次中的账单"):
        disbursement.confirm_batch(approver, batch["id"])
    namesake = Session(session.store, users.create_user(Session(session.store, SYSTEM), "shenhe2", clerk.user.display_name,
                                                        "乡镇审核", "340223100", "correct-horse"))
    assert disbursement.confirm_batch(namesake, batch["id"])["state"] == "paid"


def test_a_batch_cancelled_by_the_old_code_is_made_good_by_the_next_batch(session, family, clerk):
    """Before cancel_batch withdrew them, a cancelled batch left its 补付 (or a voided bill's 追回) waiting, measured
    against a 原始 line that no longer counts: the next batch paid only the 补付, or recovered money never paid. A
    database written then is made good by the next batch: each tier's lines add up to what is due."""
    from app.store import records
    from app.store.clock import now as stamp
    from app.store.db import transaction

    raised, voided, first = _printed_then_changed(session, family, clerk)
    with transaction(session.conn):  # as the old cancel_batch left it: the batch cancelled, its 补付/追回 waiting
        records.update(session.conn, clerk.user, "disbursement_batches", first["id"],
                       {"state": "cancelled", "cancelled_by": "旧版本", "cancelled_at": stamp(), "cancel_reason": "重做"},
                       "撤销发放批次：重做")
    second = disbursement.create_batch(clerk, 2023)
    due = Decimal(_settled(session, raised)["assistance_paid"])
    assert Decimal(second["total"]) == due
    disbursement.confirm_batch(_reviewer(session), second["id"])
    assert _office_paid(session, raised) == due and _office_paid(session, voided) == 0
    assert check_database(session.store.path) == []
